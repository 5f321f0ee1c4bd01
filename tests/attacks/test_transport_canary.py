"""Invariant 1, at the socket: nothing planted in a node's data leaves the node.

Planted in ``node-0`` (a hosted node; tenant ``sme-a`` uploads the records through the
node API): unique facility and record ids, value columns with distinctive decimals, one
cell filled to a distinctive facility count; derived from them, the node's exact per-cell
totals and counts, its noiseless statistics contribution, and (after training) its
plaintext round update. Then the node does everything a node does, each over the real
transport, through a relay the test owns between the node's process and its peer
(:mod:`tests.attacks.transport_tap`):

* a real training run over Flower (``gcdt-node supernode`` -> SuperLink with TLS and
  SuperNode auth, ``gcdt-coordinator train``), and a second run the node refuses (its
  privacy budget is spent): the refusal path;
* a real statistics round over the gRPC trust protocol (``gcdt-node submit-statistics``),
  the key holder's ``gcdt-node attest --watch`` on the same relay, and an error path: a
  submission to the closed round;
* node API requests by another tenant (``sme-b``), who guesses ``sme-a``'s record ids.

Every byte node-0's sockets wrote (TLS plaintext, HTTP/2 frames decoded, headers through
HPACK) is searched for every canary in every encoding of
:mod:`tests.attacks.transport_needles`; none may be found.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from coordinator.federation.launch import SuperLinkSpec, start_superlink, stop_process
from governance.policy import write_policy
from governance.policy.models import Consent
from open_models.benchmark_cells import CellCatalogue
from open_models.contract import CELL_KEYS
from tests.attacks.transport_needles import Needles, ungzip, without_ciphertexts
from tests.attacks.transport_tap import Decoded, Relay, client_end, decode_stream, server_end
from tests.trust_setup import Trust, running_trust
from trust_node.federation.supernode import ensure_auth_key
from trust_node.generate import generate
from trust_node.statistics.contributions import contribution_vector, facility_cells
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository

#: Two training runs, a statistics round and the node API, on two loaded cores: 8-10 minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

NODES = ("node-0", "node-1")
YEARS = (2023, 2024)
#: Value columns given distinctive decimals (the ratio columns keep their bounds).
PLANTED_COLUMNS = (
    "production_t",
    "coal_tj",
    "coke_tj",
    "natural_gas_tj",
    "oil_tj",
    "biomass_tj",
    "electricity_mwh",
    "reported_direct_tco2e",
    "verified_direct_tco2e",
)
#: Facilities in the filled cell: a count no other cell of the generated data reaches.
FILLED_CELL_FACILITIES = 23
#: Smallest per-cell count searched for (small counts like 2.0 are everywhere in protocols).
MIN_COUNT_NEEDLE = 10
BIN = Path(sys.executable).parent


# -- the planted data ---------------------------------------------------------------------


def planted_records() -> pd.DataFrame:
    """Generated IN records, one cell filled up, every id and value made unique."""
    frame = generate(["IN"], records=40, seed=23, start_year=YEARS[0], end_year=YEARS[-1]).records
    cell = frame[(frame["sector"] == "cement") & (frame["year"] == YEARS[0])]
    extra = cell.iloc[[i % len(cell) for i in range(FILLED_CELL_FACILITIES - len(cell))]].copy()
    frame = pd.concat([frame, extra], ignore_index=True)
    frame["facility_id"] = [f"CANARYFAC{i:04d}Q" for i in range(len(frame))]
    frame["record_id"] = [f"CANARYREC{i:04d}Z" for i in range(len(frame))]
    for offset, column in enumerate(PLANTED_COLUMNS):
        values = frame[column].astype(float)
        planted = values.round(0) + 0.471293 + offset * 0.010101 + frame.index * 1.3e-5
        frame[column] = planted.where(values.notna() & (values != 0), values)
    return frame


def needles_for(frame: pd.DataFrame) -> Needles:
    needles = Needles()
    for column in ("facility_id", "record_id"):
        for value in frame[column]:
            needles.text(value, f"record {column}")
    for column in PLANTED_COLUMNS:
        for value in frame[column].dropna():
            if value:
                needles.number(float(value), f"record {column}")
    catalogue = CellCatalogue.for_years(YEARS)
    cells = facility_cells(frame, catalogue).groupby(list(CELL_KEYS))
    totals = cells[["production_t", "direct_tco2e", "energy_tj"]].sum()
    for cell, row in totals.iterrows():
        for name, value in row.items():
            needles.number(float(value), f"cell total {name} {cell}")
        needles.vector32(row.to_numpy(), f"cell totals {cell}")
    for cell, count in cells.size().items():
        if count >= MIN_COUNT_NEEDLE:
            needles.number(float(count), f"cell count {cell}", as_text=False)
    assert cells.size().max() >= MIN_COUNT_NEEDLE, "no cell has a count worth searching for"
    for index, value in enumerate(contribution_vector(frame, catalogue)):
        if value and not float(value).is_integer():
            needles.number(float(value), f"noiseless contribution [{index}]")
    return needles


def add_update_needles(needles: Needles, update: Path) -> int:
    """The node's plaintext training update (``round-N.npz``): windows of float32, some text."""
    with np.load(update) as arrays:
        flat = np.concatenate([np.asarray(arrays[k], dtype=np.float32).ravel() for k in arrays])
    for start in range(0, len(flat) - 4, 7):
        needles.vector32(flat[start : start + 4], f"plaintext update [{start}:{start + 4}]")
    for value in flat[:: max(1, len(flat) // 200)]:
        if abs(value) > 1e-4:
            needles.number(float(value), "plaintext update value")
    return len(flat)


# -- processes ------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str, timeout: float = 240, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if ok:
        assert done.returncode == 0, f"{args[:2]}: {done.stdout}\n{done.stderr}"
    return done


class Processes:
    """Long-running parties, each logging to a file, stopped in reverse order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]],
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            stop_process(process)

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


# -- the run --------------------------------------------------------------------------


@dataclass
class Captured:
    frame: pd.DataFrame
    needles: Needles
    trust: list[bytes]  # node-0 -> trust server (every connection)
    fleet: list[bytes]  # node-0's SuperNode -> SuperLink
    api: list[bytes]  # node-0's API -> tenant sme-b
    api_requests: bytes  # what sme-b itself sent (it may echo its own guesses)
    update_values: int
    public_context: Any  # the trust's public CKKS context: what a ciphertext deserialises under


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captured]:
    tmp = tmp_path_factory.mktemp("canary")
    frame = planted_records()
    processes = Processes(tmp / "logs")
    with running_trust(tmp, NODES, NODES, thresholds={"m": 2}) as trust, ExitStack() as stack:
        try:
            yield _run_everything(trust, frame, processes, stack)
        finally:
            processes.stop()


def _run_everything(
    trust: Trust, frame: pd.DataFrame, processes: Processes, stack: ExitStack
) -> Captured:
    node0, node1 = (trust.nodes[n] for n in NODES)
    _consent_to_both(trust)
    _ingest_generated(node1.settings.database_url)
    coordinator = trust.coordinator.home_dir
    tls = coordinator / "tls"
    address = _trust_server(coordinator, processes)
    trust_relay = stack.enter_context(
        Relay(
            ("127.0.0.1", int(address.rsplit(":", 1)[1])),
            downstream_tls=server_end(tls / "cert.pem", tls / "key.pem", ["h2"]),
            upstream_tls=client_end(
                tls / "ca.crt", ["h2"], cert=node0.layout.tls_cert, key=node0.layout.tls_key
            ),
        )
    )
    api, api_relay = _hosted_api(node0.settings.home_dir, frame, processes, stack)
    routes = [(node0, trust_relay.address), (node1, address)]
    for state, route in routes:
        processes.start(
            f"{state.node_id}-attest",
            "gcdt-node",
            "attest",
            "--watch",
            "--poll",
            "2",
            "--address",
            route,
            "--home",
            str(state.settings.home_dir),
        )
    _statistics_round(coordinator, routes, processes)
    fleet_relay, update = _training(trust, processes, stack)
    requests = _other_tenant(api, api_relay, frame)
    needles = needles_for(frame)
    values = add_update_needles(needles, update)
    assert not (trust_relay.errors or fleet_relay.errors or api_relay.errors)
    public = node0.public_key()
    assert public is not None
    return Captured(
        frame=frame,
        needles=needles,
        trust=list(trust_relay.sent()),
        fleet=list(fleet_relay.sent()),
        api=list(api_relay.sent()),
        api_requests=requests,
        update_values=values,
        public_context=public.context,
    )


def _trust_server(coordinator: Path, processes: Processes) -> str:
    """``gcdt-coordinator serve``: the trust server with the statistics service installed."""
    processes.start(
        "coordinator-serve", "gcdt-coordinator", "serve", "--home", str(coordinator), "--port", "0"
    )
    log = processes.logs / "coordinator-serve.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"listening on [\d.]+:(\d+)", log.read_text(errors="replace"))
        if match:
            return f"localhost:{match.group(1)}"
        time.sleep(0.5)
    pytest.fail(f"the trust server did not start\n{processes.tail()}")


def _consent_to_both(trust: Trust) -> None:
    for state in trust.nodes.values():
        policy = state.node_policy
        budget = policy.privacy_budget.model_copy(update={"epsilon": 8.0})
        consent = Consent(default=("training", "statistics"))
        policy = policy.model_copy(update={"consent": consent, "privacy_budget": budget})
        write_policy(policy, state.layout.node_policy, state.identity)


def _ingest_generated(database_url: str) -> None:
    data = generate(["DE"], records=40, seed=5, start_year=YEARS[0], end_year=YEARS[-1])
    repo = SqlRecordRepository.from_url(database_url)
    repo.add_batch(OPERATOR_TENANT, data.records, source="test", sha256="0" * 64)
    repo.engine.dispose()


@dataclass
class HostedApi:
    base: str
    tokens: dict[str, str]
    ca: Path


def _hosted_api(
    home: Path, frame: pd.DataFrame, processes: Processes, stack: ExitStack
) -> tuple[HostedApi, Relay]:
    """node-0's API over HTTPS; sme-a uploads the planted records and consents to both uses."""
    port = _free_port()
    processes.start("node-0-api", "gcdt-node", "serve", "--home", str(home), "--port", str(port))
    ca = home / "api-tls" / "root" / "ca.crt"
    tokens = {
        name: json.loads(
            _cli("gcdt-node", "tenant", "add", name, "--home", str(home), "--json").stdout
        )["token"]
        for name in ("sme-a", "sme-b")
    }
    api = HostedApi(f"https://127.0.0.1:{port}", tokens, ca)
    _wait_https(api, processes)
    with _tenant(api.base, tokens["sme-a"], ca) as sme_a:
        upload = sme_a.post(
            "/v1/records",
            params={"name": "planted.csv"},
            content=frame.to_csv(index=False).encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert upload.status_code == 201, upload.text
        consent = sme_a.put("/v1/consent", json={"scopes": ["training", "statistics"]})
        assert consent.status_code == 200, consent.text
    relay = stack.enter_context(
        Relay(
            ("127.0.0.1", port),
            upstream_tls=client_end(ca, ["http/1.1"]),
            tapped_is_client=False,
        )
    )
    return api, relay


def _tenant(base: str, token: str, ca: Path | None) -> httpx.Client:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca)) if ca else False
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=60, verify=verify)


