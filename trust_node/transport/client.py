"""The node's trust-protocol client: mutual TLS to the coordinator, everything via the guard.

Each call builds an :class:`~trust_node.egress.Outbound`, asks the egress guard to
release it with this RPC's encoder, and hands *exactly those bytes* to gRPC (the channel
has no request serializer), so nothing reaches the wire that the guard did not return.
A refused call raises :class:`TrustTransportError` carrying the gRPC status name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import grpc

from governance.ckks import CeremonyOutput, EncryptedVector
from governance.envelope import Envelope
from governance.signed_requests import Scalar
from kernel.wire.trust import KEY_ID, ROUND_KIND, SERVICE
from trust_node.egress import EgressGuard, Outbound
from trust_node.errors import NodeError
from trust_node.transport import serde
from trust_node.transport.serde import (
    KeyMaterialView,
    PendingDecryption,
    PublicationView,
    Receipt,
    RoundView,
    TrustInfoView,
)

DEFAULT_TIMEOUT_S = 60.0
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class TrustTransportError(NodeError):
    """The coordinator refused a request (``code``: gRPC status name) or was unreachable."""

    def __init__(self, rpc: str, code: str, details: str) -> None:
        self.rpc, self.code, self.details = rpc, code, details
        super().__init__(f"{rpc} refused by the coordinator: {code}: {details}")


class TrustClient:
    def __init__(
        self,
        address: str,
        *,
        guard: EgressGuard,
        tls_key: bytes,
        tls_cert: bytes,
        ca_cert: bytes,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        credentials = grpc.ssl_channel_credentials(ca_cert, tls_key, tls_cert)
        self._channel = grpc.secure_channel(
            address,
            credentials,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.enable_retries", 0),
            ],
        )
        self.guard = guard
        self.address = address
        self.timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> TrustClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, rpc: str, message: Outbound) -> Any:
        """Release ``message`` through the guard and send the released bytes as ``rpc``."""
        data = self.guard.release(message, serde.encoder(rpc))
        stub = self._channel.unary_unary(SERVICE + rpc)  # raw bytes in and out
        try:
            reply = stub(data, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise TrustTransportError(
                rpc, code.name if code is not None else "UNKNOWN", str(details)
            ) from None
        return serde.decode_reply(rpc, reply)

    # --- the protocol ---

    def trust_info(self) -> TrustInfoView:
        reply = self.call("GetTrustInfo", serde.outbound("GetTrustInfo"))
        return cast(TrustInfoView, reply)

    def upload_ceremony(self, output: CeremonyOutput) -> tuple[str, int]:
        reply = self.call("UploadCeremony", serde.outbound_ceremony(output))
        return cast(tuple[str, int], reply)

    def key_material(self, key_id: str | None = None) -> KeyMaterialView:
        meta = {KEY_ID: key_id} if key_id else {}
        reply = self.call("GetKeyMaterial", serde.outbound("GetKeyMaterial", meta))
        return cast(KeyMaterialView, reply)

    def current_round(self, round_kind: str) -> RoundView:
        reply = self.call("GetRound", serde.outbound("GetRound", {ROUND_KIND: round_kind}))
        return cast(RoundView, reply)

    def submit(
        self,
        round_kind: str,
        round_id: int,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Scalar] | None = None,
    ) -> Receipt:
        message = serde.outbound_submission(round_kind, round_id, vectors, metadata)
        return cast(Receipt, self.call("Submit", message))

    def decryption_requests(self) -> list[PendingDecryption]:
        reply = self.call("FetchDecryptionRequests", serde.outbound("FetchDecryptionRequests"))
        return cast(list[PendingDecryption], reply)

    def submit_attestation(
        self, request_id: str, round_id: int, attestation: Envelope
    ) -> tuple[int, int]:
        message = serde.outbound_attestation(request_id, round_id, attestation)
        return cast(tuple[int, int], self.call("SubmitAttestation", message))

    def publication(self, subject_id: str) -> PublicationView:
        message = serde.outbound("GetPublication", {"subject_id": subject_id})
        return cast(PublicationView, self.call("GetPublication", message))
