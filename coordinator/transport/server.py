"""The coordinator's trust gRPC server: mutual TLS, thin servicers, one error map.

Authentication happens twice, on purpose:

1. **Handshake** (BoringSSL, ``require_client_auth=True``): the client certificate must
   chain to the trust root and be within its validity; no certificate, another CA, or an
   expired certificate never reaches Python (the client sees ``UNAVAILABLE``).
2. **First thing in every RPC**: gRPC Python cannot consult a CRL during the handshake,
   so the peer certificate's serial is checked against the trust root's signed CRL
   (``pki/crl.pem``, re-read when it changes), then the certificate's node id and serial
   must be an *active* enrolled node. The request's signed envelope must be signed by
   that same node's identity key (the node id comes from the certificate, never from
   the request), bind exactly the request received, carry an unseen nonce and the
   current round.

Status codes (the whole map; see also ``docs/operator-guide.md``):

=====================================  ======================
revoked / unverifiable peer certificate UNAUTHENTICATED
bad signature, wrong signer, altered    UNAUTHENTICATED
unknown / inactive node, not key holder PERMISSION_DENIED
replayed nonce, duplicate submission    ALREADY_EXISTS
stale round, no open round, clock skew  FAILED_PRECONDITION
bad ciphertext params/length, malformed INVALID_ARGUMENT
no such item (context, package, ...)    NOT_FOUND
=====================================  ======================
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
from cryptography import x509

from coordinator.context import CoordinatorContext
from coordinator.errors import CoordinatorError
from coordinator.store import NodeRecord
from coordinator.store.errors import (
    AlreadyEnrolledError,
    AlreadyPublishedError,
    DuplicateSubmissionError,
    InvalidRequestError,
    NotFoundError,
    RoundStateError,
    UnknownNodeError,
)
from coordinator.transport import serde
from coordinator.transport.handlers import TrustHandlers
from governance.attestation import AttestationError
from governance.ckks import CkksError
from governance.errors import (
    BadSignatureError,
    EnvelopeTimeError,
    GovernanceError,
    MalformedEnvelopeError,
    PKIError,
    ReplayError,
    StaleRoundError,
    UnexpectedKindError,
    WrongSignerError,
)
from governance.pki import (
    load_certificate,
    load_crl,
    node_bindings,
    verify_node_certificate,
)
from governance.signed_requests import open_request
from kernel.settings import Settings
from protos import trust_pb2_grpc

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Domain error -> gRPC status; the first matching class wins (subclasses listed first).
STATUS_MAP: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (ReplayError, grpc.StatusCode.ALREADY_EXISTS),
    (StaleRoundError, grpc.StatusCode.FAILED_PRECONDITION),
    (EnvelopeTimeError, grpc.StatusCode.FAILED_PRECONDITION),
    (MalformedEnvelopeError, grpc.StatusCode.INVALID_ARGUMENT),
    (BadSignatureError, grpc.StatusCode.UNAUTHENTICATED),
    (WrongSignerError, grpc.StatusCode.UNAUTHENTICATED),
    (UnexpectedKindError, grpc.StatusCode.UNAUTHENTICATED),
    (PKIError, grpc.StatusCode.UNAUTHENTICATED),
    (UnknownNodeError, grpc.StatusCode.PERMISSION_DENIED),
    (AlreadyEnrolledError, grpc.StatusCode.ALREADY_EXISTS),
    (AlreadyPublishedError, grpc.StatusCode.ALREADY_EXISTS),
    (DuplicateSubmissionError, grpc.StatusCode.ALREADY_EXISTS),
    (RoundStateError, grpc.StatusCode.FAILED_PRECONDITION),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (CkksError, grpc.StatusCode.INVALID_ARGUMENT),
    (AttestationError, grpc.StatusCode.INVALID_ARGUMENT),
    (GovernanceError, grpc.StatusCode.INVALID_ARGUMENT),
    (CoordinatorError, grpc.StatusCode.INVALID_ARGUMENT),
)


def status_for(exc: BaseException) -> grpc.StatusCode | None:
    """The gRPC status for a domain error (first match in STATUS_MAP), None for a bug."""
    for cls, code in STATUS_MAP:
        if isinstance(exc, cls):
            return code
    return None


class _Revocation:
    """The trust root's CRL, re-read whenever the file changes."""

    def __init__(self, path: Path, root: x509.Certificate) -> None:
        self._path, self._root = path, root
        self._stamp: float | None = None
        self._serials: frozenset[int] = frozenset()
        self._lock = threading.Lock()

    def serials(self) -> frozenset[int]:
        stamp = self._path.stat().st_mtime_ns if self._path.exists() else None
        with self._lock:
            if stamp != self._stamp:
                self._serials = load_crl(self._path, self._root)
                self._stamp = stamp
            return self._serials


