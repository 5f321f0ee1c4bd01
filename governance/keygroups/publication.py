"""Decrypt-and-attest per group, and the gate that recombines only fully attested sums.

A key holder of group g decrypts its group's *sum* of shares (:func:`attest_group_sum`)
and signs the residues (decimal integers in [0, p), ``decimals`` 0) with the group named
in the payload (``key_group``), so an attestation of group A can never count for group B.

The coordinator (or an auditor) then recombines (:func:`recombine_attested`) only when
*every* group of the policy has ``t`` matching attestations by holders *of that group*;
the aggregate is the sum of the agreed group sums modulo p, decoded from fixed point. A
group with fewer than ``t`` agreeing holders, a group with two disagreeing sets that each
reach ``t`` (a conflict, whenever the second set arrives: collection is redone in full at
every call, nothing is cached), or a group left out refuses the whole aggregate and is
logged as ``keygroup_publication_refused``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.attestation import (
    ATTESTATION_KIND,
    KEY_GROUP,
    SUBMISSIONS_DIGEST,
    AttestationOutcome,
    InsufficientAttestationsError,
    ciphertext_digest,
    collect_matching,
)
from governance.ckks.vectors import EncryptedVector
from governance.envelope import Envelope, seal
from governance.identity import Identity
from governance.keygroups.encoding import decode, recombine
from governance.keygroups.errors import GroupMismatchError, GroupPublicationError
from governance.keygroups.groups import KeyGroup
from governance.keygroups.keys import BfvKey
from governance.keygroups.params import DEFAULT_FRACTIONAL_BITS, PLAIN_MODULUS
from governance.keygroups.vectors import decrypt_share


def attest_group_sum(
    identity: Identity,
    key: BfvKey,
    vector: EncryptedVector,
    *,
    subject_id: str,
    round_id: int,
    submissions_digest: str | None = None,
    now: dt.datetime | None = None,
) -> Envelope:
    """Decrypt this group's share sum with the holder's secret key and sign the residues."""
    residues = decrypt_share(key, vector)
    payload: dict[str, Any] = {
        "subject_id": subject_id,
        "round_id": round_id,
        "key_id": vector.key_id,
        "ciphertext_digest": ciphertext_digest(vector),
        "decimals": 0,
        "values": [str(r) for r in residues],
        KEY_GROUP: key.group,
    }
    if submissions_digest is not None:
        payload[SUBMISSIONS_DIGEST] = submissions_digest
    return seal(identity, ATTESTATION_KIND, round_id, payload, now=now)


@dataclass(frozen=True)
class GroupSum:
    """What one group was asked to decrypt (its summed ciphertext) and what came back."""

    group: str
    key_id: str
    digest: str
    envelopes: Sequence[Envelope]


@dataclass(frozen=True)
class RecombinedAggregate:
    subject_id: str
    round_id: int
    values: tuple[float, ...]
    outcomes: Mapping[str, AttestationOutcome]


def _collect_one(
    group: KeyGroup,
    request: GroupSum,
    identity_keys: Mapping[str, bytes],
    *,
    t: int,
    subject_id: str,
    round_id: int,
    log: Any | None,
    max_age: dt.timedelta | None,
) -> AttestationOutcome:
    holders = {h: identity_keys[h] for h in group.holders if h in identity_keys}
    return collect_matching(
        request.envelopes,
        holders,
        t=t,
        subject_id=subject_id,
        round_id=round_id,
        key_id=request.key_id,
        digest=request.digest,
        key_group=group.group,
        log=log,
        max_age=max_age,
    )


def recombine_attested(
    sums: Sequence[GroupSum],
    groups: Sequence[KeyGroup],
    identity_keys: Mapping[str, bytes],
    *,
    t: int,
    subject_id: str,
    round_id: int,
    fractional_bits: int = DEFAULT_FRACTIONAL_BITS,
    modulus: int = PLAIN_MODULUS,
    log: Any | None = None,
    max_age: dt.timedelta | None = None,
) -> RecombinedAggregate:
    """The aggregate iff every group of ``groups`` has ``t`` matching attestations by its
    own holders (``identity_keys``: node id -> Ed25519 key of current members).

    Raises :class:`GroupPublicationError` naming every group that failed, after logging
    ``keygroup_publication_refused`` (with ``log``).
    """
    by_group = {s.group: s for s in sums}
    if len(by_group) != len(sums):
        raise GroupMismatchError(f"a group's sum is given twice: {[s.group for s in sums]}")
    unknown = sorted(set(by_group) - {g.group for g in groups})
    if unknown:
        raise GroupMismatchError(f"sums for groups the policy does not name: {unknown}")
    outcomes: dict[str, AttestationOutcome] = {}
    failures: dict[str, str] = {}
    for group in groups:
        request = by_group.get(group.group)
        if request is None:
            failures[group.group] = "no sum of this group was sent for decryption"
            continue
        try:
            outcomes[group.group] = _collect_one(
                group,
                request,
                identity_keys,
                t=t,
                subject_id=subject_id,
                round_id=round_id,
                log=log,
                max_age=max_age,
            )
        except InsufficientAttestationsError as exc:
            kind = "conflict" if exc.outcome.conflicting else "short"
            failures[group.group] = f"{kind}: {exc}"
    if failures:
        if log is not None:
            log.append(
                "keygroup_publication_refused",
                {"subject_id": subject_id, "round_id": round_id, "groups": failures},
            )
        raise GroupPublicationError(
            f"{subject_id} (round {round_id}) is not recombined: every key group needs t={t} "
            "matching attestations by its own holders; "
            + "; ".join(f"group {g}: {why}" for g, why in sorted(failures.items()))
        )
    residues = [[int(v) for v in outcomes[g.group].values or ()] for g in groups]
    bad = [
        g.group
        for g, r in zip(groups, residues, strict=True)
        if any(not 0 <= v < modulus for v in r)
    ]
    if bad:
        raise GroupPublicationError(f"groups {bad} attested residues outside [0, {modulus})")
    total = recombine(residues, modulus=modulus)
    values = decode(total, fractional_bits=fractional_bits, modulus=modulus)
    return RecombinedAggregate(subject_id, round_id, tuple(values), outcomes)