def _wait_https(api: HostedApi, processes: Processes) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with _tenant(api.base, "", api.ca) as client:
                if client.get("/health").status_code == 200:
                    return
        except (httpx.HTTPError, OSError):
            time.sleep(0.5)
    pytest.fail(f"node-0's API never answered HTTPS\n{processes.tail()}")


def _statistics_round(
    coordinator: Path, nodes: list[tuple[Any, str]], processes: Processes
) -> None:
    """A real round over gRPC; then node-0 submits to the closed round (the error path)."""
    home = ["--home", str(coordinator)]
    years = [arg for y in YEARS for arg in ("--years", str(y))]
    terms = json.loads(
        _cli("gcdt-coordinator", "statistics-round", "open", *years, *home, "--json").stdout
    )
    round_id = str(terms["round_id"])
    workers = [
        processes.start(
            f"{state.node_id}-statistics",
            "gcdt-node",
            "submit-statistics",
            "--home",
            str(state.settings.home_dir),
            "--address",
            address,
            "--no-attest",
            "--json",
        )
        for state, address in nodes
    ]
    deadline = time.monotonic() + 300
    while True:
        status = json.loads(
            _cli("gcdt-coordinator", "statistics-round", "status", round_id, *home, "--json").stdout
        )
        if set(status.get("submitted", [])) >= set(NODES):
            break
        assert time.monotonic() < deadline, f"not every node submitted: {status}"
        assert all(w.poll() in (None, 0) for w in workers), processes.tail()
        time.sleep(1)
    _cli("gcdt-coordinator", "statistics-round", "close", round_id, *home, "--json")
    for worker in workers:
        assert worker.wait(timeout=300) == 0, processes.tail()
    _cli(
        "gcdt-coordinator",
        "statistics-round",
        "publish",
        round_id,
        "--wait",
        "240",
        *home,
        "--json",
        timeout=300,
    )
    node0, address = nodes[0]
    late = _cli(
        "gcdt-node",
        "submit-statistics",
        "--home",
        str(node0.settings.home_dir),
        "--address",
        address,
        "--round",
        round_id,
        "--no-attest",
        "--json",
        ok=False,
    )
    assert late.returncode != 0, "a submission to a closed round was accepted"


