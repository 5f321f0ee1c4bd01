"""The node's uplink: its SuperNode reaches the coordinator's gate with the node's certificate.

Flower 1.41's SuperNode cannot present a client certificate (its HTTP client gets only a
root certificate), and the coordinator's gate (``coordinator.federation.gate``) admits
only enrolled nodes' certificates. So ``gcdt-node supernode`` starts this forwarder on the
node's loopback: the SuperNode talks TLS to it, with a certificate made for this one
start (self-signed, for ``127.0.0.1`` only, its key 0600 under ``GCDT_HOME/flower/uplink``,
the SuperNode's ``--root-certificates``), and the uplink forwards ``POST /v1/fleet/...``,
and nothing else, to the gate over mutual TLS with the node's own certificate
(``tls/cert.pem``), verifying the gate against the trust root (``tls/ca.crt``). Refused
routes go to ``GCDT_HOME/flower/uplink.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from governance.identity import write_secret
from governance.pki import HomeLayout
from governance.pki.gateway import (
    FleetForwarder,
    Forwarder,
    RefusalLog,
    client_context,
    upstream_client,
)
from kernel.settings import FLOWER_DIR
from trust_node.errors import NodeSetupError

UPLINK_DIR = "uplink"
UPLINK_LOG = "uplink.jsonl"
LOOPBACK = "127.0.0.1"
#: The local certificate lives as long as one SuperNode start could (it is remade each start).
LOCAL_CERT_DAYS = 30


def local_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed P-256 certificate for 127.0.0.1 (cert, key 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gcdt node uplink (loopback)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=LOCAL_CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    key_path.unlink(missing_ok=True)
    write_secret(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def start_uplink(home: Path, gate: str, port: int = 0) -> tuple[Forwarder, Path]:
    """Start the uplink in this process; return it and the certificate the SuperNode pins."""
    layout = HomeLayout(home)
    for path in (layout.tls_cert, layout.tls_key, layout.ca_cert):
        if not path.exists():
            raise NodeSetupError(f"{path} is missing: enrol the node first (`gcdt-node enrol`)")
    cert, key = local_certificate(home / FLOWER_DIR / UPLINK_DIR)
    local_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    local_tls.load_cert_chain(cert, key)
    to_gate = upstream_client(client_context(layout.ca_cert, layout.tls_cert, layout.tls_key))
    app = FleetForwarder(f"https://{gate}", to_gate, RefusalLog(home / FLOWER_DIR / UPLINK_LOG))
    return Forwarder(app, LOOPBACK, port, local_tls, "node uplink").start(), cert
