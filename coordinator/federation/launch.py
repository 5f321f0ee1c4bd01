"""Running the coordinator's side on Flower's deployment engine: SuperLink, runs, nodes.

``gcdt-coordinator superlink|register-supernode|train`` call these. Flower 1.41 serves
the Fleet, Control and ServerAppIo APIs on ONE port (``--host``/``--port``), with TLS
from the governance PKI (the coordinator's server certificate from ``gcdt-coordinator
init``) and SuperNode authentication on: only SuperNodes whose auth public key was
registered (``register_supernode``) can connect. The Control API has no authentication
in open-source Flower, so the SuperLink binds to loopback by default; expose it only on
a private interface.

The Flower app submitted by ``flwr run`` is written to a temporary directory per run
(``write_app_dir``): a ``pyproject.toml`` naming this repository's ServerApp and
ClientApp, with the run configuration. Nothing of it is committed, and the SuperLink
connection lives in ``FLWR_HOME/config.toml`` under ``GCDT_HOME/flower``, never in the
repository.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.federation import supernodes
from coordinator.federation.config import FederationConfig
from coordinator.federation.errors import FederationError
from governance.pki import HomeLayout
from kernel.settings import FLOWER_DIR

CONNECTION = "gcdt"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9093
SERVER_APP = "coordinator.federation.server_app:app"
CLIENT_APP = "trust_node.federation.client_app:app"
APP_NAME = "gcdt-federation"
APP_VERSION = "1.0.0"
PUBLISHER = "gcdt"


class LaunchError(FederationError):
    """A Flower process or command failed; the message carries its output."""


def _bin(name: str) -> str:
    """A Flower console script beside this interpreter (the venv), else on PATH."""
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise LaunchError(f"{name} is not installed (pip install flwr)")
    return found


def flower_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every Flower process: state under GCDT_HOME, no telemetry."""
    env = dict(os.environ if base is None else base)
    flwr_home = home / FLOWER_DIR
    flwr_home.mkdir(parents=True, exist_ok=True)
    # Flower starts its helpers (flower-superexec, flwr-serverapp) by name: put this
    # interpreter's scripts first on PATH.
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    env.update(
        FLWR_HOME=str(flwr_home),
        FLWR_TELEMETRY_ENABLED="0",
        FLWR_DISABLE_UPDATE_CHECK="1",
        GCDT_HOME=str(home),
    )
    return env


