"""The coordinator's gate: the one address nodes reach, and only Flower's Fleet side of it.

Flower 1.41's SuperLink serves Fleet, Control and Runtime (ServerAppIo) on one port and
cannot require client certificates (see :mod:`governance.pki.gateway`). So the SuperLink
listens on loopback only, and the gate listens where nodes connect: mutual TLS with the
coordinator's server certificate, a client certificate that must be an enrolled node's
(chain to the trust root, node bindings, not on the trust root's CRL, re-read per
connection), and only ``POST /v1/fleet/...`` forwarded to the SuperLink. Control and
Runtime are never reachable through it, so starting, stopping and listing runs stays
with the operator on the coordinator's machine. Refusals go to
``GCDT_HOME/flower/gate.jsonl``.

It runs inside the SuperLink's process group (:mod:`coordinator.federation.superlink_host`),
so ``gcdt-coordinator superlink`` and ``train`` start and stop it with the SuperLink.
"""

from __future__ import annotations

from pathlib import Path

from governance.pki import HomeLayout
from governance.pki.common import CRL_FILE
from governance.pki.gateway import (
    FleetForwarder,
    Forwarder,
    RefusalLog,
    client_context,
    enrolled_node_context,
    upstream_client,
)
from kernel.settings import FLOWER_DIR

GATE_LOG = "gate.jsonl"
DEFAULT_GATE_HOST = "127.0.0.1"  # the demo's; a deployment gives the interface nodes reach
DEFAULT_GATE_PORT = 9092


def gate_log(home: Path) -> RefusalLog:
    """The gate's log of refused handshakes, certificates and routes."""
    return RefusalLog(home / FLOWER_DIR / GATE_LOG)


def start_gate(home: Path, host: str, port: int, superlink: str) -> Forwarder:
    """Start the gate in this process (a daemon thread); ``superlink`` is its loopback address."""
    layout = HomeLayout(home)
    log = gate_log(home)
    server_tls = enrolled_node_context(
        layout.tls_cert, layout.tls_key, layout.ca_cert, layout.pki_dir / CRL_FILE, log
    )
    to_superlink = upstream_client(client_context(layout.ca_cert))
    app = FleetForwarder(f"https://{superlink}", to_superlink, log)
    return Forwarder(app, host, port, server_tls, "coordinator gate").start()