def _training(trust: Trust, processes: Processes, stack: ExitStack) -> tuple[Relay, Path]:
    """One published run with node-0 behind the relay, then a run node-0 refuses (budget)."""
    coordinator = trust.coordinator.home_dir
    spec = SuperLinkSpec(coordinator, port=_free_port())
    processes.started.append(start_superlink(spec))
    tls = coordinator / "tls"
    fleet_relay = stack.enter_context(
        Relay(
            ("127.0.0.1", spec.port),
            downstream_tls=server_end(tls / "cert.pem", tls / "key.pem", ["h2"]),
            upstream_tls=client_end(tls / "ca.crt", ["h2"]),
        )
    )
    port = ["--port", str(spec.port)]
    for node_id, state in trust.nodes.items():
        home = state.settings.home_dir
        _, public = ensure_auth_key(home)
        _cli(
            "gcdt-coordinator",
            "register-supernode",
            str(public),
            "--name",
            node_id,
            "--home",
            str(coordinator),
            *port,
        )
        superlink = f"127.0.0.1:{fleet_relay.port}" if node_id == NODES[0] else spec.address
        processes.start(
            f"{node_id}-supernode",
            "gcdt-node",
            "supernode",
            "--superlink",
            superlink,
            "--port",
            str(_free_port()),
            "--home",
            str(home),
        )
    result = json.loads(_train(coordinator, port).stdout)
    assert result.get("published"), f"training published nothing: {result}\n{processes.tail()}"
    version = result["published"][-1]["version"]
    node0 = trust.nodes[NODES[0]]
    [update] = (node0.settings.home_dir / "federation" / version).glob("round-*.npz")
    policy = node0.node_policy  # budget spent: node-0 answers the next run with a refusal
    budget = policy.privacy_budget.model_copy(update={"epsilon": 1e-6})
    write_policy(
        policy.model_copy(update={"privacy_budget": budget}),
        node0.layout.node_policy,
        node0.identity,
    )
    before = sum(len(b) for b in fleet_relay.sent())
    _train(coordinator, port, timeout="120", ok=False)
    assert sum(len(b) for b in fleet_relay.sent()) > before, "the refused run sent nothing"
    return fleet_relay, update


