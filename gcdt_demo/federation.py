"""The local federation, step by step, with the commands each party would run.

Layout under the work directory::

    coordinator/          the coordinator's GCDT_HOME (trust root, public context, log)
    nodes/<id>/           each node's GCDT_HOME (keys, policy, SQLite store, ledger)
    logs/<party>.log      every command's output
    log-bundle.json       the exported transparency log (verify with gcdt-audit)
    anchors.json          the auditor's pins: log key, the nodes' witness keys, quorum
    checkpoint.txt        the latest checkpoint, cosigned by every node as a witness
    proofs/*.tlog-proof   one offline proof per publication (gcdt-audit verify-proof)
    witness/              the add-checkpoint requests and the nodes' cosignatures
    summary.json          where everything is, for scripts and auditors
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcdt_demo.processes import DemoError, Runner, Service, ServiceGroup

#: Synthetic records per jurisdiction in the evaluation set published with the model.
EVALUATION_RECORDS = 40

#: Jurisdictions the demo's nodes stand for, in order; the last node is the hosted one.
DEFAULT_JURISDICTIONS = ("CN", "IN", "BR", "DE", "TR", "US", "ZA", "JP")


@dataclass(frozen=True)
class DemoConfig:
    workdir: Path
    nodes: int = 4
    rounds: int = 2
    records: int = 300
    seed: int = 0
    years: tuple[int, ...] = (2023, 2024)
    statistics_epsilon: float = 2.0
    portal_port: int = 8000

    @property
    def node_ids(self) -> list[str]:
        return [f"node-{j.lower()}" for j in DEFAULT_JURISDICTIONS[: self.nodes]]

    @property
    def hosted_node(self) -> str:
        return self.node_ids[-1]


@dataclass
class NodeInfo:
    node_id: str
    jurisdiction: str
    home: Path
    hosted: bool = False
    tenants: dict[str, str] = field(default_factory=dict)  # tenant -> token

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.home / 'gcdt.sqlite'}"


@dataclass
class DemoState:
    config: DemoConfig
    coordinator: Path
    nodes: list[NodeInfo]
    address: str = ""
    published_model: dict[str, Any] | None = None
    benchmark: dict[str, Any] | None = None
    bundle: Path | None = None
    anchors: Path | None = None
    checkpoint: Path | None = None
    proofs: dict[str, str] = field(default_factory=dict)
    portal_url: str = ""
    hosted_api: str = ""
    hosted_api_ca: str = ""
    pins: list[str] = field(default_factory=list)  # `gcdt-node enrol` flags, out of band
    listeners: list[dict[str, Any]] = field(default_factory=list)

    def listen(self, party: str, serves: list[str], address: str, **how: str) -> None:
        """Record a socket a party listens on (``summary.json``'s ``listeners``)."""
        self.listeners.append({"party": party, "serves": serves, "address": address, **how})


class Federation:
    """Drives the parties' commands; ``run(progress)`` does the whole demo."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        logs = config.workdir / "logs"
        self.runner = Runner(logs)
        self.services = ServiceGroup(logs)
        codes = DEFAULT_JURISDICTIONS[: config.nodes]
        self.state = DemoState(
            config=config,
            coordinator=config.workdir / "coordinator",
            nodes=[
                NodeInfo(
                    node_id,
                    code,
                    config.workdir / "nodes" / node_id,
                    hosted=node_id == config.hosted_node,
                )
                for node_id, code in zip(config.node_ids, codes, strict=True)
            ],
        )

    # -- helpers ------------------------------------------------------------------------
    def _each_node(self, action: Callable[[NodeInfo], Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(action, self.state.nodes))

    def _node(self, node: NodeInfo, *args: str, name: str | None = None) -> str:
        return self.runner.run(name or node.node_id, "gcdt-node", *args, "--home", str(node.home))

    def _coord(self, *args: str) -> str:
        return self.runner.run(
            "coordinator", "gcdt-coordinator", *args, "--home", str(self.state.coordinator)
        )

    def _coord_json(self, *args: str) -> Any:
        return self.runner.run_json(
            "coordinator", "gcdt-coordinator", *args, "--home", str(self.state.coordinator)
        )

    # -- steps ------------------------------------------------------------------------
    def set_up_parties(self) -> None:
        """Trust root; each node's keys, policy and enrolment, approved by the coordinator.

        The coordinator's two fingerprints (trust root, identity key) reach the nodes the way
        they would out of band: read from what `init` printed, passed to `gcdt-node enrol`.
        """
        init = self._coord_json("init", "--json")
        self.state.pins = [
            "--expect-ca-fingerprint",
            str(init["trust_root_fingerprint_sha256"]),
            "--expect-coordinator-fingerprint",
            str(init["identity_key_fingerprint_sha256"]),
        ]

        def join(node: NodeInfo) -> None:
            self.runner.run_json(
                node.node_id,
                "gcdt-node",
                "init",
                "--home",
                str(node.home),
                "--node-id",
                node.node_id,
                "--jurisdiction",
                node.jurisdiction,
            )

        self._each_node(join)
        for node in self.state.nodes:  # one approver: the coordinator's store is SQLite
            self._coord_json(
                "enrol",
                str(node.home / "enrolment" / "request.json"),
                "--out",
                str(node.home / "response.json"),
            )
        self._each_node(
            lambda n: self._node(n, "enrol", str(n.home / "response.json"), *self.state.pins)
        )
        self.found_trust()

    def found_trust(self) -> None:
        """Version 1 of the trust policy: every node a member and a holder of key group
        ``g1``, signed by every node with its own identity key; only then in force."""
        proposal = self.state.coordinator / "founding-policy.toml"
        holders = ",".join(n.node_id for n in self.state.nodes)
        self._coord_json(
            "policy", "propose", "--out", str(proposal), "--key-group", f"g1={holders}"
        )

        def sign(node: NodeInfo) -> str:
            out = node.home / "founding-policy.sig.json"
            self.runner.run_json(
                node.node_id,
                "gcdt-node",
                "policy",
                "sign-trust",
                str(proposal),
                "--out",
                str(out),
                "--home",
                str(node.home),
            )
            return str(out)

        signatures = self._each_node(sign)
        args = [arg for sig in signatures for arg in ("--signature", sig)]
        self._coord_json("policy", "apply", str(proposal), *args)

    def load_data(self) -> None:
        """Each node generates its jurisdiction's records and ingests them; on the hosted
        node two SME tenants upload through the node API and consent to both uses."""

        def load(node: NodeInfo) -> None:
            data = node.home / "records.csv"
            self.runner.run(
                node.node_id,
                "gcdt-node",
                "generate",
                str(data),
                "--jurisdictions",
                node.jurisdiction,
                "--records",
                str(self.config.records),
                "--seed",
                str(self.config.seed),
            )
            if node.hosted:
                self._load_tenants(node, data)
            else:
                self._node(node, "ingest", str(data))

        self._each_node(load)

    def _load_tenants(self, node: NodeInfo, data: Path) -> None:
        import httpx
        import pandas as pd

        port = free_port()
        api = self.services.start(
            f"{node.node_id}-api",
            "gcdt-node",
            "serve",
            "--home",
            str(node.home),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        )
        # HTTPS from the node's own API root (`gcdt-node serve` makes it; tenants pin it).
        base = f"https://127.0.0.1:{port}"
        ca = str(node.home / "api-tls" / "root" / "ca.crt")
        _wait_http(f"{base}/health", api, verify=ca)
        frame = pd.read_csv(data, dtype=str, keep_default_na=False)
        halves = {"sme-kilns": frame.iloc[::2], "sme-steel": frame.iloc[1::2]}
        for tenant, part in halves.items():
            added = self.runner.run_json(
                node.node_id, "gcdt-node", "tenant", "add", tenant, "--home", str(node.home)
            )
            node.tenants[tenant] = added["token"]
            headers = {"Authorization": f"Bearer {added['token']}"}
            with httpx.Client(
                base_url=base, headers=headers, timeout=120, verify=_trusting(ca)
            ) as sme:
                upload = sme.post(
                    "/v1/records",
                    params={"name": f"{tenant}.csv"},
                    content=part.to_csv(index=False).encode(),
                    headers={"Content-Type": "text/csv"},
                )
                if upload.status_code != 201:
                    raise DemoError(f"{tenant} upload refused: {upload.text[:500]}")
                consent = sme.put("/v1/consent", json={"scopes": ["training", "statistics"]})
                if consent.status_code != 200:
                    raise DemoError(f"{tenant} consent refused: {consent.text[:500]}")
        self.state.hosted_api = base
        self.state.hosted_api_ca = ca
        self.state.listen(
            node.node_id, ["node API"], f"127.0.0.1:{port}", scheme="https", ca=ca, tls="server"
        )

    def start_trust_server(self) -> None:
        server = self.services.start(
            "coordinator-server",
            "gcdt-coordinator",
            "serve",
            "--home",
            str(self.state.coordinator),
            "--port",
            "0",
        )
        match = server.wait_for(r"trust server listening on [\d.]+:(\d+)", timeout=180)
        self.state.address = f"localhost:{match.group(1)}"
        self.state.listen(
            "coordinator",
            ["trust gRPC"],
            self.state.address,
            scheme="grpcs",
            tls="mutual",
            ca=str(self.state.coordinator / "tls" / "ca.crt"),
        )

    def key_ceremony(self) -> None:
        first = self.state.nodes[0]
        self.runner.run_json(
            first.node_id,
            "gcdt-node",
            "key-ceremony",
            "--home",
            str(first.home),
            "--address",
            self.state.address,
        )
        self._each_node(
            lambda n: self.runner.run_json(
                n.node_id,
                "gcdt-node",
                "fetch-keys",
                "--home",
                str(n.home),
                "--address",
                self.state.address,
            )
        )

    def start_attestation(self) -> None:
        """Each key holder pulls the coordinator's decryption requests and attests them
        (training round sums and statistics alike) for as long as the demo runs."""
        for node in self.state.nodes:  # every demo node is a key holder
            self.services.start(
                f"{node.node_id}-attest",
                "gcdt-node",
                "attest",
                "--watch",
                "--home",
                str(node.home),
                "--address",
                self.state.address,
            )

    def train(self) -> None:
        """SuperLink with TLS and SuperNode auth; each node's SuperNode; CKKS-encrypted DP
        rounds; the model is published when t key holders attest the same sum."""
        port = free_port()
        self._start_flower(port)
        evaluation = self._evaluation_set()
        holders = len(self.state.nodes)
        result = self.runner.run_json(
            "coordinator-train",
            "gcdt-coordinator",
            "train",
            "--home",
            str(self.state.coordinator),
            "--evaluation-set",
            str(evaluation),
            "--port",
            str(port),
            "--rounds",
            str(self.config.rounds),
            "--quorum",
            str(holders - 1),
            "--min-nodes",
            str(holders),
            "--t",
            "2",
            "--round-timeout",
            "180",
            "--timeout",
            "900",
            timeout=960,
        )
        published = result.get("published") or []
        if not published:
            raise DemoError(f"training finished without a published model: {result}")
        self.state.published_model = published[-1]

    def _start_flower(self, port: int) -> None:
        """The SuperLink on loopback ``port`` with its gate for nodes (mutual TLS, Fleet
        routes only) on a port of its own, every node's SuperNode key registered, the
        SuperNodes dialling the gate."""
        gate = free_port()
        self.services.start(
            "superlink",
            "gcdt-coordinator",
            "superlink",
            "--home",
            str(self.state.coordinator),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--gate-host",
            "127.0.0.1",
            "--gate-port",
            str(gate),
        )
        _wait_tcp(port, self.services.services[-1])
        _wait_tcp(gate, self.services.services[-1])
        self.state.listen(
            "coordinator",
            ["Fleet", "Control", "ServerAppIo"],  # Flower 1.41: one HTTP port, loopback only
            f"127.0.0.1:{port}",
            scheme="https",
            tls="server",
            ca=str(self.state.coordinator / "tls" / "ca.crt"),
        )
        self.state.listen(
            "coordinator",
            ["Fleet gate"],  # enrolled nodes' certificates only, Fleet routes only
            f"127.0.0.1:{gate}",
            scheme="https",
            tls="mutual",
            ca=str(self.state.coordinator / "tls" / "ca.crt"),
        )
        for node in self.state.nodes:
            key = self._node(node, "supernode", "--superlink", f"127.0.0.1:{gate}", "--print-key")
            self._coord(
                "register-supernode",
                key.strip().splitlines()[-1],
                "--name",
                node.node_id,
                "--port",
                str(port),
            )
        for node in self.state.nodes:
            clientappio, uplink = free_port(), free_port()
            self.state.listen(
                node.node_id, ["ClientAppIo"], f"127.0.0.1:{clientappio}", scheme="http", tls="none"
            )
            self.state.listen(  # its certificate is made at each start, for 127.0.0.1 only
                node.node_id,
                ["Fleet uplink"],
                f"127.0.0.1:{uplink}",
                scheme="https",
                tls="server",
                ca=str(node.home / "flower" / "uplink" / "cert.pem"),
                server_name="127.0.0.1",
            )
            self.services.start(
                f"{node.node_id}-supernode",
                "gcdt-node",
                "supernode",
                "--home",
                str(node.home),
                "--superlink",
                f"127.0.0.1:{gate}",
                "--port",
                str(clientappio),
                "--uplink-port",
                str(uplink),
            )

    def _evaluation_set(self) -> Path:
        """The published evaluation set: synthetic, from a seed no node used for its data."""
        evaluation = self.state.coordinator / "evaluation_set.json"
        self.runner.run(
            "coordinator",
            "gcdt-node",
            "evaluation-set",
            str(evaluation),
            "--jurisdictions",
            ",".join(n.jurisdiction for n in self.state.nodes),
            "--records",
            str(EVALUATION_RECORDS),
            "--seed",
            str(self.config.seed + 9001),
        )
        return evaluation

    def statistics_round(self) -> None:
        years: list[str] = []
        for year in self.config.years:
            years += ["--years", str(year)]
        terms = self._coord_json(
            "statistics-round", "open", *years, "--epsilon", str(self.config.statistics_epsilon)
        )
        round_id = str(terms["round_id"])
        workers = [
            self.services.start(
                f"{n.node_id}-statistics",
                "gcdt-node",
                "submit-statistics",
                "--home",
                str(n.home),
                "--address",
                self.state.address,
                "--no-attest",  # the key holders' `gcdt-node attest --watch` attests
                "--json",
            )
            for n in self.state.nodes
        ]
        deadline = time.monotonic() + 300
        while True:
            status = self._coord_json("statistics-round", "status", round_id)
            if len(status.get("submitted", [])) >= len(self.state.nodes):
                break
            dead = [w for w in workers if w.process.poll() not in (None, 0)]
            if dead:
                raise DemoError(f"{dead[0].name} failed; log: {dead[0].log}")
            if time.monotonic() > deadline:
                raise DemoError(f"statistics round {round_id}: not every node submitted: {status}")
            time.sleep(1)
        self._coord_json("statistics-round", "close", round_id)
        for worker in workers:
            worker.process.wait(timeout=300)
            if worker.process.returncode != 0:
                raise DemoError(f"{worker.name} failed; log: {worker.log}")
        self.state.benchmark = self._coord_json(
            "statistics-round", "publish", round_id, "--wait", "240"
        )

    def witness_log(self) -> None:
        """Every node cosigns the latest checkpoint (``gcdt-node witness cosign``), after
        checking it against the last one it cosigned; the auditor's anchors file pins the
        log key and the nodes' witness keys, with a quorum of two."""
        work = self.config.workdir / "witness"
        work.mkdir(parents=True, exist_ok=True)
        log_key = work / "log.vkey"
        log_key.write_text(self._coord("log", "key"))
        self._coord("log", "checkpoint")
        witness_keys = []
        for n in self.state.nodes:
            request = work / f"{n.node_id}.request"
            self._coord("log", "witness-request", "--out", str(request), "--old", "0")
            home = ("--home", str(n.home))
            witness_keys.append(
                self.runner.run(n.node_id, "gcdt-node", "witness", "key", *home).strip()
            )
            line = self.runner.run(
                n.node_id,
                "gcdt-node",
                "witness",
                "cosign",
                str(request),
                "--log-key",
                str(log_key),
                *home,
            )
            response = work / f"{n.node_id}.cosignature"
            response.write_text(line)
            self._coord("log", "add-cosignatures", str(response))
        anchors = {
            "format": "gcdt-anchors/1",
            "log": log_key.read_text().strip(),
            "witnesses": witness_keys,
            "quorum": min(2, len(witness_keys)),
        }
        self.state.anchors = self.config.workdir / "anchors.json"
        self.state.anchors.write_text(json.dumps(anchors, indent=1) + "\n")
        self.state.checkpoint = self.config.workdir / "checkpoint.txt"
        self.state.checkpoint.write_text(self._coord("log", "checkpoint"))

    def export_and_verify_log(self) -> None:
        self.witness_log()
        anchors = ("--anchors", str(self.state.anchors))
        bundle = self.config.workdir / "log-bundle.json"
        self._coord("statistics-round", "export-log", str(bundle))
        self.runner.run_json("auditor", "gcdt-audit", "verify-log", str(bundle), *anchors)
        if self.state.benchmark:
            self.runner.run_json(
                "auditor",
                "gcdt-audit",
                "verify-benchmark",
                str(self.state.benchmark["benchmark_id"]),
                "--bundle",
                str(bundle),
                *anchors,
            )
        self.state.bundle = bundle
        self._export_proofs(anchors)

    def _export_proofs(self, anchors: tuple[str, str]) -> None:
        """One ``.tlog-proof`` per publication, each verified offline with the anchors only."""
        published = {
            "benchmark": (self.state.benchmark or {}).get("log_index"),
            "model": (self.state.published_model or {}).get("log_index"),
        }
        for name, index in published.items():
            if not isinstance(index, int):
                continue
            path = self.config.workdir / "proofs" / f"{name}-{index}.tlog-proof"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._coord("log", "proof", str(index), "--out", str(path))
            self.runner.run_json("auditor", "gcdt-audit", "verify-proof", str(path), *anchors)
            self.state.proofs[name] = str(path)

    def start_portal(self) -> None:
        port = _port_or_free(self.config.portal_port)
        portal = self.services.start(
            "portal",
            "gcdt-coordinator",
            "portal",
            "--home",
            str(self.state.coordinator),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        )
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/", portal)
        self.state.portal_url = base + "/"
        self.state.listen("coordinator", ["portal"], f"127.0.0.1:{port}", scheme="http", tls="none")

    def verify_model(self) -> None:
        """What an auditor runs against the portal: the model's hash is in the log, its
        rounds have t matching signed attestations, its card's claims match the log, and
        its published evaluation reproduces on the published evaluation set."""
        model = self.state.published_model
        if not (model and self.state.portal_url):
            raise DemoError("no published model or no portal to verify it against")
        portal = self.state.portal_url.rstrip("/")
        pinned = ("--anchors", str(self.state.anchors)) if self.state.anchors else ()
        for verb, extra in (("verify-model", ("--strict", *pinned)), ("reproduce-eval", ())):
            self.runner.run_json(
                "auditor",
                "gcdt-audit",
                verb,
                str(model["model_id"]),
                "--portal",
                portal,
                "--version",
                str(model["version"]),
                *extra,
                timeout=300,
            )

    def model_card_url(self) -> str | None:
        model = self.state.published_model
        if not (model and self.state.portal_url):
            return None
        return f"{self.state.portal_url}models/{model['model_id']}/{model['version']}"

    def summary(self) -> dict[str, Any]:
        s = self.state
        return {
            "portal_url": s.portal_url or None,
            "model_card_url": self.model_card_url(),
            "log_bundle": str(s.bundle) if s.bundle else None,
            "anchors": str(s.anchors) if s.anchors else None,
            "checkpoint": str(s.checkpoint) if s.checkpoint else None,
            "proofs": s.proofs,
            "published_model": s.published_model,
            "benchmark_id": s.benchmark.get("benchmark_id") if s.benchmark else None,
            "trust_server": s.address,
            "hosted_node_api": s.hosted_api or None,
            "hosted_node_api_ca": s.hosted_api_ca or None,
            # Every socket a party listens on while the demo serves, so a script can probe
            # each: party, what it serves, host:port, scheme, TLS kind and the CA to verify.
            "listeners": s.listeners,
            "coordinator_home": str(s.coordinator),
            "nodes": [
                {
                    "node_id": n.node_id,
                    "jurisdiction": n.jurisdiction,
                    "home": str(n.home),
                    "database_url": n.database_url,
                    "hosted": n.hosted,
                    "tenants": sorted(n.tenants),
                }
                for n in s.nodes
            ],
            "logs": str(self.config.workdir / "logs"),
        }

    def write_summary(self, path: Path) -> Path:
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")
        return path


def free_port() -> int:
    """A loopback port nobody listens on now (the service binds it right after)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_tcp(port: int, service: Service, timeout: float = 120) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise DemoError(f"{service.name} exited before it was ready; log: {service.log}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise DemoError(f"{service.name}: port {port} not open within {timeout:.0f} s")


def _port_or_free(port: int) -> int:
    """``port`` if nothing listens there (a stable URL for people), else any free one."""
    import socket

    if port:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    return free_port()


def _trusting(ca: str) -> ssl.SSLContext:
    """A client TLS context that trusts only the CA in file ``ca`` (hostname checked)."""
    return ssl.create_default_context(cafile=ca)


def _wait_http(url: str, service: Service, timeout: float = 120, verify: str = "") -> None:
    """Until ``url`` answers 200; ``verify``: the CA file to check its certificate with."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise DemoError(f"{service.name} exited before it was ready; log: {service.log}")
        try:
            checked = _trusting(verify) if verify else True
            if httpx.get(url, timeout=2, verify=checked).status_code == 200:
                return
        except (httpx.HTTPError, OSError):  # OSError: the CA file is not written yet
            pass
        time.sleep(0.5)
    raise DemoError(f"{service.name}: {url} not ready within {timeout:.0f} s")
