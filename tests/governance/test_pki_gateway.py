"""The Fleet forwarder behind mutual TLS: enrolled nodes reach Fleet routes, nothing else does.

A real forwarder (uvicorn, OpenSSL via ``ssl``) in front of a real upstream HTTP server on
loopback; certificates from a real trust root. Checked: an enrolled node reaches a Fleet
route; a Control route is refused with 403 and logged; no certificate, a certificate of
another root, the coordinator's own server certificate (not a node's) and a revoked node
(the CRL changed while the forwarder runs) are refused at the handshake and logged.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from governance.identity import Identity
from governance.pki import TrustRoot, certificate_pem, generate_tls_key, make_csr
from governance.pki.gateway import (
    FleetForwarder,
    Forwarder,
    RefusalLog,
    client_context,
    enrolled_node_context,
    upstream_client,
)
from tests.governance.test_pki_grpc import _pem_key


async def _echo(request: Request) -> Response:
    return Response(b"upstream:" + await request.body(), headers={"x-flwr": "1"})


@dataclass
class Gate:
    root: TrustRoot
    address: str
    log: RefusalLog
    tmp: Path


def _pair(tmp: Path, name: str, key_pem: bytes, cert_pem: bytes) -> tuple[Path, Path]:
    cert, key = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return cert, key


def _node(root: TrustRoot, tmp: Path, node_id: str) -> tuple[Path, Path, int]:
    key = generate_tls_key()
    identity = Identity.generate(node_id)
    cert = root.issue_node_certificate(make_csr(key, node_id), node_id, "IN", identity.public_key)
    crt, k = _pair(tmp, node_id, _pem_key(key), certificate_pem(cert))
    return crt, k, cert.serial_number


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    root = TrustRoot.create(tmp_path / "pki")
    ca = tmp_path / "ca.crt"
    ca.write_bytes(certificate_pem(root.certificate))
    key = generate_tls_key()
    server = root.issue_server_certificate(make_csr(key, "coordinator"), "coordinator")
    cert, key_path = _pair(tmp_path, "server", _pem_key(key), certificate_pem(server))
    upstream_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    upstream_tls.load_cert_chain(cert, key_path)
    app = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST"])])
    upstream = Forwarder(app, "127.0.0.1", 0, upstream_tls, "test upstream").start()
    log = RefusalLog(tmp_path / "gate.jsonl")
    tls = enrolled_node_context(cert, key_path, ca, root.crl_path, log)
    forward = FleetForwarder(
        f"https://{upstream.address}", upstream_client(client_context(ca)), log
    )
    front = Forwarder(forward, "127.0.0.1", 0, tls, "test gate").start()
    try:
        yield Gate(root, front.address, log, tmp_path)
    finally:
        front.stop()
        upstream.stop()


def _post(gate: Gate, path: str, cert: tuple[Path, Path] | None) -> httpx.Response:
    context = client_context(gate.tmp / "ca.crt", *(cert or (None, None)))
    with httpx.Client(verify=context, timeout=10) as client:
        return client.post(f"https://{gate.address}{path}", content=b"hello")


def test_an_enrolled_node_reaches_fleet_routes_only(gate: Gate) -> None:
    crt, key, _ = _node(gate.root, gate.tmp, "node-in-1")
    reply = _post(gate, "/v1/fleet/pull-messages", (crt, key))
    assert (reply.status_code, reply.content) == (200, b"upstream:hello")
    assert reply.headers["x-flwr"] == "1"
    refused = _post(gate, "/v1/control/start-run", (crt, key))
    assert refused.status_code == 403
    assert _post(gate, "/v1/runtime/acquire-task", (crt, key)).status_code == 403
    paths = [e["path"] for e in gate.log.entries() if e["event"] == "route_refused"]
    assert paths == ["/v1/control/start-run", "/v1/runtime/acquire-task"]


def test_no_certificate_is_refused_at_the_handshake(gate: Gate) -> None:
    with pytest.raises(httpx.HTTPError):
        _post(gate, "/v1/fleet/pull-messages", None)
    assert [e["event"] for e in gate.log.entries()] == ["handshake_refused"]


def test_another_roots_node_is_refused(gate: Gate) -> None:
    impostor = TrustRoot.create(gate.tmp / "impostor")
    crt, key, _ = _node(impostor, gate.tmp, "node-in-1")
    with pytest.raises(httpx.HTTPError):
        _post(gate, "/v1/fleet/pull-messages", (crt, key))
    assert [e["event"] for e in gate.log.entries()] == ["handshake_refused"]


def test_a_certificate_that_is_not_a_nodes_is_refused(gate: Gate) -> None:
    key = generate_tls_key()
    server = gate.root.issue_server_certificate(make_csr(key, "coordinator"), "coordinator")
    pair = _pair(gate.tmp, "other-server", _pem_key(key), certificate_pem(server))
    with pytest.raises(httpx.HTTPError):
        _post(gate, "/v1/fleet/pull-messages", pair)
    assert [e["event"] for e in gate.log.entries()] == ["certificate_refused"]


def test_a_node_revoked_while_the_gate_runs_is_refused(gate: Gate) -> None:
    crt, key, serial = _node(gate.root, gate.tmp, "node-in-1")
    assert _post(gate, "/v1/fleet/pull-messages", (crt, key)).status_code == 200
    gate.root.revoke(serial)
    with pytest.raises(httpx.HTTPError):
        _post(gate, "/v1/fleet/pull-messages", (crt, key))
    [entry] = gate.log.entries()
    assert entry["event"] == "certificate_refused" and "Revoked" in entry["reason"]
