"""The coordinator's one translation between protobuf messages and domain objects.

Decoding turns each request into a :class:`DecodedRequest` (domain objects only) whose
:meth:`~DecodedRequest.summary` is what the node's signed envelope must describe; replies
are encoded from domain objects. Nothing else on the coordinator imports ``*_pb2``.
Malformed content raises :class:`InvalidRequestError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.store import DecryptionRequest, NodeRecord, Publication, StoredSubmission
from coordinator.store.errors import InvalidRequestError
from governance.attestation import ciphertext_digest
from governance.ckks import (
    CkksError,
    CkksParameters,
    EncryptedVector,
    KeyPackage,
    PublicContextRelease,
)
from governance.envelope import Envelope
from governance.errors import GovernanceError
from governance.signed_requests import Scalar, summarize
from kernel.wire.trust import METHODS, ROUND_KIND, submission_outbound_kind
from protos import trust_pb2 as pb


@dataclass(frozen=True)
class DecodedRequest:
    method: str
    outbound_kind: str
    envelope: Envelope
    round_id: int | None
    metadata: dict[str, Scalar]
    ciphertexts: tuple[EncryptedVector, ...] = ()
    attestations: tuple[Envelope, ...] = ()
    key_packages: tuple[KeyPackage, ...] = ()
    public_release: PublicContextRelease | None = None

    def summary(self) -> dict[str, Any]:
        return summarize(
            method=self.method,
            outbound_kind=self.outbound_kind,
            round_id=self.round_id,
            ciphertexts=self.ciphertexts,
            metadata=self.metadata,
            attestations=self.attestations,
            key_packages=self.key_packages,
            public_release=self.public_release,
        )

    def text(self, name: str) -> str:
        value = self.metadata.get(name)
        if not isinstance(value, str):
            raise InvalidRequestError(f"{self.method}: metadata {name!r} (text) is required")
        return value


def _envelope(data: bytes) -> Envelope:
    if not data:
        raise InvalidRequestError("request carries no signed envelope")
    try:
        return Envelope.from_bytes(data)
    except GovernanceError as exc:
        raise InvalidRequestError(f"envelope: {exc}") from exc


def _metadata(entries: Mapping[str, pb.Scalar]) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    for name, scalar in entries.items():
        which = scalar.WhichOneof("value")
        if which is None:
            raise InvalidRequestError(f"metadata {name!r} has no value")
        out[name] = getattr(scalar, which)
    return out


def vector_from_proto(msg: pb.EncryptedVectorMsg, where: str = "vector") -> EncryptedVector:
    """A ciphertext read from ``EncryptedVectorMsg``; a bad key id, length or chunk count is
    refused as :class:`InvalidRequestError` naming ``where`` (e.g. ``vectors[2]``).
    """
    try:
        return EncryptedVector(msg.key_id, msg.length, tuple(msg.chunks))
    except CkksError as exc:
        raise InvalidRequestError(f"{where}: {exc}") from exc


def vector_to_proto(vector: EncryptedVector) -> pb.EncryptedVectorMsg:
    """``EncryptedVectorMsg`` of a ciphertext, chunks as they are: how a sum reaches key holders."""
    return pb.EncryptedVectorMsg(
        key_id=vector.key_id, length=vector.length, chunks=list(vector.chunks)
    )


def release_from_proto(msg: pb.PublicContextMsg) -> PublicContextRelease:
    """The ceremony's public context read from ``UploadCeremonyRequest.public_context``.

    Refuses ``params_json`` that does not parse as CKKS parameters; the signature is not
    checked here but by the handler, against the uploading node's identity key.
    """
    try:
        params = CkksParameters.from_dict(json.loads(msg.params_json))
    except (ValueError, TypeError, KeyError, CkksError) as exc:
        raise InvalidRequestError(f"public_context.params_json: {exc}") from exc
    return PublicContextRelease(
        ceremony_id=msg.ceremony_id,
        key_id=msg.key_id,
        period=msg.period,
        params=params,
        public_context=msg.public_context,
        signature=msg.signature,
    )


def release_to_proto(release: PublicContextRelease) -> pb.PublicContextMsg:
    """``PublicContextMsg`` of a stored release, signature included, so a node can verify it
    against the ceremony's key before using the public context.
    """
    return pb.PublicContextMsg(
        ceremony_id=release.ceremony_id,
        key_id=release.key_id,
        period=release.period,
        params_json=json.dumps(release.params.to_dict(), sort_keys=True),
        public_context=release.public_context,
        signature=release.signature,
    )


def request_from_proto(rpc: str, request: Any) -> DecodedRequest:
    """Domain view of any request message of the ``TrustCoordinator`` service."""
    method, kind = METHODS[rpc]
    envelope = _envelope(request.envelope)
    metadata = _metadata(request.metadata)
    round_id: int | None = None
    extra: dict[str, Any] = {}
    if rpc == "Submit":
        round_kind = metadata.get(ROUND_KIND)
        if round_kind != request.kind or not request.kind:
            raise InvalidRequestError("Submit: kind must equal the signed metadata round_kind")
        kind = submission_outbound_kind(request.kind)
        round_id = request.round_id
        extra["ciphertexts"] = tuple(
            vector_from_proto(v, f"vectors[{i}]") for i, v in enumerate(request.vectors)
        )
    elif rpc == "SubmitAttestation":
        round_id = request.round_id
        extra["attestations"] = (_envelope(request.attestation),)
    elif rpc == "UploadCeremony":
        try:
            extra["key_packages"] = tuple(KeyPackage.from_bytes(p) for p in request.key_packages)
        except CkksError as exc:
            raise InvalidRequestError(f"key_packages: {exc}") from exc
        if not request.HasField("public_context"):
            raise InvalidRequestError("UploadCeremony: public_context is required")
        extra["public_release"] = release_from_proto(request.public_context)
    return DecodedRequest(method, kind, envelope, round_id, metadata, **extra)


# --- replies -------------------------------------------------------------------------


def node_to_proto(node: NodeRecord) -> pb.NodeInfo:
    """``NodeInfo`` of an enrolled node: the public keys its peers verify and seal to, and
    whether it is a key holder.
    """
    return pb.NodeInfo(
        node_id=node.node_id,
        jurisdiction=node.jurisdiction,
        identity_public_key=node.identity_public_key,
        transport_public_key=node.transport_public_key,
        key_holder=node.key_holder,
    )


def trust_info_to_proto(
    *,
    coordinator_id: str,
    identity_key: bytes,
    policy_toml: bytes,
    policy_sig: bytes,
    crl_pem: bytes,
    nodes: Iterable[NodeRecord],
) -> pb.TrustInfo:
    """``TrustInfo`` (reply to ``GetTrustInfo``): what a node checks the trust against.

    The coordinator's identity key, the trust policy with its detached signature, the CRL and
    the enrolled nodes.
    """
    return pb.TrustInfo(
        coordinator_id=coordinator_id,
        coordinator_identity_key=identity_key,
        trust_policy_toml=policy_toml,
        trust_policy_sig=policy_sig,
        crl_pem=crl_pem,
        nodes=[node_to_proto(n) for n in nodes],
    )


def upload_reply_to_proto(key_id: str, log_index: int) -> pb.UploadCeremonyReply:
    """``UploadCeremonyReply``: the key id the ceremony is kept under and its log entry's index."""
    return pb.UploadCeremonyReply(key_id=key_id, log_index=log_index)


