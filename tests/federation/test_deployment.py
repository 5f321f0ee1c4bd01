"""Encrypted DP training over Flower's deployment engine: SuperLink + SuperNodes on loopback.

Separate processes, TLS from the governance PKI, SuperNode authentication on, ports
chosen free at run time, Flower state under tmp, every process stopped in teardown.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_public_key
from coordinator.federation.launch import (
    SuperLinkSpec,
    register_supernode,
    start_superlink,
    stop_process,
    submit_run,
    wait_for_run,
)
from coordinator.registry import ModelRegistry
from coordinator.store import CoordinatorStore, open_engine
from governance.settings import load_settings
from open_models.published import PublishedModel
from tests.federation.homes import assert_cannot_decrypt, make_federation
from trust_node.federation.supernode import SuperNodeSpec, ensure_auth_key, flower_env

RUN_TIMEOUT_S = 150.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in reversed(started):
        stop_process(proc)


@pytest.mark.slow
def test_two_rounds_over_superlink_and_supernodes(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    fed = make_federation(tmp_path, nodes=2, key_holders=2, records=40)
    spec = SuperLinkSpec(fed.coordinator_home, port=free_port())
    processes.append(start_superlink(spec))
    for home in fed.node_homes:
        _, public = ensure_auth_key(home)
        register_supernode(spec, public, name=home.name)
    for home in fed.node_homes:
        node = SuperNodeSpec(home, spec.address, port=free_port())
        env = flower_env(home)
        log = (home / "flower" / "supernode.log").open("ab")
        processes.append(subprocess.Popen(node.command(), env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    config = FederationConfig(coordinator_home=fed.coordinator_home, rounds=2, quorum=2,
                              min_nodes=2, t=2, round_timeout_s=90, attest_timeout_s=60,
                              connect_timeout_s=60)
    run_id = submit_run(spec, config)
    status = wait_for_run(spec, run_id, RUN_TIMEOUT_S)
    assert status == "finished:completed", _logs(fed.coordinator_home, fed.node_homes)

    engine = open_engine(load_settings(home=fed.coordinator_home))
    [(model_id, version, content_hash, log_index)] = ModelRegistry(engine).list()
    assert version == f"run-{run_id}"
    for home in fed.node_homes:
        installed = PublishedModel.load(home / "models" / "current")
        assert (installed.model_id, installed.content_hash) == (model_id, content_hash)
        assert len(list((home / "federation" / version).glob("round-*.npz"))) == 2
    assert log_index >= 0
    # The coordinator holds the public context only: no key package, no secret key.
    assert_cannot_decrypt(load_public_key(CoordinatorStore(engine)))
    assert not list(fed.coordinator_home.rglob("*.keypkg"))


def _logs(coordinator: Path, nodes: list[Path]) -> str:
    parts = []
    for path in [coordinator / "flower" / "superlink.log",
                 *(n / "flower" / "supernode.log" for n in nodes)]:
        if path.exists():
            parts.append(f"--- {path}\n{path.read_text()[-4000:]}")
    return "\n".join(parts)
