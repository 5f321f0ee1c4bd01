"""Key-group custody in the one pipeline: check shares, sum per group, recombine.

A submission under key-group custody carries one encrypted share per key group (the
trust's ciphertext frame, each under one group's BFV public key). The coordinator holds
every group's *public* key only: it checks each share against its group's context, sums
each group's shares separately (one decryption request per group, its group named in the
request parameters as ``key_group``), and can read nothing. Publication recombines only
when every group of the trust policy has ``t`` matching attestations by its own holders
(``governance.keygroups.publication``); anything less is refused and logged.

The submissions, decryption requests and attestations are the same stored objects as under
the single-key CKKS custody, in the same store and over the same trust protocol; only the
per-group split and the recombination are new.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from coordinator.aggregation.pipeline import (
    MIN_CONTRIBUTORS,
    AggregationPipeline,
    NotEnoughContributorsError,
)
from coordinator.store import DecryptionRequest, InvalidRequestError, StoredSubmission
from governance.ckks import EncryptedVector
from governance.keygroups import (
    BfvKey,
    GroupSum,
    KeyGroup,
    KeyGroupError,
    RecombinedAggregate,
    add_shares,
    check_share,
    group_of_vector,
    recombine_attested,
)
from kernel.wire.trust import KEY_GROUP_PARAMETER

#: Where a decryption request names its group (its parameters travel to the key holders).
DEFAULT_POLL_S = 0.5


class GroupShareError(InvalidRequestError):
    """A submission that does not carry exactly one well-formed share per key group."""


class GroupAggregation:
    """The coordinator's side of key-group custody, on top of an :class:`AggregationPipeline`."""

    def __init__(self, pipeline: AggregationPipeline, group_keys: Sequence[BfvKey]) -> None:
        if any(k.is_private for k in group_keys):
            raise InvalidRequestError("the coordinator must hold the groups' public keys only")
        self.pipeline = pipeline
        self.group_keys = {k.group: k for k in group_keys}

    def check_submission(self, vectors: Sequence[EncryptedVector]) -> dict[str, EncryptedVector]:
        """``{group: share}`` of a submission with exactly one valid share per group."""
        shares: dict[str, EncryptedVector] = {}
        for index, vector in enumerate(vectors):
            try:
                group = group_of_vector(vector, self.group_keys)
                check_share(self.group_keys[group], vector)
            except KeyGroupError as exc:
                raise GroupShareError(f"share {index}: {exc}") from exc
            if group in shares:
                raise GroupShareError(f"share {index}: a second share for group {group!r}")
            shares[group] = vector
        missing = sorted(set(self.group_keys) - set(shares))
        if missing:
            raise GroupShareError(f"the submission carries no share for groups {missing}")
        lengths = {v.length for v in shares.values()}
        if len(lengths) != 1:
            raise GroupShareError(f"the groups' shares differ in length: {sorted(lengths)}")
        return shares

    def request_group_decryptions(
        self,
        *,
        round_id: int,
        kind: str,
        subject_id: str,
        submissions: Sequence[StoredSubmission],
        parameters: Mapping[str, str] | None = None,
        min_contributors: int = MIN_CONTRIBUTORS,
    ) -> dict[str, DecryptionRequest]:
        """Sum each group's shares and queue one decryption request per group.

        A sum of fewer than ``max(min_contributors, MIN_CONTRIBUTORS)`` distinct nodes is
        refused before anything is summed (as in the single-key pipeline).
        """
        need = max(min_contributors, MIN_CONTRIBUTORS)
        contributors = {s.node_id for s in submissions}
        if len(contributors) < need or len(contributors) != len(submissions):
            raise NotEnoughContributorsError(
                f"{subject_id}: {len(submissions)} submission(s) from {len(contributors)} "
                f"distinct node(s); a sum needs at least {need} distinct nodes, each once"
            )
        per_node = [self.check_submission(s.vectors) for s in submissions]
        requests: dict[str, DecryptionRequest] = {}
        for group, key in sorted(self.group_keys.items()):
            summed = add_shares(key, [shares[group] for shares in per_node])
            requests[group] = self.pipeline.store.add_decryption_request(
                round_id=round_id,
                subject_id=subject_id,
                vector=summed,
                kind=kind,
                parameters={**(parameters or {}), KEY_GROUP_PARAMETER: group},
                submissions=[s.id for s in submissions],
            )
        return requests

    def recombine(
        self,
        requests: Mapping[str, DecryptionRequest],
        groups: Sequence[KeyGroup],
        *,
        t: int,
        fractional_bits: int,
    ) -> RecombinedAggregate:
        """Collect every group's attestations afresh and recombine, or refuse (logged)."""
        store = self.pipeline.store
        subjects = {(r.subject_id, r.round_id) for r in requests.values()}
        if len(subjects) != 1:
            raise InvalidRequestError(f"group requests name different aggregates: {subjects}")
        ((subject_id, round_id),) = subjects
        sums = [
            GroupSum(group, r.key_id, r.digest, store.attestations(r.request_id))
            for group, r in requests.items()
        ]
        moduli = {k.params.plain_modulus for k in self.group_keys.values()}
        return recombine_attested(
            sums,
            groups,
            store.identity_keys(key_holders_only=True),
            t=t,
            subject_id=subject_id,
            round_id=round_id,
            fractional_bits=fractional_bits,
            modulus=moduli.pop(),
            log=self.pipeline.log,
        )

    def await_recombined(
        self,
        requests: Mapping[str, DecryptionRequest],
        groups: Sequence[KeyGroup],
        *,
        t: int,
        fractional_bits: int,
        timeout_s: float,
        poll_s: float = DEFAULT_POLL_S,
    ) -> RecombinedAggregate:
        """Wait until every holder of every group has answered, or ``timeout_s``; then
        recombine once (logged).

        Unlike the single-key wait, this does not stop as soon as ``t`` agree: a group whose
        other holders disagree later, within the wait, is then a conflict that refuses the
        aggregate instead of going unseen. The price is that publication waits for the
        slowest holder (at most ``timeout_s``).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self._all_answered(requests, groups):
            time.sleep(poll_s)
        return self.recombine(requests, groups, t=t, fractional_bits=fractional_bits)

    def _all_answered(
        self, requests: Mapping[str, DecryptionRequest], groups: Sequence[KeyGroup]
    ) -> bool:
        store = self.pipeline.store
        for group in groups:
            request = requests.get(group.group)
            if request is None:
                return False
            signers = {e.signer_id for e in store.attestations(request.request_id)}
            if not set(group.holders) <= signers:
                return False
        return True
