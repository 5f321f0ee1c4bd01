"""The node's one translation between domain objects and protobuf messages.

Requests: an :class:`~trust_node.egress.Outbound` per RPC (``outbound_for_*``) and an
encoder that turns what the egress guard *released* into the request bytes — the guard
calls it, so the bytes handed to gRPC are exactly what the guard returned. Replies:
decoded into plain dataclasses. Nothing else on the node imports ``*_pb2``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.ckks import (
    CeremonyOutput,
    CkksParameters,
    EncryptedVector,
    KeyPackage,
    PublicContextRelease,
)
from governance.envelope import Envelope
from governance.signed_requests import Scalar
from protos import trust_pb2 as pb
from trust_node.egress import Outbound, Released

#: RPC -> (method name in the signed envelope, outbound kind). Same table as the
#: coordinator's serde; a test keeps them equal.
METHODS: dict[str, tuple[str, str]] = {
    "GetTrustInfo": ("get_trust_info", "metadata"),
    "UploadCeremony": ("upload_ceremony", "enrolment"),
    "GetKeyMaterial": ("get_key_material", "metadata"),
    "GetRound": ("get_round", "metadata"),
    "Submit": ("submit", "ciphertext_statistics"),
    "FetchDecryptionRequests": ("fetch_decryption_requests", "metadata"),
    "SubmitAttestation": ("submit_attestation", "attestation"),
    "GetPublication": ("get_publication", "metadata"),
}
REPLIES: dict[str, Any] = {
    "GetTrustInfo": pb.TrustInfo,
    "UploadCeremony": pb.UploadCeremonyReply,
    "GetKeyMaterial": pb.KeyMaterial,
    "GetRound": pb.RoundInfo,
    "Submit": pb.SubmissionReceipt,
    "FetchDecryptionRequests": pb.DecryptionRequests,
    "SubmitAttestation": pb.AttestationReceipt,
    "GetPublication": pb.PublicationMsg,
}
SERVICE = "/gcdt.trust.v1.TrustCoordinator/"


def submission_outbound_kind(round_kind: str) -> str:
    return "ciphertext_statistics" if round_kind == "statistics" else "ciphertext_update"


# --- outbound messages ---------------------------------------------------------------


def outbound(rpc: str, metadata: Mapping[str, Scalar] | None = None, **parts: Any) -> Outbound:
    method, kind = METHODS[rpc]
    if rpc == "Submit":
        kind = submission_outbound_kind(str((metadata or {}).get("round_kind", "")))
    return Outbound(kind=kind, method=method, metadata=dict(metadata or {}), **parts)  # type: ignore[arg-type]


def outbound_submission(
    round_kind: str,
    round_id: int,
    vectors: Sequence[EncryptedVector],
    metadata: Mapping[str, Scalar] | None = None,
) -> Outbound:
    return outbound(
        "Submit",
        {**(metadata or {}), "round_kind": round_kind},
        round_id=round_id,
        ciphertexts=tuple(vectors),
    )


def outbound_ceremony(output: CeremonyOutput) -> Outbound:
    return outbound(
        "UploadCeremony",
        {"key_id": output.key_id, "period": output.period},
        key_packages=tuple(output.packages[n] for n in sorted(output.packages)),
        public_release=output.public_release,
    )


def outbound_attestation(request_id: str, round_id: int, attestation: Envelope) -> Outbound:
    return outbound(
        "SubmitAttestation",
        {"request_id": request_id},
        round_id=round_id,
        attestations=(attestation,),
    )


# --- encoding what the guard released ------------------------------------------------


def _scalar(value: Scalar) -> pb.Scalar:
    if isinstance(value, bool):
        return pb.Scalar(flag=value)
    if isinstance(value, int):
        return pb.Scalar(integer=value)
    return pb.Scalar(text=value)


def _vector(vector: EncryptedVector) -> pb.EncryptedVectorMsg:
    return pb.EncryptedVectorMsg(
        key_id=vector.key_id, length=vector.length, chunks=list(vector.chunks)
    )


def _release_msg(release: PublicContextRelease) -> pb.PublicContextMsg:
    return pb.PublicContextMsg(
        ceremony_id=release.ceremony_id,
        key_id=release.key_id,
        period=release.period,
        params_json=json.dumps(release.params.to_dict(), sort_keys=True),
        public_context=release.public_context,
        signature=release.signature,
    )


def encoder(rpc: str) -> Callable[[Released], bytes]:
    """The encoder the egress guard calls for ``rpc``: released message -> request bytes."""

    def encode(released: Released) -> bytes:
        o = released.outbound
        common: dict[str, Any] = {
            "envelope": released.envelope.to_bytes(),
            "metadata": {k: _scalar(v) for k, v in o.metadata.items()},
        }
        message: Any
        if rpc == "Submit":
            message = pb.Submission(
                **common,
                round_id=o.round_id or 0,
                kind=str(o.metadata.get("round_kind", "")),
                vectors=[_vector(v) for v in o.ciphertexts],
            )
        elif rpc == "SubmitAttestation":
            message = pb.AttestationSubmission(
                **common, round_id=o.round_id or 0, attestation=o.attestations[0].to_bytes()
            )
        elif rpc == "UploadCeremony":
            assert o.public_release is not None
            message = pb.UploadCeremonyRequest(
                **common,
                public_context=_release_msg(o.public_release),
                key_packages=[p.to_bytes() for p in o.key_packages],
            )
        else:
            request_type = {
                "GetTrustInfo": pb.TrustInfoRequest,
                "GetKeyMaterial": pb.KeyMaterialRequest,
                "GetRound": pb.RoundRequest,
                "FetchDecryptionRequests": pb.DecryptionRequestsQuery,
                "GetPublication": pb.PublicationQuery,
            }[rpc]
            message = request_type(**common)
        return bytes(message.SerializeToString())

    return encode


# --- replies -------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerNode:
    node_id: str
    jurisdiction: str
    identity_public_key: bytes
    transport_public_key: bytes
    key_holder: bool


@dataclass(frozen=True)
class TrustInfoView:
    coordinator_id: str
    coordinator_identity_key: bytes
    trust_policy_toml: bytes
    trust_policy_sig: bytes
    crl_pem: bytes
    nodes: tuple[PeerNode, ...]


@dataclass(frozen=True)
class KeyMaterialView:
    release: PublicContextRelease
    ceremony_identity_key: bytes
    package: KeyPackage | None


@dataclass(frozen=True)
class RoundView:
    round_id: int
    kind: str
    open: bool
    parameters: dict[str, str]


@dataclass(frozen=True)
class Receipt:
    submission_id: int
    log_index: int
    digest: str


@dataclass(frozen=True)
class PendingDecryption:
    request_id: str
    round_id: int
    subject_id: str
    digest: str
    vector: EncryptedVector = field(repr=False)


@dataclass(frozen=True)
class PublicationView:
    subject_id: str
    kind: str
    body: dict[str, Any]
    log_index: int


def decode_reply(rpc: str, data: bytes) -> Any:
    """Parse a reply of ``rpc`` and turn it into the view dataclass above."""
    msg = REPLIES[rpc].FromString(data)
    if rpc == "GetTrustInfo":
        return TrustInfoView(
            msg.coordinator_id,
            msg.coordinator_identity_key,
            msg.trust_policy_toml,
            msg.trust_policy_sig,
            msg.crl_pem,
            tuple(
                PeerNode(
                    n.node_id,
                    n.jurisdiction,
                    n.identity_public_key,
                    n.transport_public_key,
                    n.key_holder,
                )
                for n in msg.nodes
            ),
        )
    if rpc == "UploadCeremony":
        return msg.key_id, msg.log_index
    if rpc == "GetKeyMaterial":
        r = msg.public_context
        release = PublicContextRelease(
            ceremony_id=r.ceremony_id,
            key_id=r.key_id,
            period=r.period,
            params=CkksParameters.from_dict(json.loads(r.params_json)),
            public_context=r.public_context,
            signature=r.signature,
        )
        package = KeyPackage.from_bytes(msg.key_package) if msg.key_package else None
        return KeyMaterialView(release, msg.ceremony_identity_key, package)
    if rpc == "GetRound":
        return RoundView(msg.round_id, msg.kind, msg.open, dict(msg.parameters))
    if rpc == "Submit":
        return Receipt(msg.submission_id, msg.log_index, msg.digest)
    if rpc == "FetchDecryptionRequests":
        return [
            PendingDecryption(
                r.request_id,
                r.round_id,
                r.subject_id,
                r.digest,
                EncryptedVector(r.vector.key_id, r.vector.length, tuple(r.vector.chunks)),
            )
            for r in msg.requests
        ]
    if rpc == "SubmitAttestation":
        return msg.log_index, msg.attestations_received
    if rpc == "GetPublication":
        return PublicationView(msg.subject_id, msg.kind, json.loads(msg.body_json), msg.log_index)
    raise KeyError(rpc)
