"""A key holder decrypts only verified sums (the decryption-oracle defence).

Before any duty decrypts, the key holder checks that what it is asked to decrypt is the
sum of the signed submissions the request lists, and of enough of them:

* each listed submission's envelope is signed by the contributor it names, a current
  member (identity keys from the trust information), for this round, for the round
  kind's submission method and outbound kind, over exactly the listed ciphertext;
* the list has at least ``max(quorum, m)`` distinct members (the trust policy this node
  holds), each once, and no ciphertext twice;
* the sum this node recomputes from the listed ciphertexts (``governance.ckks.add_all``)
  is bit for bit the ciphertext it is asked to decrypt;
* this node has not decrypted another aggregate for the same (round, subject), nor any
  listed submission inside another aggregate (:class:`DecryptionLedger`), so two
  contributor sets of one round can never be differenced.

Under key-group custody (``governance.keygroups``) the same checks run on one group's
sum: the key is the group's BFV key, the request must name that group (``key_group``
parameter) and be under its key, each listed submission's envelope must sign the listed
share under that group's key id (a submission signs one share per group), and the sum is
recomputed with ``add_shares``. A holder of group A thus decrypts group A's sum of enough
members only, never one node's share alone (which is uniform noise, but with one holder of
every group decrypting the same single share the node's value would be read).

A request that fails any check is refused: the reason goes to the node's refusal log,
nothing is decrypted and nothing leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from governance.attestation import ciphertext_digest
from governance.ckks import CkksError, CkksKey, EncryptedVector, add_all
from governance.envelope import Envelope, open_envelope
from governance.errors import GovernanceError
from governance.keygroups import BfvKey, add_shares
from governance.signed_requests import request_kind
from governance.sums import SubmissionRef, envelope_digest, submissions_digest
from kernel.wire.trust import KEY_GROUP_PARAMETER, submission_method, submission_outbound_kind
from trust_node.errors import NodeError
from trust_node.store.tables import decrypted_submissions, decrypted_sums
from trust_node.transport.serde import PendingDecryption


class RefusedSumError(NodeError):
    """A decryption request whose ciphertext is not a verified sum of enough members."""


@dataclass(frozen=True)
class VerifiedSum:
    """A request checked by :func:`verify_sum`: the digest of its submission list."""

    submissions_digest: str
    contributors: tuple[str, ...]
    refs: tuple[SubmissionRef, ...]


#: The decryption-request parameter naming the key group of a group sum.


def _check_group(request: PendingDecryption, key: CkksKey | BfvKey) -> None:
    """A group sum must name this holder's group and be under its key; a CKKS one no group."""
    rid, named = request.request_id, request.parameters.get(KEY_GROUP_PARAMETER)
    group = key.group if isinstance(key, BfvKey) else None
    if named != group or request.vector.key_id != key.key_id:
        raise RefusedSumError(
            f"request {rid} names key group {named!r} under key {request.vector.key_id}; "
            f"this node holds group {group!r}'s key {key.key_id}"
        )


def _signs_this(signed: object, digest: str, key: CkksKey | BfvKey) -> bool:
    """The envelope's signed ciphertext list holds this ciphertext (under key groups: the
    share under this group's key id; under one key: its one ciphertext)."""
    if not isinstance(signed, list) or not signed or not all(isinstance(e, dict) for e in signed):
        return False
    if isinstance(key, BfvKey):
        return any(e.get("digest") == digest and e.get("key_id") == key.key_id for e in signed)
    return bool(signed[0].get("digest") == digest)


def _recompute(key: CkksKey | BfvKey, vectors: list[EncryptedVector]) -> EncryptedVector:
    return add_shares(key, vectors) if isinstance(key, BfvKey) else add_all(key, vectors)


