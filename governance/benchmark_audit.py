"""Offline verification of a published benchmark from an exported log bundle.

What an auditor learns, with nothing but the bundle (``gcdt-audit verify-benchmark``):

1. the log itself verifies against the auditor's pinned anchors
   (``governance.translog.verify_bundle``: leaves, checkpoints signed by the pinned log
   key, consistency with an earlier checkpoint, witness quorum);
2. the benchmark's ``publication`` entry is included in the latest signed tree head (an
   RFC 9162 inclusion proof recomputed from the bundle's leaves and checked);
3. at least ``t`` attestations in it are valid signatures by *distinct key holders
   of the member-signed trust policy in force before the publication* (the last trust
   ``policy_change`` entry's key groups, minus ``revocation`` entries), over identical
   values, for this round's subject, key and summed-ciphertext digest; ``t`` is at least
   2 and at least the ``t`` of the trust policy in force (the last ``policy_change`` before the
   publication); a second group of ``t`` signing other values is a conflict and fails;
   the ``summed`` round entry names at least ``max(2, m)`` distinct submitters;
4. the round terms are those the ``round`` entry announced when the round opened;
5. the published cells are exactly what ``open_models.benchmark_values.derive_benchmarks``
   gives from the attested values (nothing was altered between decryption and
   publication, and suppressed cells carry no values).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785

from governance.attestation import MIN_T, AttestationError, read_attestation
from governance.envelope import Envelope
from governance.errors import EnvelopeError, GovernanceError
from governance.policy.in_force import privacy_cap_in_force
from governance.policy.logged import key_holders_in_force
from governance.translog import Anchors, merkle, verify_bundle
from open_models.benchmark_cells import CatalogueError
from open_models.benchmark_values import RoundTerms, derive_benchmarks

BENCHMARK_FORMAT = "gcdt-benchmark/1"
#: The fewest distinct submitters a published sum may have, whatever the policy.
MIN_CONTRIBUTORS = 2


@dataclass
class BenchmarkReport:
    benchmark_id: str
    log_key: str | None = None
    entry_index: int | None = None
    tree_size: int | None = None
    t: int | None = None
    signers: list[str] = field(default_factory=list)
    published_cells: int = 0
    suppressed_cells: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.entry_index is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "benchmark_id": self.benchmark_id,
            "log_key": self.log_key,
            "entry_index": self.entry_index,
            "tree_size": self.tree_size,
            "t": self.t,
            "signers": self.signers,
            "published_cells": self.published_cells,
            "suppressed_cells": self.suppressed_cells,
            "problems": self.problems,
        }


def _inclusion_ok(leaves: list[bytes], index: int, size: int, root: bytes) -> None:
    @functools.cache
    def perfect(level: int, i: int) -> bytes:
        if level == 0:
            return leaves[i]
        return merkle.node_hash(perfect(level - 1, 2 * i), perfect(level - 1, 2 * i + 1))

    proof = merkle.inclusion_proof(merkle.reader_from(perfect), index, size)
    merkle.verify_inclusion(index, size, leaves[index], proof, root)


def _key_holders(entries: list[Mapping[str, Any]], before: int) -> dict[str, bytes]:
    """Key holders of the member-signed policy in force before ``before``, not revoked."""
    return key_holders_in_force(
        (str(raw.get("kind")), raw.get("payload") or {}) for raw in entries[:before]
    )


def verify_benchmark(
    bundle: Mapping[str, Any], benchmark_id: str, anchors: Anchors | None = None
) -> BenchmarkReport:
    """Run the module docstring's checks on ``benchmark_id``, collecting every failure.

    Problems go into the returned report (none means verified) instead of being raised, so
    one run lists them all; a bundle unusable as a whole raises :class:`BundleFormatError`.
    """
    report = BenchmarkReport(benchmark_id)
    log_report = verify_bundle(bundle, anchors)
    report.log_key = log_report.log_key  # gcdt-audit refuses to run without a pinned key
    report.problems.extend(f"log: {p.message}" for p in log_report.problems)
    entries = list(bundle.get("entries") or [])
    entry = _publication(entries, benchmark_id, report)
    if entry is None:
        return report
    payload = entry["payload"]
    index = report.entry_index = int(entry["index"])
    heads = bundle.get("tree_heads") or []
    if not heads:
        report.problems.append("the bundle has no signed tree head")
        return report
    _check_inclusion(entries, index, heads[-1], report)
    try:
        terms = RoundTerms.from_dict(payload["terms"])
    except (CatalogueError, KeyError, TypeError) as exc:
        report.problems.append(f"publication carries unusable round terms: {exc}")
        return report
    _check_announced(entries[:index], terms, payload, report)
    t = report.t = int(payload.get("t", 0))
    by_values = _attested(payload, terms, _key_holders(entries, index), report)
    if t < MIN_T:
        report.problems.append(f"publication claims t={t}: fewer than {MIN_T} attestations")
    policy = _thresholds_in_force(entries, index)
    if isinstance(policy.get("t"), int) and t < policy["t"]:
        report.problems.append(
            f"publication claims t={t}, the trust policy in force requires t={policy['t']}"
        )
    _check_contributors(entries[:index], terms, payload, policy, report)
    _check_privacy(entries, index, terms, policy, report)
    reaching = [(v, s) for v, s in by_values.items() if len(s) >= max(t, MIN_T)]
    if len(reaching) > 1:
        groups = "; ".join(", ".join(s) for _, s in reaching)
        report.problems.append(
            f"{len(reaching)} groups of at least t={t} key holders signed different values "
            f"({groups}): a conflict, nothing may be published"
        )
        return report
    best = max(by_values.items(), key=lambda item: len(item[1]), default=None)
    if best is None or len(best[1]) < t:
        report.problems.append(
            f"fewer than t={t} distinct enrolled key holders signed identical values"
        )
        return report
    values, signers = best
    report.signers = sorted(signers)
    _check_cells(terms, values, payload, report)
    return report


def _check_privacy(
    entries: list[Mapping[str, Any]],
    index: int,
    terms: RoundTerms,
    policy: Mapping[str, Any],
    report: BenchmarkReport,
) -> None:
    """The round's (epsilon, delta) within the trust's cap, its noise sized for t - 1 curious
    contributors (issue 14)."""
    cap = privacy_cap_in_force(entries, index)
    if cap is not None:
        report.problems.extend(cap.problems(terms.epsilon, terms.delta, "round"))
    t = policy.get("t")
    if isinstance(t, int) and terms.curious < max(1, t - 1):
        report.problems.append(
            f"round noise is sized for {terms.curious} curious contributor(s), the trust "
            f"policy in force (t={t}) requires {max(1, t - 1)}"
        )


def _thresholds_in_force(entries: list[Mapping[str, Any]], before: int) -> dict[str, Any]:
    """The publication thresholds of the last trust ``policy_change`` logged before ``before``."""
    found: dict[str, Any] = {}
    for raw in entries[:before]:
        payload = raw.get("payload") or {}
        if raw.get("kind") == "policy_change" and payload.get("policy") == "trust":
            thresholds = payload.get("thresholds")
            found = dict(thresholds) if isinstance(thresholds, dict) else {}
    return found


def _check_contributors(
    earlier: list[Mapping[str, Any]],
    terms: RoundTerms,
    payload: Mapping[str, Any],
    policy: Mapping[str, Any],
    report: BenchmarkReport,
) -> None:
    """The sum the key holders decrypted had at least ``max(2, m)`` distinct submitters."""
    summed = [
        raw["payload"]
        for raw in earlier
        if raw.get("kind") == "round"
        and (raw.get("payload") or {}).get("event") == "summed"
        and raw["payload"].get("round_id") == terms.round_id
        and raw["payload"].get("digest") == payload.get("ciphertext_digest")
    ]
    m = policy.get("m")
    need = max(m if isinstance(m, int) else 0, MIN_CONTRIBUTORS)
    submitters = summed[-1].get("submitters") if summed else None
    count = len(set(map(str, submitters))) if isinstance(submitters, list) else 0
    if count < need:
        report.problems.append(
            f"the decrypted sum has {count} distinct submitter(s) in the log, at least {need} "
            "required (the trust policy's m)"
        )


def _publication(
    entries: list[Mapping[str, Any]], benchmark_id: str, report: BenchmarkReport
) -> Mapping[str, Any] | None:
    """The one publication entry of ``benchmark_id`` (two would make the claim ambiguous)."""
    found = [
        raw
        for raw in entries
        if raw.get("kind") == "publication"
        and (raw.get("payload") or {}).get("benchmark_id") == benchmark_id
    ]
    if len(found) != 1:
        report.problems.append(
            f"the log has {len(found)} publication entries for benchmark {benchmark_id!r}, "
            "expected exactly 1"
        )
        return None
    return found[0]


def _check_inclusion(
    entries: list[Mapping[str, Any]],
    index: int,
    head: Mapping[str, Any],
    report: BenchmarkReport,
) -> None:
    """The publication is under the latest signed tree head (proof rebuilt from the leaves)."""
    size = int(head["tree_size"])
    report.tree_size = size
    try:
        leaves = [bytes.fromhex(e["leaf_hash"]) for e in entries[:size]]
        _inclusion_ok(leaves, index, size, bytes.fromhex(head["root_hash"]))
    except (merkle.MerkleError, KeyError, ValueError, IndexError) as exc:
        report.problems.append(f"inclusion of entry {index} in the signed head fails: {exc}")


def _check_announced(
    earlier: list[Mapping[str, Any]],
    terms: RoundTerms,
    payload: Mapping[str, Any],
    report: BenchmarkReport,
) -> None:
    """The published terms are those the round's first announcement in the log stated."""
    announced = [
        raw["payload"]["terms"]
        for raw in earlier
        if raw.get("kind") == "round"
        and isinstance((raw.get("payload") or {}).get("terms"), dict)
        and raw["payload"]["terms"].get("round_id") == terms.round_id
    ]
    if not announced or announced[0] != payload["terms"]:
        report.problems.append(f"round {terms.round_id}'s terms differ from those announced")


