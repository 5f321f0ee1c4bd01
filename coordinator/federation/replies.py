"""Reading a node's Flower reply to ``train``: an encrypted update, a refusal, or garbage.

Flower carries the nodes' updates (the only Flower traffic besides the open model going
out), so this is where the coordinator checks what arrived over it before the update joins
the aggregation pipeline: the released frame (``kernel.wire.flower``), the ciphertext
against this run's public context (:class:`CkksSummer`) and the node's signed envelope
against its enrolled identity key, with a single-use nonce.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flwr.app import ConfigRecord, Message

from coordinator.aggregation.keygroups import GroupAggregation
from coordinator.federation.aggregate import CkksSummer, Submission
from coordinator.federation.errors import SubmissionRejectedError
from coordinator.store import InvalidRequestError
from governance.ckks import CkksError, EncryptedVector
from governance.envelope import Envelope
from governance.errors import EnvelopeError, GovernanceError
from governance.nonces import NonceStore
from governance.signed_requests import open_request, summarize
from kernel.wire import flower as wire
from kernel.wire import trust as trust_wire


@dataclass(frozen=True)
class Update:
    """A checked, authenticated update: who sent it, what, and the metadata it signed."""

    node: str
    submission: Submission
    envelope: Envelope
    metadata: dict[str, Any]
    #: key-group custody: every group's share, in the round's group order (else empty)
    shares: tuple[EncryptedVector, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """A node's signed refusal of the round (its budget or its tenants' consent)."""

    node: str


class RejectedReply(SubmissionRejectedError):
    """A reply the round cannot use: ``who`` sent it (a node id, or ``flower:<id>``)."""

    def __init__(self, who: str, reason: str) -> None:
        super().__init__(reason)
        self.who = who
        self.reason = reason


class ReplyReader:
    """Turns the replies of one round into updates and refusals, or names the rejection."""

    def __init__(
        self,
        summer: CkksSummer,
        signers: Mapping[str, bytes],
        nonces: NonceStore | None,
        round_no: int,
        groups: GroupAggregation | None = None,
    ) -> None:
        self.summer = summer
        self.signers = signers
        self.nonces = nonces
        self.round_no = round_no
        self.groups = groups

    def read(self, reply: Message) -> Update | Refusal:
        """The reply's update or refusal; raises :class:`RejectedReply` naming why not."""
        src = reply.metadata.src_node_id
        if reply.has_error():
            # Only a code from the closed list reaches the public log, never free text.
            code = wire.reason_code(reply.error.reason)
            raise RejectedReply(f"flower:{src}", f"error reply: {code.value}")
        records = reply.content.config_records
        if wire.REFUSAL in records:
            return self._refusal(records[wire.REFUSAL], src)
        if wire.UPDATE not in records:
            raise RejectedReply(f"flower:{src}", "reply carries no update")
        return self._update(records[wire.UPDATE], src)

    def _refusal(self, record: ConfigRecord, src: int) -> Refusal:
        try:
            envelope, _ = self._open(released(record), wire.REFUSAL_METHOD, trust_wire.METADATA, ())
        except SubmissionRejectedError as exc:
            raise RejectedReply(f"flower:{src}", str(exc)) from exc
        return Refusal(envelope.signer_id)

    def _update(self, record: ConfigRecord, src: int) -> Update:
        try:
            frame = released(record)
        except SubmissionRejectedError as exc:
            raise RejectedReply(f"flower:{src}", str(exc)) from exc
        claimed = str(frame.envelope.get("signer_id", f"flower:{src}"))
        if self.groups is not None:
            return self._group_update(frame, claimed, src)
        if len(frame.ciphertexts) != 1:
            raise RejectedReply(claimed, "update must carry exactly one ciphertext")
        try:
            submission = self.summer.check(claimed, src, frame.ciphertexts[0])
            envelope, metadata = self._open(
                frame, wire.UPDATE_METHOD, trust_wire.CIPHERTEXT_UPDATE, (submission.vector,)
            )
        except SubmissionRejectedError as exc:
            raise RejectedReply(claimed, str(exc)) from exc
        return Update(envelope.signer_id, submission, envelope, metadata)

    def _group_update(self, frame: wire.ReleasedFrame, claimed: str, src: int) -> Update:
        """Key-group custody: one valid share per group, in the round's group order, each
        of the run's length, signed with the groups named in that order."""
        assert self.groups is not None
        order = sorted(self.groups.group_keys)
        try:
            vectors = tuple(EncryptedVector.from_bytes(c) for c in frame.ciphertexts)
            shares = self.groups.check_submission(vectors)
            if [shares[g] for g in order] != list(vectors):
                raise SubmissionRejectedError(f"shares are not in the group order {order}")
            if vectors[0].length != self.summer.length:
                raise SubmissionRejectedError(
                    f"shares have length {vectors[0].length}, expected {self.summer.length}"
                )
            envelope, metadata = self._open(
                frame,
                wire.UPDATE_METHOD,
                trust_wire.CIPHERTEXT_UPDATE,
                vectors,
                key_groups=",".join(order),
            )
        except (CkksError, InvalidRequestError, SubmissionRejectedError) as exc:
            raise RejectedReply(claimed, f"key-group update refused: {exc}") from exc
        first = Submission(claimed, src, vectors[0], frame.ciphertexts[0])
        return Update(envelope.signer_id, first, envelope, metadata, shares=vectors)

    def _open(
        self,
        frame: wire.ReleasedFrame,
        method: str,
        kind: str,
        vectors: Sequence[EncryptedVector],
        *,
        key_groups: str | None = None,
    ) -> tuple[Envelope, dict[str, Any]]:
        """Verify a reply's request envelope against the enrolled identity keys.

        The envelope must be signed by an active enrolled node, for ``method`` and this
        round, over exactly the ciphertexts received, with metadata naming the signer
        itself and this run's key; its nonce is single-use.
        """
        try:
            envelope = Envelope.from_json(dict(frame.envelope))
        except (EnvelopeError, ValueError) as exc:
            raise SubmissionRejectedError(f"unreadable envelope: {exc}") from exc
        who = envelope.signer_id
        if who not in self.signers:
            raise SubmissionRejectedError(f"signer {who!r} is not an active enrolled node")
        metadata = _metadata(envelope)
        if key_groups is not None:
            if metadata.get("key_groups") != key_groups:
                raise SubmissionRejectedError(f"envelope of {who!r} names other key groups")
        elif vectors and metadata.get("key_id") != self.summer.key.key_id:
            raise SubmissionRejectedError(f"envelope of {who!r} names another key")
        summary = summarize(
            method=method,
            outbound_kind=kind,
            round_id=self.round_no,
            ciphertexts=vectors,
            metadata=metadata,
        )
        try:
            open_request(
                envelope,
                summary,
                self.signers,
                nonce_store=self.nonces,
                expected_signer_id=who,
                current_round=self.round_no,
            )
        except GovernanceError as exc:
            raise SubmissionRejectedError(f"envelope of {who!r} refused: {exc}") from exc
        return envelope, metadata


