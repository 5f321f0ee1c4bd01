"""Encrypted DP training over Flower's deployment engine: SuperLink + SuperNodes on loopback.

Separate processes started the way an operator starts them (``gcdt-coordinator
superlink`` machinery, ``gcdt-coordinator register-supernode``, ``gcdt-node supernode``,
``gcdt-node attest --watch`` on the key holders against the running trust server,
``gcdt-coordinator train``), TLS from the governance PKI, SuperNode authentication on,
ports chosen free at run time, Flower state under tmp, every process stopped in teardown.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coordinator.context import CoordinatorContext
from coordinator.federation.keys import load_public_key
from coordinator.federation.launch import SuperLinkSpec, start_superlink, stop_process
from coordinator.registry import ModelRegistry
from coordinator.store import CoordinatorStore, open_engine
from kernel.settings import load_settings
from open_models.published import PublishedModel
from tests.federation.homes import Federation, assert_cannot_decrypt, running_federation
from trust_node.federation.supernode import ensure_auth_key

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
    with running_federation(tmp_path, nodes=2, key_holders=2, records=40) as fed:
        for home in fed.key_holder_homes:
            processes.append(_attest(home, fed.address))
        spec = SuperLinkSpec(fed.coordinator_home, port=free_port(), gate_port=free_port())
        processes.append(start_superlink(spec))
        port = ["--port", str(spec.port)]
        for home in fed.node_homes:
            _, public = ensure_auth_key(home)
            _cli(
                "gcdt-coordinator",
                "register-supernode",
                str(public),
                "--name",
                home.name,
                "--home",
                str(fed.coordinator_home),
                *port,
            )
        for home in fed.node_homes:
            processes.append(_supernode(home, spec.gate_address))
        result = _train_two_rounds(fed, port)
    assert result["status"] == "finished:completed"
    _assert_published_and_installed(fed, result)


def _attest(home: Path, address: str) -> subprocess.Popen[bytes]:
    """A key holder's ``gcdt-node attest --watch`` against the running trust server."""
    log = (home / "attest.log").open("ab")
    argv = [
        _script("gcdt-node"),
        "attest",
        "--watch",
        "--poll",
        "0.5",
        "--address",
        address,
        "--home",
        str(home),
    ]
    return subprocess.Popen(
        argv, env=_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _supernode(home: Path, superlink: str) -> subprocess.Popen[bytes]:
    """``gcdt-node supernode`` in its own session, logging into the node's flower dir."""
    log = (home / "flower" / "supernode.log").open("ab")
    argv = [
        _script("gcdt-node"),
        "supernode",
        "--superlink",
        superlink,
        "--port",
        str(free_port()),
        "--home",
        str(home),
    ]
    return subprocess.Popen(
        argv, env=_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _train_two_rounds(fed: Federation, port: list[str]) -> dict[str, Any]:
    out = _cli(
        "gcdt-coordinator",
        "train",
        "--rounds",
        "2",
        "--quorum",
        "2",
        "--t",
        "2",
        "--min-nodes",
        "2",
        "--round-timeout",
        "90",
        "--timeout",
        str(RUN_TIMEOUT_S),
        "--home",
        str(fed.coordinator_home),
        *port,
        "--json",
        timeout=RUN_TIMEOUT_S + 60,
        logs=(fed.coordinator_home, fed.node_homes),
    )
    return dict(json.loads(out))


def _assert_published_and_installed(fed: Federation, result: dict[str, Any]) -> None:
    """One model in the registry and the log, installed on every node, no key at the hub."""
    engine = open_engine(load_settings(home=fed.coordinator_home))
    [(model_id, version, content_hash, log_index)] = ModelRegistry(engine).list()
    assert version == f"run-{result['run_id']}"
    assert result["published"] == [
        {
            "model_id": model_id,
            "version": version,
            "content_hash": content_hash,
            "log_index": log_index,
        }
    ]
    for home in fed.node_homes:
        installed = PublishedModel.load(home / "models" / "current")
        assert (installed.model_id, installed.content_hash) == (model_id, content_hash)
        assert len(list((home / "federation" / version).glob("round-*.npz"))) == 2
    assert log_index >= 0
    # The coordinator holds the public context only: no key package, no secret key.
    assert_cannot_decrypt(
        load_public_key(
            CoordinatorStore(engine), CoordinatorContext.open(fed.coordinator_home).trust_policy
        )
    )
    assert not list(fed.coordinator_home.rglob("*.keypkg"))


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    return env


def _cli(
    name: str, *args: str, timeout: float = 60.0, logs: tuple[Path, list[Path]] | None = None
) -> str:
    done = subprocess.run(
        [_script(name), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    detail = _logs(*logs) if logs else ""
    assert done.returncode == 0, f"{name} {args[0]}: {done.stdout}{done.stderr}\n{detail}"
    return done.stdout


def _logs(coordinator: Path, nodes: list[Path]) -> str:
    parts = []
    for path in [
        coordinator / "flower" / "superlink.log",
        *(n / "flower" / "supernode.log" for n in nodes),
        *(n / "attest.log" for n in nodes),
    ]:
        if path.exists():
            parts.append(f"--- {path}\n{path.read_text()[-4000:]}")
    return "\n".join(parts)