def verify_sum(
    request: PendingDecryption,
    key: CkksKey | BfvKey,
    members: Mapping[str, bytes],
    min_contributors: int,
) -> VerifiedSum:
    """Check that ``request`` asks for the sum of enough signed member submissions.

    ``members``: node id -> Ed25519 identity key of every current member. ``key``: the
    single CKKS key, or this holder's key group's BFV key. Raises
    :class:`RefusedSumError` naming the first check that failed.
    """
    rid = request.request_id
    if ciphertext_digest(request.vector) != request.digest:
        raise RefusedSumError(f"request {rid}: the ciphertext is not {request.digest}")
    _check_group(request, key)
    if not request.submissions:
        raise RefusedSumError(f"request {rid} names no submissions: not a verifiable sum")
    seen_nodes: set[str] = set()
    seen_digests: set[str] = set()
    refs = []
    method = submission_method(request.kind)
    outbound_kind = submission_outbound_kind(request.kind)
    for s in request.submissions:
        who = s.node_id
        if who not in members:
            raise RefusedSumError(f"request {rid}: {who!r} is not a current member")
        if who in seen_nodes:
            raise RefusedSumError(f"request {rid}: {who!r} is listed more than once")
        digest = ciphertext_digest(s.vector)
        if digest != s.ciphertext_digest or digest in seen_digests:
            raise RefusedSumError(
                f"request {rid}: the ciphertext of {who!r} is not the one listed, or repeated"
            )
        envelope = _open_submission(rid, s.envelope, who, members[who], method)
        payload = envelope.payload
        assert isinstance(payload, dict)  # checked by _open_submission
        if (
            payload.get("outbound_kind") != outbound_kind
            or envelope.round_id != request.round_id
            or not _signs_this(payload.get("ciphertexts"), digest, key)
        ):
            raise RefusedSumError(
                f"request {rid}: the envelope of {who!r} does not sign this ciphertext as "
                f"a {request.kind} submission of round {request.round_id}"
            )
        seen_nodes.add(who)
        seen_digests.add(digest)
        refs.append(SubmissionRef(who, digest, envelope_digest(envelope)))
    if len(seen_nodes) < min_contributors:
        raise RefusedSumError(
            f"request {rid}: {len(seen_nodes)} contributor(s), a sum needs at least "
            f"{min_contributors} distinct members (max(quorum, m) of the trust policy)"
        )
    try:
        summed = _recompute(key, [s.vector for s in request.submissions])
    except CkksError as exc:
        raise RefusedSumError(f"request {rid}: the listed ciphertexts do not add: {exc}") from exc
    if ciphertext_digest(summed) != request.digest:
        raise RefusedSumError(
            f"request {rid}: the sum of the listed submissions is not the ciphertext to decrypt"
        )
    return VerifiedSum(submissions_digest(refs), tuple(sorted(seen_nodes)), tuple(refs))


def _open_submission(rid: str, raw: bytes, who: str, identity_key: bytes, method: str) -> Envelope:
    try:
        envelope = Envelope.from_bytes(raw)
        payload = open_envelope(
            envelope,
            {who: identity_key},
            nonce_store=None,  # the coordinator spent the nonce; this is a re-check
            max_age=None,  # submitted earlier in the round
            expected_kind=request_kind(method),
            expected_signer_id=who,
        )
    except (GovernanceError, ValueError) as exc:
        raise RefusedSumError(f"request {rid}: the envelope of {who!r} is refused: {exc}") from exc
    if not isinstance(payload, dict):
        raise RefusedSumError(f"request {rid}: the envelope of {who!r} signs no request")
    return envelope


class DecryptionLedger:
    """What this key holder has decrypted (node database), so it decrypts each aggregate
    of a (round, subject) once and each submission inside one aggregate only.

    Asking again for the very same aggregate (same submission list) is allowed: the node
    may have decrypted it while the coordinator did not receive the attestation.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, request: PendingDecryption, verified: VerifiedSum) -> None:
        """Record the aggregate before decrypting it; refuse one that would difference."""
        listed = verified.submissions_digest
        with self.engine.begin() as conn:
            prior = conn.execute(
                select(decrypted_sums.c.submissions_digest).where(
                    decrypted_sums.c.round_id == request.round_id,
                    decrypted_sums.c.subject_id == request.subject_id,
                )
            ).scalar_one_or_none()
            if prior is not None and prior != listed:
                raise RefusedSumError(
                    f"request {request.request_id}: this node already decrypted another "
                    f"aggregate of {request.subject_id} in round {request.round_id}"
                )
            digests = [r.ciphertext_digest for r in verified.refs]
            used = conn.execute(
                select(decrypted_submissions.c.submissions_digest).where(
                    decrypted_submissions.c.ciphertext_digest.in_(digests),
                    decrypted_submissions.c.submissions_digest != listed,
                )
            ).first()
            if used is not None:
                raise RefusedSumError(
                    f"request {request.request_id}: a listed submission is already inside "
                    "another aggregate this node decrypted"
                )
            if prior is not None:
                return  # the same aggregate again
            conn.execute(
                insert(decrypted_sums).values(
                    round_id=request.round_id,
                    subject_id=request.subject_id,
                    kind=request.kind[:64],
                    submissions_digest=listed,
                    ciphertext_digest=request.digest,
                    decrypted_at=dt.datetime.now(dt.UTC),
                )
            )
            known = set(
                conn.execute(
                    select(decrypted_submissions.c.ciphertext_digest).where(
                        decrypted_submissions.c.ciphertext_digest.in_(digests)
                    )
                ).scalars()
            )
            for ref in verified.refs:
                if ref.ciphertext_digest not in known:
                    conn.execute(
                        insert(decrypted_submissions).values(
                            ciphertext_digest=ref.ciphertext_digest,
                            node_id=ref.node_id,
                            submissions_digest=listed,
                        )
                    )

    def decrypted(self) -> list[tuple[int, str, str]]:
        """``(round, subject, submissions digest)`` of every aggregate decrypted."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    decrypted_sums.c.round_id,
                    decrypted_sums.c.subject_id,
                    decrypted_sums.c.submissions_digest,
                ).order_by(decrypted_sums.c.id)
            ).all()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
