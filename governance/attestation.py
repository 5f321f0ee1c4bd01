"""Decrypt-and-attest: how a summed aggregate becomes a number the trust may publish.

The coordinator holds only the public CKKS context, so it cannot read a sum; it asks the
key-holding nodes to decrypt it. One key holder could lie, so each returns a *signed*
plaintext (an :class:`~governance.envelope.Envelope` of kind ``attestation``) and the
coordinator accepts the aggregate only when ``t`` distinct enrolled key holders signed
exactly the same values for exactly the same ciphertext (invariant 5).

Why exact equality is safe: every key holder holds the same secret key, and CKKS
decryption of the same ciphertext with the same key is deterministic, so honest holders
produce bit-identical floats. Values are nevertheless rounded to ``decimals`` places
(default :data:`DEFAULT_DECIMALS`, far below the CKKS error of ~1e-8 at our magnitudes,
see ``governance.ckks.params``) and carried as decimal *strings*, so the signed bytes do
not depend on a float printer and ``-0`` equals ``0``.

Who uses it: S (statistics over gRPC) and C (model updates over Flower) on both sides:
:func:`attest` on a key-holding node, :func:`collect_matching` on the coordinator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from governance.ckks.context import CkksKey
from governance.ckks.vectors import EncryptedVector, decrypt
from governance.envelope import DEFAULT_MAX_AGE, Envelope, open_envelope, seal
from governance.errors import EnvelopeError, GovernanceError
from governance.identity import Identity
from governance.nonces import NonceStore

ATTESTATION_KIND = "attestation"
#: Decimal places kept of each decrypted value. CKKS error at |x| <= 1e9 is ~1e-6
#: (measured, ``governance.ckks.params``); 6 places keep what the ciphertext carries.
DEFAULT_DECIMALS = 6
PAYLOAD_FIELDS = frozenset(
    {"subject_id", "round_id", "key_id", "ciphertext_digest", "decimals", "values"}
)
#: Optional: ``governance.sums.submissions_digest`` of the submissions the key holder
#: recomputed the sum from (every attestation a node's duty signs carries it).
SUBMISSIONS_DIGEST = "submissions_digest"
#: Optional: the key group whose key the decrypted sum is under (key-group custody,
#: ``governance.keygroups``); its values are then residues modulo the group's prime.
KEY_GROUP = "key_group"
OPTIONAL_FIELDS = frozenset({SUBMISSIONS_DIGEST, KEY_GROUP})
_SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,255}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_VALUE = re.compile(r"^-?\d+(\.\d+)?$")
#: The least ``t`` anything is published with: one key holder alone never publishes.
MIN_T = 2


class AttestationError(GovernanceError):
    """An attestation is malformed, or does not refer to what it must."""


class InsufficientAttestationsError(AttestationError):
    """Fewer than ``t`` distinct key holders signed identical plaintexts.

    ``outcome`` carries what was accepted as valid and what was rejected, and why.
    """

    def __init__(self, message: str, outcome: AttestationOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def ciphertext_digest(vector: EncryptedVector) -> str:
    """``sha256:<hex>`` over the vector's wire bytes: names exactly one ciphertext."""
    return "sha256:" + hashlib.sha256(vector.to_bytes()).hexdigest()


def format_values(values: Iterable[float], decimals: int = DEFAULT_DECIMALS) -> list[str]:
    """Round to ``decimals`` places as decimal strings; ``-0`` becomes ``0``."""
    if not 0 <= decimals <= 12:
        raise AttestationError(f"decimals must be in 0..12, got {decimals}")
    out = []
    for index, value in enumerate(values):
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise AttestationError(f"decrypted value at index {index} is not finite")
        text = f"{number:.{decimals}f}"
        if Decimal(text) == 0:
            text = f"{0:.{decimals}f}"
        out.append(text)
    return out