def _train(
    coordinator: Path, port: list[str], *, timeout: str = "200", ok: bool = True
) -> subprocess.CompletedProcess[str]:
    return _cli(
        "gcdt-coordinator",
        "train",
        "--rounds",
        "1",
        "--quorum",
        "2",
        "--t",
        "2",
        "--min-nodes",
        "2",
        "--round-timeout",
        "90",
        "--timeout",
        timeout,
        "--home",
        str(coordinator),
        *port,
        "--json",
        timeout=float(timeout) + 90,
        ok=ok,
    )


def _other_tenant(api: HostedApi, relay: Relay, frame: pd.DataFrame) -> bytes:
    """sme-b, through the relay, asks for everything and for sme-a's records by id."""
    guesses = list(frame["record_id"].iloc[:3])
    paths = ["/v1/records", "/v1/estimates", "/v1/exports/pact", "/v1/exports/cbam-summary.csv"]
    for record in guesses:
        paths += [f"/v1/records/{record}{tail}" for tail in ("", "/versions", "/estimate", "/pact")]
    paths += [f"/v1/exports/cbam-summary.csv?facility_id={frame['facility_id'].iloc[0]}"]
    paths += ["/operator/tenants", "/v1/consent/history"]
    statuses = []
    with _tenant(f"http://127.0.0.1:{relay.port}", api.tokens["sme-b"], None) as sme_b:
        for path in paths:
            statuses.append(sme_b.get(path).status_code)
        statuses.append(
            sme_b.post(
                "/v1/records",
                params={"name": "bad.csv"},
                content=b"record_id\nnot-a-valid-file\n",
                headers={"Content-Type": "text/csv"},
            ).status_code
        )
    assert 200 in statuses and 404 in statuses, statuses
    return b"\n".join(bytes(c.back) for c in relay.connections)


