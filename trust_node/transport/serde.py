"""The node's one translation between domain objects and protobuf messages.

Requests: an :class:`~trust_node.egress.Outbound` per RPC (``outbound_for_*``) and an
encoder that turns what the egress guard *released* into the request bytes — the guard
calls it, so the bytes handed to gRPC are exactly what the guard returned. Replies:
decoded into plain dataclasses. Nothing else on the node imports ``*_pb2``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from kernel.wire.trust import (
    KEY_ID,
    METHODS,
    PERIOD,
    REQUEST_ID,
    ROUND_KIND,
    submission_outbound_kind,
)
from protos import trust_pb2 as pb
from trust_node.egress import Outbound, Released

# --- outbound messages ---------------------------------------------------------------


def outbound(rpc: str, metadata: Mapping[str, Scalar] | None = None, **parts: Any) -> Outbound:
    """Describe a request of ``rpc`` for the egress guard; nothing leaves until it is released.

    The method name and outbound kind are the ones the coordinator checks the signed
    envelope against (:data:`kernel.wire.trust.METHODS`); a ``Submit``'s kind follows its
    ``round_kind`` metadata.
    """
    method, kind = METHODS[rpc]
    if rpc == "Submit":
        kind = submission_outbound_kind(str((metadata or {}).get(ROUND_KIND, "")))
    return Outbound(kind=kind, method=method, metadata=dict(metadata or {}), **parts)  # type: ignore[arg-type]


def outbound_submission(
    round_kind: str,
    round_id: int,
    vectors: Sequence[EncryptedVector],
    metadata: Mapping[str, Scalar] | None = None,
) -> Outbound:
    """``Submit``'s outbound: ciphertexts for round ``round_id`` of kind ``round_kind``.

    The round kind goes into the signed metadata: it decides the outbound kind, and the
    coordinator refuses a ``Submission`` whose ``kind`` differs from it.
    """
    return outbound(
        "Submit",
        {**(metadata or {}), ROUND_KIND: round_kind},
        round_id=round_id,
        ciphertexts=tuple(vectors),
    )


def outbound_ceremony(output: CeremonyOutput) -> Outbound:
    """``UploadCeremony``'s outbound (an ``enrolment`` message): the signed public context and
    the sealed key packages in node-id order; key id and period travel as signed metadata.
    The release's group and recipients stay behind: its signature covers them, and each
    verifier supplies the ones the trust policy makes it expect.
    """
    return outbound(
        "UploadCeremony",
        {KEY_ID: output.key_id, PERIOD: output.period},
        key_packages=tuple(output.packages[n] for n in sorted(output.packages)),
        public_release=replace(output.public_release, group="", recipients=()),
    )


def outbound_attestation(request_id: str, round_id: int, attestation: Envelope) -> Outbound:
    """``SubmitAttestation``'s outbound (an ``attestation`` message): a signed attestation
    answering decryption request ``request_id``, whose id travels as signed metadata.
    """
    return outbound(
        "SubmitAttestation",
        {REQUEST_ID: request_id},
        round_id=round_id,
        attestations=(attestation,),
    )


# --- encoding what the guard released ------------------------------------------------


def scalar_to_proto(value: Scalar) -> pb.Scalar:
    """One signed metadata value (the guard allows only text, integers and flags)."""
    if isinstance(value, bool):
        return pb.Scalar(flag=value)
    if isinstance(value, int):
        return pb.Scalar(integer=value)
    return pb.Scalar(text=value)


def vector_to_proto(vector: EncryptedVector) -> pb.EncryptedVectorMsg:
    """A ciphertext in its chunked wire form."""
    return pb.EncryptedVectorMsg(
        key_id=vector.key_id, length=vector.length, chunks=list(vector.chunks)
    )


def release_to_proto(release: PublicContextRelease) -> pb.PublicContextMsg:
    """The ceremony's signed public context, as the coordinator stores and re-serves it."""
    return pb.PublicContextMsg(
        ceremony_id=release.ceremony_id,
        key_id=release.key_id,
        period=release.period,
        params_json=json.dumps(release.params.to_dict(), sort_keys=True),
        public_context=release.public_context,
        signature=release.signature,
    )


_PLAIN_REQUESTS: dict[str, Any] = {
    "GetTrustInfo": pb.TrustInfoRequest,
    "GetKeyMaterial": pb.KeyMaterialRequest,
    "GetRound": pb.RoundRequest,
    "FetchDecryptionRequests": pb.DecryptionRequestsQuery,
    "GetPublication": pb.PublicationQuery,
}


def request_to_proto(rpc: str, released: Released) -> Any:
    """The request message of ``rpc`` built from what the guard released, and nothing else."""
    o = released.outbound
    common: dict[str, Any] = {
        "envelope": released.envelope.to_bytes(),
        "metadata": {k: scalar_to_proto(v) for k, v in o.metadata.items()},
    }
    if rpc == "Submit":
        return pb.Submission(
            **common,
            round_id=o.round_id or 0,
            kind=str(o.metadata.get(ROUND_KIND, "")),
            vectors=[vector_to_proto(v) for v in o.ciphertexts],
        )
    if rpc == "SubmitAttestation":
        return pb.AttestationSubmission(
            **common, round_id=o.round_id or 0, attestation=o.attestations[0].to_bytes()
        )
    if rpc == "UploadCeremony":
        assert o.public_release is not None
        return pb.UploadCeremonyRequest(
            **common,
            public_context=release_to_proto(o.public_release),
            key_packages=[p.to_bytes() for p in o.key_packages],
        )
    return _PLAIN_REQUESTS[rpc](**common)