def attest(
    identity: Identity,
    key: CkksKey,
    vector: EncryptedVector,
    *,
    subject_id: str,
    round_id: int,
    decimals: int = DEFAULT_DECIMALS,
    now: dt.datetime | None = None,
    submissions_digest: str | None = None,
) -> Envelope:
    """Decrypt ``vector`` with this key holder's secret key and sign the rounded result.

    ``submissions_digest`` names the submissions the sum was verified to be made of.
    """
    if not _SUBJECT.match(subject_id):
        raise AttestationError(f"subject id {subject_id!r} must match {_SUBJECT.pattern}")
    values = format_values(decrypt(key, vector), decimals)
    payload = {
        "subject_id": subject_id,
        "round_id": round_id,
        "key_id": vector.key_id,
        "ciphertext_digest": ciphertext_digest(vector),
        "decimals": decimals,
        "values": values,
    }
    if submissions_digest is not None:
        payload[SUBMISSIONS_DIGEST] = submissions_digest
    return seal(identity, ATTESTATION_KIND, round_id, payload, now=now)


@dataclass(frozen=True)
class Attestation:
    """A verified attestation: who signed which values for which ciphertext."""

    signer_id: str
    subject_id: str
    round_id: int
    key_id: str
    ciphertext_digest: str
    decimals: int
    values: tuple[str, ...]
    envelope: Envelope = field(repr=False)
    submissions_digest: str | None = None
    key_group: str | None = None

    def floats(self) -> list[float]:
        return [float(v) for v in self.values]


def check_payload(payload: Any) -> dict[str, Any]:
    """Refuse an attestation payload that is not exactly the documented shape."""
    if not isinstance(payload, dict) or set(payload) - OPTIONAL_FIELDS != PAYLOAD_FIELDS:
        found = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise AttestationError(
            f"attestation payload must have exactly {sorted(PAYLOAD_FIELDS)}, got {found}"
        )
    problems = []
    if not isinstance(payload["subject_id"], str) or not _SUBJECT.match(payload["subject_id"]):
        problems.append("subject_id: not a subject id")
    if type(payload["round_id"]) is not int or payload["round_id"] < 0:
        problems.append("round_id: not a natural number")
    if not isinstance(payload["ciphertext_digest"], str) or not _DIGEST.match(
        payload["ciphertext_digest"]
    ):
        problems.append("ciphertext_digest: not sha256:<hex>")
    if not isinstance(payload["key_id"], str) or not re.fullmatch(
        r"[0-9a-f]{32}", payload["key_id"]
    ):
        problems.append("key_id: not 32 hex characters")
    if type(payload["decimals"]) is not int or not 0 <= payload["decimals"] <= 12:
        problems.append("decimals: not an integer in 0..12")
    if SUBMISSIONS_DIGEST in payload and not (
        isinstance(payload[SUBMISSIONS_DIGEST], str) and _DIGEST.match(payload[SUBMISSIONS_DIGEST])
    ):
        problems.append("submissions_digest: not sha256:<hex>")
    if KEY_GROUP in payload and not (
        isinstance(payload[KEY_GROUP], str) and _SUBJECT.match(payload[KEY_GROUP])
    ):
        problems.append("key_group: not a group name")
    values = payload["values"]
    if not isinstance(values, list) or not values:
        problems.append("values: not a non-empty list")
    else:
        bad = [i for i, v in enumerate(values) if not isinstance(v, str) or not _VALUE.match(v)]
        if bad:
            problems.append(f"values: entries {bad[:5]} are not decimal strings")
    if problems:
        raise AttestationError("malformed attestation: " + "; ".join(problems))
    return payload


def read_attestation(
    envelope: Envelope,
    signers: Mapping[str, bytes],
    *,
    nonce_store: NonceStore | None,
    subject_id: str | None = None,
    round_id: int | None = None,
    key_id: str | None = None,
    digest: str | None = None,
    max_age: dt.timedelta | None = DEFAULT_MAX_AGE,
    now: dt.datetime | None = None,
    key_group: str | None = None,
) -> Attestation:
    """Verify one attestation against the key holders' identity keys and what it must name."""
    payload = check_payload(
        open_envelope(
            envelope,
            signers,
            nonce_store=nonce_store,
            current_round=round_id,
            max_age=max_age,
            expected_kind=ATTESTATION_KIND,
            now=now,
        )
    )
    if payload["round_id"] != envelope.round_id:
        raise AttestationError(
            f"attestation payload names round {payload['round_id']}, "
            f"its envelope round {envelope.round_id}"
        )
    for name, expected in (
        ("subject_id", subject_id),
        ("round_id", round_id),
        ("key_id", key_id),
        ("ciphertext_digest", digest),
    ):
        if expected is not None and payload[name] != expected:
            raise AttestationError(
                f"attestation by {envelope.signer_id!r} is for {name} {payload[name]!r}, "
                f"expected {expected!r}"
            )
    if key_group is not None and payload.get(KEY_GROUP) != key_group:
        raise AttestationError(
            f"attestation by {envelope.signer_id!r} is for key group "
            f"{payload.get(KEY_GROUP)!r}, expected {key_group!r}"
        )
    return Attestation(
        signer_id=envelope.signer_id,
        subject_id=payload["subject_id"],
        round_id=payload["round_id"],
        key_id=payload["key_id"],
        ciphertext_digest=payload["ciphertext_digest"],
        decimals=payload["decimals"],
        values=tuple(payload["values"]),
        envelope=envelope,
        submissions_digest=payload.get(SUBMISSIONS_DIGEST),
        key_group=payload.get(KEY_GROUP),
    )