def _attested(
    payload: Mapping[str, Any],
    terms: RoundTerms,
    holders: dict[str, bytes],
    report: BenchmarkReport,
) -> dict[tuple[str, ...], list[str]]:
    """Distinct enrolled signers per attested value vector, in first-signed order; an
    attestation that does not verify is a problem, not a vote."""
    by_values: dict[tuple[str, ...], list[str]] = {}
    for position, raw in enumerate(payload.get("attestations") or []):
        try:
            att = read_attestation(
                Envelope.from_json(raw),
                holders,
                nonce_store=None,
                subject_id=terms.subject_id,
                round_id=terms.round_id,
                key_id=terms.key_id,
                digest=payload.get("ciphertext_digest"),
                max_age=None,
            )
        except (EnvelopeError, AttestationError, GovernanceError) as exc:
            report.problems.append(f"attestation {position}: {exc}")
            continue
        signers = by_values.setdefault(att.values, [])
        if att.signer_id not in signers:
            signers.append(att.signer_id)
    return by_values


def _check_cells(
    terms: RoundTerms,
    values: tuple[str, ...],
    payload: Mapping[str, Any],
    report: BenchmarkReport,
) -> None:
    """The published cells are exactly what the attested values give."""
    cells = derive_benchmarks(terms, [float(v) for v in values])
    if rfc8785.dumps(cells) != rfc8785.dumps(payload.get("cells")):
        report.problems.append("published cells differ from those the attested values give")
    report.published_cells = sum(1 for c in cells if not c["suppressed"])
    report.suppressed_cells = sum(1 for c in cells if c["suppressed"])
