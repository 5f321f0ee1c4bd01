"""Attack: a coordinator that runs whatever it is given sends a foreign app to the nodes.

The SuperLink here is stock ``flower-superlink`` (TLS, SuperNode auth, default
``--isolation subprocess``): a coordinator that does not hold back, or one an attacker
took over. It runs the hostile app's ServerApp (that is its own machine) and sends
``train`` to every node. The nodes are the real ``gcdt-node supernode`` processes. Only
each node's installed ClientApp may run: no node may run the hostile ClientApp (no
``clientapp-*`` marker), each node refuses the app and logs it in its refusal log, and
what the hostile ServerApp gets back is an error carrying the code ``app_refused``, not
the node's home.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.federation.launch import (
    SuperLinkSpec,
    flower_env,
    is_listening,
    stop_process,
    write_connection,
)
from governance.pki import HomeLayout
from tests.attacks.fab_support import (
    flwr_config,
    flwr_run,
    hostile_app,
    markers_seen,
    run_id_of,
    wait_for,
)
from tests.federation.homes import running_federation
from tests.federation.test_deployment import _cli, _supernode, free_port
from trust_node.context import NodeContext
from trust_node.federation.supernode import ensure_auth_key


def _stock_superlink(spec: SuperLinkSpec) -> subprocess.Popen[bytes]:
    """Flower's own SuperLink, as a coordinator that runs submitted apps starts it."""
    layout = HomeLayout(spec.home)
    argv = [
        str(Path(_python()).with_name("flower-superlink")),
        "--ssl-certfile",
        str(layout.tls_cert),
        "--ssl-keyfile",
        str(layout.tls_key),
        "--ssl-ca-certfile",
        str(layout.ca_cert),
        "--enable-supernode-auth",
        "--disable-runtime-dependency-installation",
        "--database",
        str(spec.database),
        "--host",
        spec.host,
        "--port",
        str(spec.port),
    ]
    env = flower_env(spec.home)  # makes GCDT_HOME/flower
    log = (spec.home / "flower" / "superlink.log").open("ab")
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert wait_for(lambda: is_listening(spec.host, spec.port), 60, 0.5), "SuperLink did not start"
    return proc


def _python() -> str:
    import sys

    return sys.executable


@pytest.mark.slow
def test_hostile_coordinator_cannot_run_its_clientapp_on_nodes(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    markers = tmp_path / "markers"
    with running_federation(tmp_path / "trust", nodes=2, key_holders=2, records=10) as fed:
        spec = SuperLinkSpec(fed.coordinator_home, port=free_port())
        processes.append(_stock_superlink(spec))
        write_connection(spec)
        for home in fed.node_homes:
            _, public = ensure_auth_key(home)
            _cli(
                "gcdt-coordinator",
                "register-supernode",
                str(public),
                "--home",
                str(fed.coordinator_home),
                "--port",
                str(spec.port),
            )
        for home in fed.node_homes:
            processes.append(_supernode(home, spec.address))

        app = hostile_app(tmp_path / "hostile", markers, nodes=len(fed.node_homes))
        env = flwr_config(tmp_path / "mallory", spec.address, HomeLayout(spec.home).ca_cert)
        done = flwr_run(app, env, tmp_path)
        assert run_id_of(done) is not None, done.stdout + done.stderr  # this SuperLink takes it

        # The hostile ServerApp runs on its own machine and collects the nodes' replies.
        replied = wait_for(lambda: (markers / "replies.json").exists(), 240)
        seen = markers_seen(markers)
        assert not [m for m in seen if m.startswith("clientapp")], f"a node ran it: {seen}"
        assert replied, f"the hostile ServerApp got no replies; markers {seen}"
        replies = json.loads((markers / "replies.json").read_text())
        assert len(replies) == len(fed.node_homes)
        assert all(r == {"error": True, "reason": "app_refused"} for r in replies), replies
        for home in fed.node_homes:
            refusals = NodeContext.open(home).refusals.entries()
            assert any(r.kind == "flower_app" for r in refusals), home


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in reversed(started):
        stop_process(proc)
