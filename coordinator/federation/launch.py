"""Running the coordinator's side on Flower's deployment engine: SuperLink, runs, nodes.

``gcdt-coordinator superlink|register-supernode|train`` call these. Flower 1.41 serves
the Fleet, Control and ServerAppIo (Runtime) APIs from ONE FastAPI app on one port
(``--host``/``--port``; ``flwr.superlink.main.create_app``), with TLS from the governance
PKI (the coordinator's server certificate from ``gcdt-coordinator init``) and SuperNode
authentication on: only SuperNodes whose auth public key was registered
(``register_supernode``) can connect. The Control API has no authentication in
open-source Flower, so the SuperLink binds to loopback by default.

The SuperLink runs with ``--isolation process`` inside one process group with the
coordinator's ServerApp runner (:mod:`coordinator.federation.superlink_host`,
:mod:`coordinator.federation.app_runner`): no code from a submitted app bundle ever runs
here. The bundle ``flwr run`` submits is the trust's one fixed bundle
(:mod:`kernel.wire.app_bundle`), written to a temporary directory per run; the run's
values travel as run-config overrides (``--run-config``, a TOML file), so the bundle stays
the one every party pins. The SuperLink connection lives in ``FLWR_HOME/config.toml``
under ``GCDT_HOME/flower``, never in the repository.
"""

from __future__ import annotations

import ipaddress
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
from coordinator.federation.gate import DEFAULT_GATE_HOST, DEFAULT_GATE_PORT
from governance.pki import HomeLayout
from governance.pki.gateway import ensure_superexec_secret
from kernel.settings import FLOWER_DIR
from kernel.wire.app_bundle import RUN_CONFIG_DEFAULTS, SUPEREXEC_SECRET_FILE, pyproject_text

CONNECTION = "gcdt"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9093
HOST_MODULE = "coordinator.federation.superlink_host"


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
    host: str = DEFAULT_HOST  # the SuperLink itself: loopback (Fleet, Control and Runtime)
    port: int = DEFAULT_PORT
    gate_host: str = DEFAULT_GATE_HOST  # where nodes connect (coordinator.federation.gate)
    gate_port: int = DEFAULT_GATE_PORT

    @property
    def gate_address(self) -> str:
        """The address nodes are given (``gcdt-node supernode --superlink``)."""
        return f"{self.gate_host}:{self.gate_port}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def superexec_secret(self) -> Path:
        """The secret only the ServerApp runner holds to take tasks from the SuperLink."""
        return self.home / FLOWER_DIR / SUPEREXEC_SECRET_FILE

    @property
    def database(self) -> Path:
        return self.home / FLOWER_DIR / "superlink.db"

    def host_command(self) -> list[str]:
        """The process :func:`start_superlink` starts: SuperLink plus ServerApp runner."""
        home = ["--home", str(self.home), "--host", self.host, "--port", str(self.port)]
        gate = ["--gate-host", self.gate_host, "--gate-port", str(self.gate_port)]
        return [sys.executable, "-m", HOST_MODULE, *home, *gate]

    def command(self) -> list[str]:
        if not is_loopback(self.host):
            raise LaunchError(
                f"the SuperLink must listen on loopback, not {self.host!r}: its Control and "
                "Runtime APIs share its port; nodes connect to the gate (--gate-host)"
            )
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
            # No app process of Flower's: superlink_host's runner takes each ServerApp task,
            # and only it (HMAC with a secret under GCDT_HOME on AcquireTask).
            "--isolation",
            "process",
            "--superexec-auth-secret-file",
            str(ensure_superexec_secret(self.superexec_secret)),
            "--database",
            str(self.database),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    """Start SuperLink, gate and ServerApp runner; return once both ports accept connections."""
    env = flower_env(spec.home)
    log_path = log_path or spec.home / FLOWER_DIR / "superlink.log"
    log = log_path.open("ab")
    spec.command()  # refuse a home without TLS material here, not in the child
    proc = subprocess.Popen(  # noqa: S603 (our argv)
        spec.host_command(),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + ready_timeout_s
    while not (is_listening(spec.host, spec.port) and is_listening(spec.gate_host, spec.gate_port)):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise LaunchError(
                f"SuperLink ({spec.address}) and gate ({spec.gate_address}) did not come up; "
                f"see {log_path}"
            )
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


def write_app_dir(directory: Path) -> Path:
    """The app directory ``flwr run`` packs: the trust's one bundle, nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(pyproject_text())
    return directory


def write_run_config(path: Path, config: FederationConfig) -> Path:
    """A run's values as a TOML file for ``flwr run --run-config`` (data, not code).

    Every key must be one the bundle declares (Flower refuses others), with its type.
    """
    values = config.to_run_config()
    unknown = sorted(set(values) - set(RUN_CONFIG_DEFAULTS))
    if unknown:
        raise LaunchError(f"run config keys {unknown} are not in the app bundle")
    lines = []
    for key, value in values.items():
        default = RUN_CONFIG_DEFAULTS[key]
        typed = float(value) if isinstance(default, float) else value
        lines.append(f"{json.dumps(key)} = {_toml_value(typed)}")
    path.write_text("\n".join(lines) + "\n")
    return path


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
        app_dir = write_app_dir(Path(tmp) / "app")
        values = write_run_config(Path(tmp) / "run-config.toml", config)
        args = ["run", str(app_dir), CONNECTION, "--run-config", str(values), "--format", "json"]
        body = _json_out(_flwr(args, spec, timeout_s=120.0))
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
