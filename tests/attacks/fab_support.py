"""What the app-bundle (FAB) attack tests share: a hostile Flower app and its markers.

The hostile app is what an attacker would submit with ``flwr run``: its own ServerApp and
ClientApp in its own ``hostile.py``. If any of it runs, it leaves a marker file in a
directory the test watches: ``serverapp`` where the ServerApp ran, ``clientapp-<node>``
(holding the node's ``GCDT_HOME``) where a node ran its ClientApp; the ServerApp also
writes the replies it got (``replies.json``). A test passes only if the markers it must
not see never appear.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.federation.launch import (
    SuperLinkSpec,
    flower_env,
    start_superlink,
    stop_process,
    write_connection,
)
from tests.federation.homes import Federation, running_federation
from tests.federation.test_deployment import _cli, _env, _script, _supernode, free_port
from trust_node.federation.supernode import ensure_auth_key

HOSTILE_CODE = """
import json
import time
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

MARKERS = Path({markers!r})
NODES = {nodes}

server = ServerApp()


def probe() -> RecordDict:
    return RecordDict({{"probe": ConfigRecord({{"x": 1}})}})



@server.main()
def main(grid: Grid, context: Context) -> None:
    (MARKERS / "serverapp").write_text("the submitted ServerApp ran")
    deadline = time.time() + 60
    nodes = []
    while time.time() < deadline and len(nodes) < NODES:
        nodes = list(grid.get_node_ids())
        time.sleep(1)
    messages = [
        Message(probe(), dst_node_id=n, message_type="train")
        for n in nodes
    ]
    replies = list(grid.send_and_receive(messages, timeout=90))
    out = [
        {{"error": r.has_error(), "reason": r.error.reason if r.has_error() else ""}}
        for r in replies
    ]
    (MARKERS / "replies.json").write_text(json.dumps(out))


client = ClientApp()


@client.train()
def train(message: Message, context: Context) -> Message:
    home = str(context.node_config.get("gcdt-home", ""))
    (MARKERS / f"clientapp-{{context.node_id}}").write_text(home)
    return Message(RecordDict({{"stolen": ConfigRecord({{"home": home}})}}), reply_to=message)
"""

HOSTILE_PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "hostile-app"
version = "1.0.0"
description = "not the trust's app"
license = "Apache-2.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "mallory"

[tool.flwr.app.components]
serverapp = "hostile:server"
clientapp = "hostile:client"

[tool.flwr.app.config]
x = 1
"""


def hostile_app(directory: Path, markers: Path, nodes: int) -> Path:
    """The attacker's app directory (for ``flwr run``)."""
    directory.mkdir(parents=True, exist_ok=True)
    markers.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(HOSTILE_PYPROJECT)
    (directory / "hostile.py").write_text(HOSTILE_CODE.format(markers=str(markers), nodes=nodes))
    return directory


def flwr_config(flwr_home: Path, address: str, ca_cert: Path) -> dict[str, str]:
    """An ``flwr`` CLI set up with nothing but an address and the trust root certificate."""
    flwr_home.mkdir(parents=True, exist_ok=True)
    (flwr_home / "config.toml").write_text(
        '[superlink]\ndefault = "target"\n\n[superlink.target]\n'
        f'address = "{address}"\nroot-certificates = "{ca_cert}"\n'
    )
    env = _env()
    env.update(FLWR_HOME=str(flwr_home), FLWR_TELEMETRY_ENABLED="0")
    return env


def flwr_run(app: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``flwr run <app> target`` as the attacker types it."""
    return subprocess.run(
        [_script("flwr"), "run", str(app), "target", "--format", "json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_id_of(done: subprocess.CompletedProcess[str]) -> int | None:
    """The run id ``flwr run --format json`` printed, if it started one."""
    text = done.stdout
    start = text.find("{")
    try:
        body: Any = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        return None
    if isinstance(body, dict) and body.get("success") and body.get("run-id") is not None:
        return int(body["run-id"])
    return None


def markers_seen(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir()) if markers.exists() else []


def wait_for(predicate: Any, timeout_s: float, poll_s: float = 2.0) -> bool:
    """Poll ``predicate`` until true or ``timeout_s``; bounded, never raises."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())


@dataclass
class Deployment:
    fed: Federation
    spec: SuperLinkSpec


@contextmanager
def hardened_deployment(tmp: Path, nodes: int = 2) -> Iterator[Deployment]:
    """The project's own set-up, as the operators start it: ``start_superlink`` (what
    ``gcdt-coordinator superlink`` runs), ``register-supernode``, ``gcdt-node supernode``
    dialling the address nodes are given; every process stopped on exit."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        with running_federation(tmp / "trust", nodes=nodes, key_holders=2, records=10) as fed:
            spec = SuperLinkSpec(fed.coordinator_home, port=free_port(), gate_port=free_port())
            started.append(start_superlink(spec))
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
                started.append(_supernode(home, spec.gate_address))
            yield Deployment(fed, spec)
    finally:
        for proc in reversed(started):
            stop_process(proc)


def hostile_start_run_request(app: Path) -> bytes:
    """The Control API ``start-run`` body ``flwr run`` would send for ``app``."""
    from flwr.cli.build import build_fab_from_disk
    from flwr.common.serde import fab_to_proto
    from flwr.proto.control_pb2 import StartRunRequest
    from flwr.supercore.fab import Fab

    fab = build_fab_from_disk(app)
    request = StartRunRequest(fab=fab_to_proto(Fab(hashlib.sha256(fab).hexdigest(), fab, {})))
    body: bytes = request.SerializeToString()
    return body


def operator_runs(spec: SuperLinkSpec) -> list[dict[str, Any]]:
    """Every run the SuperLink knows, as its operator lists them on the coordinator."""
    write_connection(spec)
    done = subprocess.run(
        [_script("flwr"), "list", "gcdt", "--format", "json"],
        env=flower_env(spec.home),
        cwd=spec.home / "flower",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body = json.loads(done.stdout[done.stdout.find("{") :])
    return list(body.get("runs") or [])
