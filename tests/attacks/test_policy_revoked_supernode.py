"""Attack: a revoked node's SuperNode stays registered and keeps getting Flower messages.

A real trust and a real Flower 1.41 SuperLink (TLS from the trust's PKI, SuperNode auth
on). node-c's SuperNode auth key is registered (``gcdt-coordinator register-supernode``),
then the coordinator revokes node-c (``gcdt-coordinator revoke``): the SuperLink's own
list (``flwr supernode ls``) shows that SuperNode unregistered, so the SuperLink refuses
it and the ServerApp can no longer send it ``train`` messages.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordinator.cli import app as coordinator_app
from coordinator.federation.launch import (
    SuperLinkSpec,
    start_superlink,
    stop_process,
    supernode_status,
)
from tests.trust_setup import Trust, running_trust
from trust_node.federation.supernode import ensure_auth_key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def superlink(tmp_path: Path) -> Iterator[tuple[Trust, SuperLinkSpec]]:
    with running_trust(
        tmp_path, ("node-a", "node-b", "node-c"), ("node-a", "node-b"), ceremony=False
    ) as trust:
        spec = SuperLinkSpec(trust.coordinator.home_dir, port=_free_port())
        proc: subprocess.Popen[bytes] = start_superlink(spec)
        try:
            yield trust, spec
        finally:
            stop_process(proc)


def _coordinator(trust: Trust, *args: str) -> str:
    result = CliRunner().invoke(
        coordinator_app,
        [*args, "--home", str(trust.coordinator.home_dir)],
        env={"GCDT_DATABASE_URL": trust.coordinator.database_url},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
def test_revoking_a_node_unregisters_its_supernode(
    superlink: tuple[Trust, SuperLinkSpec],
) -> None:
    trust, spec = superlink
    _, public = ensure_auth_key(trust.nodes["node-c"].settings.home_dir)
    out = _coordinator(
        trust, "register-supernode", str(public), "--name", "node-c", "--port", str(spec.port)
    )
    flower_id = out.strip().rsplit(" ", 1)[-1]
    assert supernode_status(spec)[flower_id] == "registered"

    revoked = json.loads(_coordinator(trust, "revoke", "node-c", "--json"))
    assert revoked["supernode_unregistered"] == flower_id
    assert supernode_status(spec)[flower_id] == "unregistered"
