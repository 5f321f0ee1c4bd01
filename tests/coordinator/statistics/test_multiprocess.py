"""Encrypted statistics end to end: a coordinator and three nodes, each its own process,
over mutual TLS on loopback, produce a published benchmark equal to the noiseless sum
within the noise the policy implies; the benchmark then verifies offline with
``gcdt-audit``.

Set-up (homes, enrolment, key ceremony) uses the shared helpers in ``tests/trust_setup``;
everything the round itself does runs as separate processes: the trust server (with
statistics installed), ``gcdt-coordinator statistics-round ...``, three concurrent
``gcdt-node submit-statistics`` and ``gcdt-audit verify-benchmark``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coordinator.context import CoordinatorContext
from coordinator.statistics.setup import service_for
from kernel.settings import Settings
from open_models.benchmark_cells import field_scale
from open_models.benchmark_values import RoundTerms
from tests.trust_setup import enrol, found_trust, init_coordinator
from trust_node.context import NodeContext
from trust_node.generate import generate
from trust_node.key_material import fetch_keys, run_key_ceremony
from trust_node.statistics import contribution_vector
from trust_node.store import SqlRecordRepository

BIN = Path(sys.executable).parent
YEARS = ("2022", "2023")
NODES = ("node-a", "node-b", "node-c")
TIMEOUT = 120


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCDT_")}
    env["GCDT_HOME"] = str(home)
    return env


def _run(args: list[str], home: Path) -> dict[str, Any]:
    done = subprocess.run(
        args, env=_env(home), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if "--json" in args else {}


@pytest.mark.slow
def test_three_nodes_publish_a_benchmark_over_mtls(tmp_path: Path) -> None:
    coordinator = init_coordinator(tmp_path / "coordinator")
    nodes, frames = _nodes_with_records(coordinator, tmp_path)
    with _trust_server(coordinator.home_dir) as address:
        _install_keys(nodes, address)
        terms = RoundTerms.from_dict(
            _coordinator(
                coordinator,
                "open",
                "--years",
                YEARS[0],
                "--years",
                YEARS[1],
                "--epsilon",
                "7.5",
                "--json",
            )
        )
        with _submitters(nodes, address) as workers:
            _wait_for_submissions(coordinator, terms.round_id, workers)
            _coordinator(coordinator, "close", str(terms.round_id), "--json")
            results = [_result(worker) for worker in workers]
        assert [r["attested"] for r in results] == [True, True, False]
        published = _coordinator(coordinator, "publish", str(terms.round_id), "--json")
        bundle = tmp_path / "bundle.json"
        _coordinator(coordinator, "export-log", str(bundle))
    audit = _run(
        [
            str(BIN / "gcdt-audit"),
            "verify-benchmark",
            published["benchmark_id"],
            "--bundle",
            str(bundle),
            "--log-key",
            _log_key(coordinator),
            "--json",
        ],
        tmp_path,
    )
    assert audit["ok"] is True and audit["signers"] == ["node-a", "node-b"]
    _assert_within_the_noise(published, terms, frames)


def _nodes_with_records(
    coordinator: Settings, tmp_path: Path
) -> tuple[dict[str, NodeContext], dict[str, pd.DataFrame]]:
    """Three enrolled nodes, founding members of the trust (node-a and node-b its key
    holders), each holding one jurisdiction's records."""
    nodes = {n: enrol(coordinator, tmp_path / n, n) for n in NODES}
    found_trust(coordinator, nodes, ("node-a", "node-b"))
    nodes = {n: NodeContext(c.settings) for n, c in nodes.items()}
    records = generate(3, 300, seed=9, start_year=2022, end_year=2023).records
    frames = dict(zip(NODES, [g for _, g in records.groupby("jurisdiction")], strict=True))
    for node_id, frame in frames.items():
        repo = SqlRecordRepository.from_url(nodes[node_id].settings.database_url)
        repo.add_batch("operator", frame.reset_index(drop=True), source="test", sha256="0" * 64)
        repo.engine.dispose()
    return nodes, frames


