"""The certificates the trust root issues work for gRPC mutual TLS, and nothing else does.

A real gRPC server on loopback with ``require_client_auth``: a node enrolled by the trust
root gets through; a client with a certificate from another root, or with none, does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.identity import Identity
from governance.pki import (
    TrustRoot,
    certificate_pem,
    generate_tls_key,
    make_csr,
)

METHOD = "/gcdt.test.Echo/Echo"


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    peer_cn: bytes = context.auth_context().get("x509_common_name", [b"?"])[0]
    return peer_cn + b":" + request


@pytest.fixture
def root(tmp_path: Path) -> TrustRoot:
    return TrustRoot.create(tmp_path / "pki")


@pytest.fixture
def server_port(root: TrustRoot) -> Iterator[int]:
    key = generate_tls_key()
    cert = root.issue_server_certificate(make_csr(key, "coordinator"), "coordinator")
    handler = grpc.method_handlers_generic_handler(
        "gcdt.test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    credentials = grpc.ssl_server_credentials(
        [(_pem_key(key), certificate_pem(cert))],
        root_certificates=certificate_pem(root.certificate),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None)


def _call(
    port: int, root_cert: bytes, client_key: bytes | None, client_cert: bytes | None
) -> bytes:
    credentials = grpc.ssl_channel_credentials(root_cert, client_key, client_cert)
    with grpc.secure_channel(
        f"localhost:{port}", credentials, options=[("grpc.enable_retries", 0)]
    ) as channel:
        echo = channel.unary_unary(METHOD)
        reply: bytes = echo(b"hello", timeout=10, wait_for_ready=False)
        return reply


def _enrolled_client(root: TrustRoot, node_id: str) -> tuple[bytes, bytes]:
    key = generate_tls_key()
    identity = Identity.generate(node_id)
    cert = root.issue_node_certificate(make_csr(key, node_id), node_id, "IN", identity.public_key)
    return _pem_key(key), certificate_pem(cert)


def test_enrolled_node_completes_mutual_tls(root: TrustRoot, server_port: int) -> None:
    key, cert = _enrolled_client(root, "node-in-1")
    assert _call(server_port, certificate_pem(root.certificate), key, cert) == b"node-in-1:hello"


def test_node_from_another_root_is_refused(
    tmp_path: Path, root: TrustRoot, server_port: int
) -> None:
    impostor = TrustRoot.create(tmp_path / "impostor")
    key, cert = _enrolled_client(impostor, "node-in-1")
    with pytest.raises(grpc.RpcError) as info:
        _call(server_port, certificate_pem(root.certificate), key, cert)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_without_certificate_is_refused(root: TrustRoot, server_port: int) -> None:
    with pytest.raises(grpc.RpcError) as info:
        _call(server_port, certificate_pem(root.certificate), None, None)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