def _metadata(envelope: Envelope) -> dict[str, Any]:
    """The signed metadata, which must name the signer itself."""
    who = envelope.signer_id
    payload = envelope.payload if isinstance(envelope.payload, dict) else {}
    metadata = payload.get("metadata")
    if not isinstance(metadata, dict):
        raise SubmissionRejectedError(f"envelope of {who!r} carries no metadata")
    if metadata.get("node_id") != who:
        raise SubmissionRejectedError(f"envelope of {who!r} names node {metadata.get('node_id')!r}")
    return dict(metadata)


def training_report(metadata: Mapping[str, Any]) -> dict[str, float]:
    """The node's signed training report (``wire.REPORT_FIELDS``) as numbers.

    Fields the node's policy kept home, or values that are not finite non-negative
    decimals, are left out: the card then states them as not reported.
    """
    report: dict[str, float] = {}
    for name in wire.REPORT_FIELDS:
        raw = metadata.get(name)
        if not isinstance(raw, str):
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            report[name] = value
    return report


def released(record: ConfigRecord) -> wire.ReleasedFrame:
    """A node's egress-released frame (``kernel.wire.flower``); a bad one is a rejection."""
    try:
        return wire.frame_from_bytes(record.get(wire.EGRESS))
    except wire.FrameError as exc:
        raise SubmissionRejectedError(str(exc)) from exc
