"""The whole trust in one command, smaller: every party a process, as README command (1).

Asserts what the main job promises: a model and a benchmark were published, every
log entry verifies offline, and the coordinator's state directory holds no raw record value
and no CKKS secret key. The demo runs as people run it (serving until stopped), so its
``summary.json`` listeners are probed while every party is up, then it is stopped as
Ctrl-C / SIGTERM stops it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

BIN = Path(sys.executable).parent


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


#: The demo takes 4-5 minutes on two idle cores; a loaded machine has taken over 10.
DEMO_TIMEOUT_S = 1200
#: The module's tests share one demo run, which the first test's set-up waits for.
pytestmark = pytest.mark.timeout(DEMO_TIMEOUT_S + 300)
DEMO_OPTIONS = ("--nodes", "3", "--rounds", "1", "--records", "80", "--portal-port", "0")


@pytest.fixture(scope="module")
def demo(serving: tuple[Path, int]) -> Path:
    return serving[0]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """``gcdt-demo`` serving (as README command 1 runs it) until the module's tests are done."""
    workdir = tmp_path_factory.mktemp("demo") / "run"
    output = workdir.parent / "demo.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    with output.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "gcdt-demo"), "--workdir", str(workdir), *DEMO_OPTIONS],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_serving(process, output, workdir)
        yield workdir, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 130, output.read_text()[-3000:]


def _wait_serving(process: subprocess.Popen[str], output: Path, workdir: Path) -> None:
    deadline = time.monotonic() + DEMO_TIMEOUT_S
    while "Servers stay up" not in output.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            logs = (
                "\n".join(
                    f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                    for p in sorted((workdir / "logs").glob("*.log"))
                )
                if (workdir / "logs").exists()
                else ""
            )
            pytest.fail(f"the demo is not serving:\n{output.read_text()[-5000:]}\n{logs}")
        time.sleep(2)
    assert "Where to look" in output.read_text()


@pytest.mark.slow
def test_model_and_benchmark_published_and_log_verifies(demo: Path) -> None:
    summary = json.loads((demo / "summary.json").read_text())
    assert summary["published_model"]["content_hash"].startswith("sha256:")
    assert summary["benchmark_id"]
    assert summary["portal_url"].startswith("http://127.0.0.1:")
    assert len(summary["nodes"]) == 3 and sum(n["hosted"] for n in summary["nodes"]) == 1
    for node in summary["nodes"]:
        assert Path(node["home"]).is_dir() and node["database_url"].startswith("sqlite:///")
    anchors = ("--anchors", summary["anchors"])
    verified = _run(
        "gcdt-audit", "verify-log", summary["log_bundle"], *anchors, "--json", timeout=120
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    # every node witnessed the latest checkpoint; every publication has an offline proof
    assert len(report["witnesses"]) == len(summary["nodes"])
    assert Path(summary["checkpoint"]).read_text().count("— gcdt-witness/") == 3
    assert set(summary["proofs"]) == {"benchmark", "model"}
    for proof in summary["proofs"].values():
        checked = _run("gcdt-audit", "verify-proof", proof, *anchors, "--json", timeout=120)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    entries = json.loads(Path(summary["log_bundle"]).read_text())["entries"]
    assert report["ok"] is True and len(entries) > 10
    kinds = {e["kind"] for e in entries}
    assert {"enrolment", "publication"} <= kinds


@pytest.mark.slow
def test_coordinator_holds_no_record_value_and_no_secret_key(demo: Path) -> None:
    import tenseal as ts

    coordinator = demo / "coordinator"
    blobs = [p.read_bytes() for p in coordinator.rglob("*") if p.is_file()]
    assert blobs
    records = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in (demo / "nodes").glob("*/records.csv")
    )
    # Long identifiers and full-precision values are unique enough to be canaries.
    canaries = {r for r in records["record_id"] if len(r) > 12}
    canaries |= {
        v
        for col in ("production_t", "coal_tj", "electricity_mwh")
        for v in records[col]
        if len(v) >= 7
    }
    assert len(canaries) > 100
    leaked = {c for c in canaries for blob in blobs if c.encode() in blob}
    assert not leaked, f"raw record values in the coordinator's state: {sorted(leaked)[:5]}"
    contexts = 0
    for where, blob in _blobs(coordinator):
        try:
            context = ts.context_from(blob)
        except Exception:
            continue  # not a TenSEAL context
        contexts += 1
        assert not context.is_private(), f"{where} holds a CKKS secret key"
    assert contexts >= 1, "the coordinator's public context should be found and checked"


def _blobs(home: Path) -> list[tuple[str, bytes]]:
    """Every file, and every binary cell of every SQLite table, of a state directory."""
    found: list[tuple[str, bytes]] = []
    for path in home.rglob("*"):
        if not path.is_file() or path.stat().st_size < 1000:
            continue
        found.append((str(path), path.read_bytes()))
        if path.suffix != ".sqlite":
            continue
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    found += [
                        (f"{path}:{table}", v)
                        for v in row
                        if isinstance(v, bytes) and len(v) > 1000
                    ]
    return found


@pytest.mark.slow
def test_every_listed_address_answers_while_the_demo_serves(serving: tuple[Path, int]) -> None:
    """Each address in ``summary.json`` is probed as it says it is served, and nothing of the
    demo's process tree listens anywhere the summary does not list."""
    demo, pid = serving
    summary = json.loads((demo / "summary.json").read_text())
    listeners = summary["listeners"]
    served = {what for entry in listeners for what in entry["serves"]}
    wanted = {"trust gRPC", "Fleet", "Control", "ServerAppIo", "ClientAppIo", "node API", "portal"}
    assert wanted <= served, served
    hosted = next(n for n in summary["nodes"] if n["hosted"])
    for entry in listeners:
        _probe(entry, client=Path(hosted["home"]) / "tls")
    listed = {_port(entry["address"]) for entry in listeners}
    ports = _listening_ports(pid)
    assert ports <= listed, f"unlisted listeners: {ports - listed}"


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _probe(entry: dict[str, Any], *, client: Path) -> None:
    """TLS as listed (the listed CA verifies the server; mutual: a node's certificate), then
    an HTTP request where the scheme is HTTP; a clear-text listener must be on loopback."""
    host, port = entry["address"].rsplit(":", 1)
    where = f"{entry['party']} {entry['serves']} at {entry['address']}"
    if entry["tls"] == "none":
        assert host in ("127.0.0.1", "localhost"), f"{where}: clear text off loopback"
    with socket.create_connection((host, int(port)), timeout=20) as raw:
        if entry["tls"] == "none":
            stream: socket.socket = raw
        else:
            context = ssl.create_default_context(cafile=entry["ca"])
            context.set_alpn_protocols(["h2"] if entry["scheme"] == "grpcs" else ["http/1.1"])
            if entry["tls"] == "mutual":
                context.load_cert_chain(client / "cert.pem", client / "key.pem")
            name = entry.get("server_name", "localhost")  # the name its certificate carries
            stream = context.wrap_socket(raw, server_hostname=name)
            if entry["scheme"] == "grpcs":
                assert stream.selected_alpn_protocol() == "h2", where
        if entry["scheme"] in ("http", "https"):
            stream.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            assert stream.recv(64).startswith(b"HTTP/1.1 "), where


def _listening_ports(pid: int) -> set[int]:
    """TCP ports in LISTEN of the demo and every process it started (its whole tree)."""
    import psutil

    demo = psutil.Process(pid)
    ports = set()
    for process in [demo, *demo.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        ports |= {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}
    return ports
