"""Starting this node's Flower SuperNode (``gcdt-node supernode``).

The SuperNode connects to the coordinator through this node's uplink
(:mod:`trust_node.federation.uplink`: loopback TLS to the uplink, mutual TLS with the
node's certificate from the uplink to the coordinator's gate), and authenticates with its
own SuperNode key: an EC P-384 key in
OpenSSH format under ``GCDT_HOME/flower/`` (what Flower 1.41 accepts), generated once
here with ``cryptography``. The coordinator operator registers the public half with
``gcdt-coordinator register-supernode`` before the node can connect. The ClientApp finds
this node's state through ``--node-config gcdt-home=...``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.identity import write_secret
from governance.pki import HomeLayout
from governance.pki.gateway import ensure_superexec_secret
from kernel.settings import FLOWER_DIR
from kernel.wire.app_bundle import SUPEREXEC_SECRET_FILE
from trust_node.errors import NodeSetupError
from trust_node.federation.client_app import HOME_KEY

AUTH_KEY_FILE = "supernode_auth_key"
DEFAULT_CLIENTAPPIO_PORT = 9094


def auth_key_paths(home: Path) -> tuple[Path, Path]:
    """Where the SuperNode's auth key pair lives (private, public) in the node home."""
    directory = home / FLOWER_DIR
    return directory / AUTH_KEY_FILE, directory / f"{AUTH_KEY_FILE}.pub"


def ensure_auth_key(home: Path) -> tuple[Path, Path]:
    """The SuperNode auth key pair (private 0600); generated on first use, never replaced."""
    private, public = auth_key_paths(home)
    if private.exists() and public.exists():
        return private, public
    if private.exists() != public.exists():
        raise NodeSetupError(f"{private.parent} holds half a SuperNode key pair; remove it")
    key = ec.generate_private_key(ec.SECP384R1())
    private.parent.mkdir(parents=True, exist_ok=True)
    write_secret(
        private,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ),
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        + b"\n"
    )
    return private, public


def superexec_secret_path(home: Path) -> Path:
    """The secret only this node's app runner holds to take tasks from its SuperNode."""
    return home / FLOWER_DIR / SUPEREXEC_SECRET_FILE


def flower_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Flower's processes need: their own FLWR_HOME, no telemetry."""
    env = dict(os.environ if base is None else base)
    flwr_home = home / FLOWER_DIR
    flwr_home.mkdir(parents=True, exist_ok=True)
    # Flower starts its helpers (flower-superexec, flwr-clientapp) by name: put this
    # interpreter's scripts first on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        FLWR_HOME=str(flwr_home),
        FLWR_TELEMETRY_ENABLED="0",
        FLWR_DISABLE_UPDATE_CHECK="1",
        GCDT_HOME=str(home),
    )
    return env


@dataclass(frozen=True)
class SuperNodeSpec:
    home: Path
    superlink: str  # host:port the SuperNode dials: this node's uplink (see uplink.py)
    port: int = DEFAULT_CLIENTAPPIO_PORT  # this SuperNode's own ClientAppIo port
    host: str = "127.0.0.1"
    #: the certificate the SuperNode verifies its peer with (the uplink's); default the root
    root_certificates: Path | None = None

    @property
    def runtime_address(self) -> str:
        """The SuperNode's Runtime API, where this node's app runner takes its tasks."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        ca = self.root_certificates or HomeLayout(self.home).ca_cert
        if not ca.exists():
            raise NodeSetupError(f"{ca} is missing: enrol the node first (`gcdt-node enrol`)")
        private, _ = ensure_auth_key(self.home)
        local = Path(sys.executable).with_name("flower-supernode")
        binary = str(local) if local.exists() else shutil.which("flower-supernode")
        if not binary:
            raise NodeSetupError("flower-supernode is not installed (pip install flwr)")
        home = str(self.home.resolve()).replace("\\", "\\\\").replace('"', '\\"')
        return [
            binary,
            "--superlink",
            self.superlink,
            "--root-certificates",
            str(ca),
            "--auth-supernode-private-key",
            str(private),
            "--node-config",
            f'{HOME_KEY}="{home}"',
            # No app process of Flower's: the node's app runner takes each task, and only
            # it (HMAC with a secret under GCDT_HOME on AcquireTask).
            "--isolation",
            "process",
            "--superexec-auth-secret-file",
            str(ensure_superexec_secret(superexec_secret_path(self.home))),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