@contextmanager
def _trust_server(home: Path) -> Iterator[str]:
    """``gcdt-coordinator serve`` as a process; yields its address, stops it with SIGINT."""
    server = subprocess.Popen(
        [str(BIN / "gcdt-coordinator"), "serve", "--port", "0"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "trust server listening on 127.0.0.1:PORT"
        yield f"localhost:{int(line.strip().rsplit(':', 1)[1])}"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def _install_keys(nodes: dict[str, NodeContext], address: str) -> None:
    """The key ceremony on node-a, then every node fetches its key material."""
    with nodes["node-a"].client(address) as client:
        run_key_ceremony(nodes["node-a"].state, client)
    for node_id, node in nodes.items():
        with node.client(address) as client:
            fetch_keys(node.state, client)
        nodes[node_id] = NodeContext(node.settings)


def _coordinator(coordinator: Settings, verb: str, *args: str) -> dict[str, Any]:
    """Run ``gcdt-coordinator statistics-round VERB ...`` against the coordinator's home."""
    home = coordinator.home_dir
    cli = [str(BIN / "gcdt-coordinator"), "statistics-round", verb, *args, "--home", str(home)]
    return _run(cli, home)


def _log_key(coordinator: Settings) -> str:
    """The log key as the operator hands it to auditors (``gcdt-coordinator log key``)."""
    home = str(coordinator.home_dir)
    cli = [str(BIN / "gcdt-coordinator"), "log", "key", "--home", home]
    return subprocess.run(cli, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def _submitters(
    nodes: dict[str, NodeContext], address: str
) -> Iterator[list[subprocess.Popen[str]]]:
    """``gcdt-node submit-statistics`` on every node at once, killed if still running."""
    workers: list[subprocess.Popen[str]] = []
    try:
        for node_id in NODES:
            workers.append(
                subprocess.Popen(
                    [
                        str(BIN / "gcdt-node"),
                        "submit-statistics",
                        "--address",
                        address,
                        "--wait",
                        "90",
                        "--json",
                    ],
                    env=_env(nodes[node_id].settings.home_dir),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)


def _wait_for_submissions(
    coordinator: Settings, round_id: int, workers: list[subprocess.Popen[str]]
) -> None:
    service = service_for(CoordinatorContext(coordinator))
    deadline = time.monotonic() + TIMEOUT
    while True:
        # read-only look at the coordinator's database (the verbs run as processes)
        status = service.status(round_id)
        if len(status.submitted) == len(NODES):
            return
        failed = [w for w in workers if w.poll() not in (None, 0)]
        assert not failed, failed[0].communicate()
        assert time.monotonic() < deadline, status
        time.sleep(0.5)


def _result(worker: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = worker.communicate(timeout=TIMEOUT)
    assert worker.returncode == 0, err
    return dict(json.loads(out))


def _assert_within_the_noise(
    published: dict[str, Any], terms: RoundTerms, frames: dict[str, pd.DataFrame]
) -> None:
    """Every shown cell is within 5 sigma of the noiseless sum of the nodes' records."""
    truth = terms.catalogue.unpack(
        np.sum([contribution_vector(f, terms.catalogue) for f in frames.values()], axis=0)
    )
    sigma = terms.sigma_total
    shown = [c for c in published["cells"] if not c["suppressed"]]
    assert shown, "at least one cell must clear k and m"
    for cell in shown:
        key = (cell["sector"], cell["product"], cell["route"], cell["year"])
        t = truth[key]
        sp = sigma * field_scale(key[0], "production_t")
        se = sigma * field_scale(key[0], "direct_tco2e")
        assert abs(cell["production_t_rounded"] - t["production_t"]) <= 5 * sp + 500
        i = cell["intensity_tco2e_per_t"]
        assert abs(t["direct_tco2e"] - i * t["production_t"]) <= 5 * math.hypot(se, i * sp) + 1
        assert abs(cell["facilities_rounded"] - t["facilities"]) <= 5 * sigma + 2.5