def encoder(rpc: str) -> Callable[[Released], bytes]:
    """The encoder the egress guard calls for ``rpc``: released message -> request bytes."""

    def encode(released: Released) -> bytes:
        return bytes(request_to_proto(rpc, released).SerializeToString())

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
class SignedSubmission:
    """One submission the coordinator says is in a sum (checked by the key holder, not here)."""

    node_id: str
    ciphertext_digest: str
    envelope: bytes = field(repr=False)  # the submission's signed envelope, as sent
    vector: EncryptedVector = field(repr=False)


@dataclass(frozen=True)
class PendingDecryption:
    request_id: str
    round_id: int
    subject_id: str
    digest: str
    vector: EncryptedVector = field(repr=False)
    kind: str = ""  # the round kind: how this node attests it
    parameters: Mapping[str, str] = field(default_factory=dict)
    #: the signed submissions the sum is said to be made of
    submissions: tuple[SignedSubmission, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class PublicationView:
    subject_id: str
    kind: str
    body: dict[str, Any]
    log_index: int


def trust_info_from_proto(msg: pb.TrustInfo) -> TrustInfoView:
    """The trust's members and signed policy as the coordinator serves them."""
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


def upload_reply_from_proto(msg: pb.UploadCeremonyReply) -> tuple[str, int]:
    """The key id the coordinator stored the ceremony under, and its log index."""
    return msg.key_id, msg.log_index


def release_from_proto(msg: pb.PublicContextMsg) -> PublicContextRelease:
    """The ceremony's public context; its signature is checked by the caller, not here."""
    return PublicContextRelease(
        ceremony_id=msg.ceremony_id,
        key_id=msg.key_id,
        period=msg.period,
        params=CkksParameters.from_dict(json.loads(msg.params_json)),
        public_context=msg.public_context,
        signature=msg.signature,
    )


def key_material_from_proto(msg: pb.KeyMaterial) -> KeyMaterialView:
    """The public context, the ceremony signer's key and this node's sealed package, if any."""
    package = KeyPackage.from_bytes(msg.key_package) if msg.key_package else None
    return KeyMaterialView(
        release_from_proto(msg.public_context), msg.ceremony_identity_key, package
    )


def round_from_proto(msg: pb.RoundInfo) -> RoundView:
    """The current round of a kind and its parameters."""
    return RoundView(msg.round_id, msg.kind, msg.open, dict(msg.parameters))


def receipt_from_proto(msg: pb.SubmissionReceipt) -> Receipt:
    """What the coordinator logged for a submission."""
    return Receipt(msg.submission_id, msg.log_index, msg.digest)


def vector_from_proto(msg: pb.EncryptedVectorMsg) -> EncryptedVector:
    """A ciphertext from its chunked wire form."""
    return EncryptedVector(msg.key_id, msg.length, tuple(msg.chunks))


def signed_submission_from_proto(msg: pb.SignedSubmissionMsg) -> SignedSubmission:
    """One listed submission of a sum: contributor, digest, envelope bytes, ciphertext."""
    return SignedSubmission(
        msg.node_id, msg.ciphertext_digest, bytes(msg.envelope), vector_from_proto(msg.vector)
    )


def decryption_requests_from_proto(msg: pb.DecryptionRequests) -> list[PendingDecryption]:
    """The sums this key holder is asked to decrypt and attest."""
    return [
        PendingDecryption(
            r.request_id,
            r.round_id,
            r.subject_id,
            r.digest,
            vector_from_proto(r.vector),
            r.kind,
            dict(r.parameters),
            tuple(signed_submission_from_proto(s) for s in r.submissions),
        )
        for r in msg.requests
    ]


def attestation_receipt_from_proto(msg: pb.AttestationReceipt) -> tuple[int, int]:
    """The attestation's log index and how many attestations the request now has."""
    return msg.log_index, msg.attestations_received


def publication_from_proto(msg: pb.PublicationMsg) -> PublicationView:
    """A published aggregate as logged."""
    return PublicationView(msg.subject_id, msg.kind, json.loads(msg.body_json), msg.log_index)


#: RPC -> (reply message type, its ``x_from_proto``).
REPLIES: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "GetTrustInfo": (pb.TrustInfo, trust_info_from_proto),
    "UploadCeremony": (pb.UploadCeremonyReply, upload_reply_from_proto),
    "GetKeyMaterial": (pb.KeyMaterial, key_material_from_proto),
    "GetRound": (pb.RoundInfo, round_from_proto),
    "Submit": (pb.SubmissionReceipt, receipt_from_proto),
    "FetchDecryptionRequests": (pb.DecryptionRequests, decryption_requests_from_proto),
    "SubmitAttestation": (pb.AttestationReceipt, attestation_receipt_from_proto),
    "GetPublication": (pb.PublicationMsg, publication_from_proto),
}


def decode_reply(rpc: str, data: bytes) -> Any:
    """Parse a reply of ``rpc`` and turn it into its view dataclass."""
    message_type, from_proto = REPLIES[rpc]
    return from_proto(message_type.FromString(data))