@dataclass(frozen=True)
class SuperLinkSpec:
    home: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def database(self) -> Path:
        return self.home / FLOWER_DIR / "superlink.db"

    def command(self) -> list[str]:
        layout = HomeLayout(self.home)
        for path in (layout.tls_cert, layout.tls_key, layout.ca_cert):
            if not path.exists():
                raise LaunchError(f"{path} is missing: run `gcdt-coordinator init` first")
        return [
            _bin("flower-superlink"),
            "--ssl-certfile",
            str(layout.tls_cert),
            "--ssl-keyfile",
            str(layout.tls_key),
            "--ssl-ca-certfile",
            str(layout.ca_cert),
            "--enable-supernode-auth",
            "--disable-runtime-dependency-installation",
            "--database",
            str(self.database),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at ``host:port`` (readiness, not health)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_superlink(
    spec: SuperLinkSpec, *, log_path: Path | None = None, ready_timeout_s: float = 30.0
) -> subprocess.Popen[bytes]:
    """Start the SuperLink in the background; return once its port accepts connections."""
    env = flower_env(spec.home)
    log_path = log_path or spec.home / FLOWER_DIR / "superlink.log"
    log = log_path.open("ab")
    proc = subprocess.Popen(  # noqa: S603 (our argv)
        spec.command(),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + ready_timeout_s
    while not is_listening(spec.host, spec.port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise LaunchError(f"SuperLink did not come up on {spec.address}; see {log_path}")
        time.sleep(0.2)
    return proc


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Stop a process we started (and the children in its session), bounded."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, 15)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(timeout_s)


def write_connection(spec: SuperLinkSpec) -> Path:
    """``FLWR_HOME/config.toml``: the one SuperLink connection ``flwr`` commands use."""
    ca = HomeLayout(spec.home).ca_cert
    path = spec.home / FLOWER_DIR / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[superlink]\n"
        f'default = "{CONNECTION}"\n\n'
        f"[superlink.{CONNECTION}]\n"
        f'address = "{spec.address}"\n'
        f'root-certificates = "{ca}"\n'
    )
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def write_app_dir(directory: Path, config: FederationConfig) -> Path:
    """The Flower app ``flwr run`` packs: components and run config, nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    run_config = "\n".join(
        f"{key} = {_toml_value(value)}" for key, value in config.to_run_config().items()
    )
    (directory / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        f'name = "{APP_NAME}"\n'
        f'version = "{APP_VERSION}"\n'
        'description = "Global Carbon Data Trust federated training (generated per run)"\n'
        'license = "Apache-2.0"\n'
        "dependencies = []\n\n"
        "[tool.hatch.build.targets.wheel]\n"
        'packages = ["."]\n\n'
        "[tool.flwr.app]\n"
        f'publisher = "{PUBLISHER}"\n\n'
        "[tool.flwr.app.components]\n"
        f'serverapp = "{SERVER_APP}"\n'
        f'clientapp = "{CLIENT_APP}"\n\n'
        "[tool.flwr.app.config]\n"
        f"{run_config}\n"
    )
    return directory


def _flwr(args: list[str], spec: SuperLinkSpec, timeout_s: float = 60.0) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (argv built here, no shell)
            [_bin("flwr"), *args],
            env=flower_env(spec.home),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=spec.home / FLOWER_DIR,
        )
    except subprocess.TimeoutExpired as exc:
        raise LaunchError(f"flwr {' '.join(args[:2])} timed out after {timeout_s} s") from exc
    if done.returncode != 0:
        raise LaunchError(f"flwr {' '.join(args[:2])} failed: {done.stdout}{done.stderr}")
    return done.stdout


def _json_out(text: str) -> dict[str, Any]:
    start = text.find("{")
    try:
        body = json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise LaunchError(f"flwr printed no JSON object: {text!r}")
    return body


def register_supernode(spec: SuperLinkSpec, public_key: Path, name: str | None = None) -> str:
    """Allow a SuperNode's auth public key (OpenSSH EC P-384) on the SuperLink."""
    write_connection(spec)
    args = ["supernode", "register", str(public_key), CONNECTION, "--format", "json"]
    if name:
        args += ["--name", name]
    body = _json_out(_flwr(args, spec))
    if not body.get("success", True):
        raise LaunchError(f"SuperNode registration refused: {body}")
    flower_id = str(body.get("node-id", body))
    supernodes.remember(spec.home, name or public_key.stem, flower_id)
    return flower_id


def unregister_supernode(spec: SuperLinkSpec, name: str) -> str | None:
    """Remove ``name``'s SuperNode from the SuperLink (its Flower node id; None if it never
    registered one). Uses the connection ``register_supernode`` wrote."""
    flower_id = supernodes.registered(spec.home).get(name)
    if flower_id is None:
        return None
    args = ["supernode", "unregister", flower_id, CONNECTION, "--format", "json"]
    body = _json_out(_flwr(args, spec))
    if not body.get("success", True):
        raise LaunchError(f"SuperNode {flower_id} of {name!r} not unregistered: {body}")
    supernodes.forget(spec.home, name)
    return flower_id


def supernode_status(spec: SuperLinkSpec) -> dict[str, str]:
    """Flower node id -> status (``registered``, ``online``, ``unregistered``...)."""
    body = _json_out(_flwr(["supernode", "ls", CONNECTION, "--format", "json"], spec))
    return {str(n["node-id"]): str(n["status"]) for n in body.get("nodes", [])}


def submit_run(spec: SuperLinkSpec, config: FederationConfig) -> int:
    """Write the app to a temporary directory and submit it with ``flwr run``."""
    write_connection(spec)
    with tempfile.TemporaryDirectory(prefix="gcdt-app-") as tmp:
        write_app_dir(Path(tmp), config)
        body = _json_out(_flwr(["run", tmp, CONNECTION, "--format", "json"], spec, timeout_s=120.0))
    if not body.get("success") or body.get("run-id") is None:
        raise LaunchError(f"the SuperLink did not start the run: {body}")
    return int(body["run-id"])


def run_status(spec: SuperLinkSpec, run_id: int) -> str:
    """The SuperLink's status string for ``run_id``; a run it does not know is a launch error."""
    body = _json_out(_flwr(["list", CONNECTION, "--run-id", str(run_id), "--format", "json"], spec))
    runs = body.get("runs") or []
    if not runs:
        raise LaunchError(f"the SuperLink does not know run {run_id}")
    return str(runs[0].get("status", ""))


def wait_for_run(spec: SuperLinkSpec, run_id: int, timeout_s: float, poll_s: float = 10.0) -> str:
    """Poll until the run finishes; return its final status (``finished:completed`` ...).

    Each poll starts a ``flwr`` process (seconds of CPU), so it polls sparingly.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        status = run_status(spec, run_id)
        if status.startswith("finished"):
            return status
        if time.monotonic() > deadline:
            _flwr(["stop", str(run_id), CONNECTION], spec)
            raise LaunchError(
                f"run {run_id} did not finish within {timeout_s} s "
                f"(last status {status!r}); stopped it"
            )
        time.sleep(poll_s)