@dataclass(frozen=True)
class RejectedAttestation:
    signer_id: str
    reason: str


@dataclass(frozen=True)
class AttestationOutcome:
    """What :func:`collect_matching` decided: agreed values and who agreed or was refused."""

    subject_id: str
    round_id: int
    ciphertext_digest: str
    values: tuple[str, ...] | None
    agreeing: tuple[Attestation, ...]
    rejected: tuple[RejectedAttestation, ...]
    #: two or more disagreeing groups that each reached ``t`` (publication refused)
    conflicting: tuple[tuple[Attestation, ...], ...] = ()

    @property
    def accepted(self) -> bool:
        return self.values is not None

    def floats(self) -> list[float]:
        if self.values is None:
            raise AttestationError("no values were agreed")
        return [float(v) for v in self.values]

    def signer_ids(self) -> tuple[str, ...]:
        return tuple(a.signer_id for a in self.agreeing)


def collect_matching(
    envelopes: Sequence[Envelope],
    key_holders: Mapping[str, bytes],
    *,
    t: int,
    subject_id: str,
    round_id: int,
    key_id: str,
    digest: str,
    nonce_store: NonceStore | None = None,
    log: Any | None = None,
    max_age: dt.timedelta | None = DEFAULT_MAX_AGE,
    now: dt.datetime | None = None,
    key_group: str | None = None,
) -> AttestationOutcome:
    """Accept the aggregate iff ``t`` distinct key holders signed identical values, and no
    other values were signed by ``t`` of them too.

    ``key_holders`` maps the *enrolled key holders'* node ids to their Ed25519 identity
    keys; a signature by anyone else is rejected. Every attestation that is forged,
    malformed, about something else, a duplicate signer, or disagrees with the ``t``
    matching ones is rejected with its reason. Two or more disagreeing groups that each
    reach ``t`` are a conflict: nothing is accepted (the first seen does not win) and every
    group is kept in ``conflicting``. With ``log`` (a
    :class:`governance.translog.TransparencyLog`) each accepted attestation is appended
    as ``attestation``, each rejected one as ``attestation_rejected``, and a conflict as
    one ``attestation_conflict`` entry naming every group. Raises
    :class:`InsufficientAttestationsError` (carrying the outcome) when no ``t`` agree or
    when groups conflict. ``t`` below :data:`MIN_T` is refused.
    """
    if t < MIN_T:
        raise AttestationError(f"t must be >= {MIN_T} (no key holder publishes alone), got {t}")
    valid, rejected = _read_all(
        envelopes,
        key_holders,
        nonce_store=nonce_store,
        subject_id=subject_id,
        round_id=round_id,
        key_id=key_id,
        digest=digest,
        max_age=max_age,
        now=now,
        key_group=key_group,
    )
    agreeing, conflicting, disagreeing = _decide(valid, t)
    outcome = AttestationOutcome(
        subject_id=subject_id,
        round_id=round_id,
        ciphertext_digest=digest,
        values=agreeing[0].values if agreeing else None,
        agreeing=agreeing,
        rejected=(*rejected, *disagreeing),
        conflicting=conflicting,
    )
    if log is not None:
        _log_outcome(log, outcome)
    _raise_unless_agreed(outcome, t, len(valid))
    return outcome