class TrustServicer(trust_pb2_grpc.TrustCoordinatorServicer):
    """Decode, authenticate, call a handler, encode; errors become status codes."""

    def __init__(self, handlers: TrustHandlers, root: x509.Certificate) -> None:
        self.h = handlers
        self._root = root
        self._crl = _Revocation(handlers.layout.pki_dir / "crl.pem", root)

    # -- the common path --

    def _peer(self, context: grpc.ServicerContext) -> NodeRecord:
        pems = context.auth_context().get("x509_pem_cert")
        if not pems:
            raise UnknownNodeError("no client certificate on this connection")
        cert = x509.load_pem_x509_certificate(pems[0])
        verify_node_certificate(cert, self._root, revoked=self._crl.serials())
        bound = node_bindings(cert)
        node = self.h.store.active_node(bound.node_id, bound.serial_number)
        if node.identity_public_key != bound.identity_public_key:
            raise UnknownNodeError(f"certificate of {node.node_id!r} binds another identity key")
        return node

    def _authenticated(
        self,
        rpc: str,
        request: Any,
        context: grpc.ServicerContext,
        current_round: Callable[[serde.DecodedRequest], int | None] | None = None,
    ) -> tuple[NodeRecord, serde.DecodedRequest]:
        node = self._peer(context)
        decoded = serde.request_from_proto(rpc, request)
        open_request(
            decoded.envelope,
            decoded.summary(),
            {node.node_id: node.identity_public_key},
            nonce_store=self.h.nonces,
            expected_signer_id=node.node_id,
            current_round=current_round(decoded) if current_round else None,
        )
        return node, decoded

    def _call(self, context: grpc.ServicerContext, action: Callable[[], T]) -> T:
        try:
            return action()
        except Exception as exc:
            code = status_for(exc)
            if code is None:
                log.exception("internal error in trust RPC")
                context.abort(grpc.StatusCode.INTERNAL, "internal error")
            log.info("refused: %s: %s", type(exc).__name__, exc)
            context.abort(code, f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    # -- RPCs --

    def GetTrustInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("GetTrustInfo", request, context)
            info = self.h.trust_info(node, dec)
            return serde.trust_info_to_proto(
                coordinator_id=info.coordinator_id,
                identity_key=info.identity_key,
                policy_toml=info.policy_toml,
                policy_sig=info.policy_sig,
                crl_pem=info.crl_pem,
                nodes=info.nodes,
            )

        return self._call(context, run)

    def UploadCeremony(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("UploadCeremony", request, context)
            return serde.upload_reply_to_proto(*self.h.upload_ceremony(node, dec))

        return self._call(context, run)

    def GetKeyMaterial(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("GetKeyMaterial", request, context)
            km = self.h.key_material(node, dec)
            return serde.key_material_to_proto(km.release, km.ceremony_key, km.package)

        return self._call(context, run)

    def GetRound(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("GetRound", request, context)
            round_id, kind, params = self.h.get_round(node, dec)
            return serde.round_to_proto(round_id, kind, True, params)

        return self._call(context, run)

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated(
                "Submit", request, context, lambda d: self.h.round_for(d.text("round_kind"))
            )
            return serde.receipt_to_proto(*self.h.submit(node, dec))

        return self._call(context, run)

    def FetchDecryptionRequests(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("FetchDecryptionRequests", request, context)
            return serde.decryption_requests_to_proto(self.h.decryption_requests(node, dec))

        return self._call(context, run)

    def SubmitAttestation(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated(
                "SubmitAttestation",
                request,
                context,
                lambda d: self.h.store.decryption_request(d.text("request_id")).round_id,
            )
            return serde.attestation_receipt_to_proto(*self.h.submit_attestation(node, dec))

        return self._call(context, run)

    def GetPublication(self, request: Any, context: grpc.ServicerContext) -> Any:
        def run() -> Any:
            node, dec = self._authenticated("GetPublication", request, context)
            return serde.publication_to_proto(self.h.publication(node, dec))

        return self._call(context, run)


@dataclass
class TrustServer:
    """A running trust gRPC server; ``stop()`` it (or use as a context manager)."""

    server: grpc.Server
    host: str
    port: int
    handlers: TrustHandlers

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, grace: float | None = 1.0) -> None:
        self.server.stop(grace).wait()
        self.handlers.store.engine.dispose()

    def wait(self) -> None:
        self.server.wait_for_termination()

    def __enter__(self) -> TrustServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_handlers(context: CoordinatorContext) -> TrustHandlers:
    """Handlers over the coordinator's parts (after ``gcdt-coordinator init``).

    Round kinds are added afterwards with ``handlers.register_round_kind``.
    """
    return TrustHandlers(
        layout=context.layout,
        identity=context.identity,
        store=context.store,
        translog=context.translog,
        nonces=context.nonces,
    )


def start_server(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    handlers: TrustHandlers | None = None,
    max_workers: int = 8,
) -> TrustServer:
    """Start the trust server on ``host:port`` (0: a free port) with mutual TLS."""
    handlers = handlers or make_handlers(CoordinatorContext(settings))
    layout = handlers.layout
    root = load_certificate(layout.ca_cert)
    credentials = grpc.ssl_server_credentials(
        [(layout.tls_key.read_bytes(), layout.tls_cert.read_bytes())],
        root_certificates=layout.ca_cert.read_bytes(),
        require_client_auth=True,
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)],
    )
    servicer = TrustServicer(handlers, root)
    trust_pb2_grpc.add_TrustCoordinatorServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    bound = server.add_secure_port(f"{host}:{port}", credentials)
    if bound == 0:
        raise CoordinatorError(f"cannot bind the trust server to {host}:{port}")
    server.start()
    return TrustServer(server, host, bound, handlers)