# -- the checks -----------------------------------------------------------------------


def _is_ciphertext(blob: bytes, context: Any) -> bool:
    import tenseal as ts

    try:
        ts.ckks_vector_from(context, blob)
    except Exception:  # TenSEAL raises plain ValueError/RuntimeError on what is not one
        return False
    return True


@dataclass
class Haystack:
    wide: bytes  # raw plaintext + decoded headers + messages: text and float64 needles
    narrow: bytes  # decoded, ciphertexts cut out: float32 needles
    ciphertexts: int
    headers: list[bytes]
    messages: int


def grpc_haystack(streams: list[bytes], context: Any) -> Haystack:
    wide, narrow, headers = bytearray(), bytearray(), []
    ciphertexts = messages = 0
    for stream in streams:
        decoded: Decoded = decode_stream(stream)
        headers += decoded.headers
        wide += stream + b"\x00" + b"\n".join(decoded.headers)
        narrow += b"\n".join(decoded.headers)
        for message in decoded.messages:
            body = ungzip(message)
            kept, cut = without_ciphertexts(body, lambda b: _is_ciphertext(b, context))
            wide += b"\x00" + body
            narrow += b"\x00" + kept
            ciphertexts += cut
            messages += 1
    return Haystack(bytes(wide), bytes(narrow), ciphertexts, headers, messages)


@pytest.fixture(scope="module")
def haystacks(captured: Captured) -> dict[str, Haystack]:
    context = captured.public_context
    api = b"\x00".join(captured.api)
    return {
        "trust gRPC": grpc_haystack(captured.trust, context),
        "Flower Fleet": grpc_haystack(captured.fleet, context),
        "node API": Haystack(api, api, 0, [], len(captured.api)),
    }


def test_no_canary_leaves_node_0_on_any_socket(
    captured: Captured, haystacks: dict[str, Haystack]
) -> None:
    assert len(captured.needles.wide) > 500 and captured.update_values > 100
    leaks: dict[str, list[str]] = {}
    for channel, hay in haystacks.items():
        needles = captured.needles
        if channel == "node API":  # sme-b's own guesses may come back to it: not a leak
            needles = Needles(
                {n: why for n, why in needles.wide.items() if n not in captured.api_requests},
                {n: why for n, why in needles.narrow.items() if n not in captured.api_requests},
            )
        found = needles.found(hay.wide, hay.narrow)
        if found:
            leaks[channel] = found[:10]
    assert not leaks, f"planted values left node-0: {leaks}"


def test_the_tap_saw_plaintext_of_every_flow(haystacks: dict[str, Haystack]) -> None:
    """The search ran over what the protocols carried, not over TLS records."""
    trust, fleet, api = haystacks["trust gRPC"], haystacks["Flower Fleet"], haystacks["node API"]
    assert any(b":path: /gcdt.trust.v1." in h for h in trust.headers), trust.headers[:5]
    assert trust.ciphertexts >= 1, "the statistics submission's ciphertexts were not seen"
    assert any(b"/fleet/push-messages" in h for h in fleet.headers), fleet.headers[:5]
    assert b'"ciphertexts"' in fleet.wide, "the released training frame was not seen"
    assert b"HTTP/1.1 200" in api.wide and b"HTTP/1.1 404" in api.wide


def test_the_search_finds_a_planted_value_in_each_encoding(captured: Captured) -> None:
    """The check itself can fail: each encoding of a planted value is among the needles."""
    row = captured.frame.iloc[3]
    value = float(row["production_t"])
    for leak in (
        str(row["facility_id"]).encode(),
        repr(value).encode(),
        struct.pack("<d", value),
        struct.pack(">d", value),
    ):
        assert captured.needles.found(b"..." + leak + b"...", b""), leak
    assert captured.needles.found(b"", b"..." + struct.pack("<f", value) + b"...")