def _read_all(
    envelopes: Sequence[Envelope], key_holders: Mapping[str, bytes], **expected: Any
) -> tuple[list[Attestation], list[RejectedAttestation]]:
    """Every readable attestation, once per signer; the rest rejected with their reason."""
    valid: list[Attestation] = []
    rejected: list[RejectedAttestation] = []
    seen: set[str] = set()
    for envelope in envelopes:
        try:
            att = read_attestation(envelope, key_holders, **expected)
        except (EnvelopeError, AttestationError) as exc:
            rejected.append(RejectedAttestation(envelope.signer_id, f"{type(exc).__name__}: {exc}"))
            continue
        if att.signer_id in seen:
            rejected.append(RejectedAttestation(att.signer_id, "second attestation by signer"))
            continue
        seen.add(att.signer_id)
        valid.append(att)
    return valid, rejected


def _decide(
    valid: Sequence[Attestation], t: int
) -> tuple[tuple[Attestation, ...], tuple[tuple[Attestation, ...], ...], list[RejectedAttestation]]:
    """The one group of ``t`` that agrees, or the conflicting groups; everyone else rejected."""
    groups: dict[tuple[str, ...], list[Attestation]] = defaultdict(list)
    for att in valid:
        groups[att.values].append(att)
    reaching = [atts for atts in groups.values() if len(atts) >= t]
    agreeing: tuple[Attestation, ...] = tuple(reaching[0]) if len(reaching) == 1 else ()
    conflicting = tuple(tuple(atts) for atts in reaching) if len(reaching) > 1 else ()
    agreed = agreeing[0].values if agreeing else None
    rejected: list[RejectedAttestation] = []
    for values, atts in groups.items():
        if values == agreed:
            continue
        if conflicting:
            reason = (
                f"conflict: {len(conflicting)} groups of at least t={t} key holders signed "
                f"different values ({len(atts)} signed these); publication refused"
            )
        elif agreed is not None:
            reason = "values disagree with the t matching attestations"
        else:
            reason = f"no {t} attestations agree ({len(atts)} signed these values)"
        rejected.extend(RejectedAttestation(a.signer_id, reason) for a in atts)
    return agreeing, conflicting, rejected


def _raise_unless_agreed(outcome: AttestationOutcome, t: int, valid: int) -> None:
    """A conflict or no ``t`` agreement raises, carrying the outcome (already logged)."""
    subject_id, round_id, conflicting = outcome.subject_id, outcome.round_id, outcome.conflicting
    if conflicting:
        raise InsufficientAttestationsError(
            f"{subject_id} (round {round_id}): {len(conflicting)} disagreeing groups each of "
            f"at least t={t} key holders signed different plaintexts "
            f"({'; '.join(', '.join(a.signer_id for a in g) for g in conflicting)}): "
            "publication refused",
            outcome,
        )
    if outcome.values is None:
        raise InsufficientAttestationsError(
            f"{subject_id} (round {round_id}): fewer than t={t} key holders signed identical "
            f"plaintexts ({valid} valid, {len(outcome.rejected)} rejected)",
            outcome,
        )


def _log_outcome(log: Any, outcome: AttestationOutcome) -> None:
    base = {
        "subject_id": outcome.subject_id,
        "round_id": outcome.round_id,
        "ciphertext_digest": outcome.ciphertext_digest,
    }
    for att in outcome.agreeing:
        log.append(
            "attestation",
            {
                **base,
                "signer_id": att.signer_id,
                "envelope_sha256": hashlib.sha256(att.envelope.to_bytes()).hexdigest(),
            },
        )
    for rej in outcome.rejected:
        log.append(
            "attestation_rejected", {**base, "signer_id": rej.signer_id, "reason": rej.reason}
        )
    if outcome.conflicting:
        log.append(
            "attestation_conflict",
            {
                **base,
                "groups": [
                    {
                        "values_sha256": _values_digest(group[0].values),
                        "signers": [a.signer_id for a in group],
                        "envelope_sha256": [
                            hashlib.sha256(a.envelope.to_bytes()).hexdigest() for a in group
                        ],
                    }
                    for group in outcome.conflicting
                ],
            },
        )


def _values_digest(values: Sequence[str]) -> str:
    """``sha256:<hex>`` of the signed decimal strings, one per line: names one plaintext."""
    return "sha256:" + hashlib.sha256("\n".join(values).encode()).hexdigest()