def key_material_to_proto(
    release: PublicContextRelease, ceremony_key: bytes, package: KeyPackage | None
) -> pb.KeyMaterial:
    """``KeyMaterial`` (reply to ``GetKeyMaterial``): the public context, the identity key of the
    node that ran the ceremony, and the caller's sealed package (empty for a non-key-holder).
    """
    return pb.KeyMaterial(
        public_context=release_to_proto(release),
        ceremony_identity_key=ceremony_key,
        key_package=b"" if package is None else package.to_bytes(),
    )


def round_to_proto(
    round_id: int, kind: str, is_open: bool, parameters: Mapping[str, str]
) -> pb.RoundInfo:
    """``RoundInfo`` (reply to ``GetRound``): the round a node must submit to, and the
    parameters it needs for it, as strings.
    """
    return pb.RoundInfo(round_id=round_id, kind=kind, open=is_open, parameters=dict(parameters))


def receipt_to_proto(submission_id: int, log_index: int, digest: str) -> pb.SubmissionReceipt:
    """``SubmissionReceipt``: the submission's id, the index of its log entry and the envelope
    digest that entry records, so the node can find its submission in the log.
    """
    return pb.SubmissionReceipt(submission_id=submission_id, log_index=log_index, digest=digest)


def signed_submission_to_proto(submission: StoredSubmission, key_id: str) -> pb.SignedSubmissionMsg:
    """``SignedSubmissionMsg``: one submission of a sum, with its signed envelope and the
    ciphertext that went into the sum (its vector under the sum's key ``key_id``: one key
    group's share under key-group custody, the one vector under a single key).
    """
    vector = submission.vector_under(key_id)
    return pb.SignedSubmissionMsg(
        node_id=submission.node_id,
        ciphertext_digest=ciphertext_digest(vector),
        envelope=submission.envelope.to_bytes(),
        vector=vector_to_proto(vector),
    )


def decryption_requests_to_proto(
    requests: Iterable[tuple[DecryptionRequest, Sequence[StoredSubmission]]],
) -> pb.DecryptionRequests:
    """``DecryptionRequests`` (reply to ``FetchDecryptionRequests``): each summed ciphertext a
    key holder is asked to decrypt, with the digest its attestation must sign and exactly
    the signed submissions the sum was made of (so the key holder can recompute it).
    """
    return pb.DecryptionRequests(
        requests=[
            pb.DecryptionRequestMsg(
                request_id=r.request_id,
                round_id=r.round_id,
                subject_id=r.subject_id,
                digest=r.digest,
                vector=vector_to_proto(r.vector),
                kind=r.kind,
                parameters=dict(r.parameters),
                submissions=[signed_submission_to_proto(s, r.key_id) for s in submissions],
            )
            for r, submissions in requests
        ]
    )


def attestation_receipt_to_proto(log_index: int, received: int) -> pb.AttestationReceipt:
    """``AttestationReceipt``: the attestation's log index and how many attestations its
    decryption request has received so far.
    """
    return pb.AttestationReceipt(log_index=log_index, attestations_received=received)


def publication_to_proto(pub: Publication) -> pb.PublicationMsg:
    """``PublicationMsg`` (reply to ``GetPublication``): a published aggregate, its body as
    sorted JSON, with the index of the log entry that published it.
    """
    return pb.PublicationMsg(
        subject_id=pub.subject_id,
        kind=pub.kind,
        body_json=json.dumps(pub.body, sort_keys=True),
        log_index=pub.log_index,
    )
