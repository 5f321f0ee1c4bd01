"""Offline verification of an exported log bundle: pure, no database, no network.

Checks, in order (docs/auditor-guide.md explains each):

1. the bundle parses and names its format, log id and operator key (:mod:`.bundle`);
2. entries are numbered 0, 1, 2, ... in order (a gap, duplicate or swap names the entry);
3. every entry's leaf hash is recomputed from its index, kind, timestamp and payload;
4. every signed tree head carries a valid Ed25519 signature by the operator key;
5. tree heads never shrink or go back in time, and none claims more entries than exist;
6. each tree head's root equals the Merkle root of the entries it covers;
7. each successive pair of tree heads is proven consistent (RFC 9162 consistency proof);
8. every entry is covered by some signed tree head.

Every problem is reported, each naming the entry (index and kind) or tree head concerned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.translog import merkle
from governance.translog.bundle import ParsedBundle, parse_bundle
from governance.translog.errors import TranslogError
from governance.translog.records import LogEntry, SignedTreeHead


@dataclass(frozen=True)
class LogProblem:
    """One failed check, named by code and located at an entry or a tree head, so an auditor
    can tell which part of the log to distrust (the log's finding, not the API's or CLI's)."""

    code: str
    message: str
    entry_index: int | None = None
    entry_kind: str | None = None
    tree_head: int | None = None  # position in the bundle's tree_heads list

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "entry_index": self.entry_index,
            "entry_kind": self.entry_kind,
            "tree_head": self.tree_head,
        }


@dataclass
class VerificationReport:
    log_id: str | None = None
    entries: int = 0
    tree_heads: int = 0
    tree_size: int = 0
    root_hash: str | None = None
    problems: list[LogProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise BundleVerificationError(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log_id": self.log_id,
            "entries": self.entries,
            "tree_heads": self.tree_heads,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "problems": [p.to_json() for p in self.problems],
        }


class BundleVerificationError(TranslogError):
    """The bundle was parsed but at least one check failed; ``report`` has them all."""

    def __init__(self, report: VerificationReport) -> None:
        self.report = report
        lines = "\n".join(f"  - {p.message}" for p in report.problems)
        super().__init__(f"log bundle failed {len(report.problems)} check(s):\n{lines}")


def _name(entry: LogEntry) -> str:
    return f"entry {entry.index} ({entry.kind})"


def verify_bundle(bundle: Mapping[str, Any]) -> VerificationReport:
    """Check a parsed bundle (see module docstring); raises only :class:`BundleFormatError`
    for a structurally unusable bundle -- every other finding is a :class:`LogProblem`."""
    report = VerificationReport()
    log = parse_bundle(bundle)
    report.log_id = log.log_id
    report.entries, report.tree_heads = len(log.entries), len(log.heads)
    tree = _check_entries(log.entries, report.problems)
    if not log.heads:
        report.problems.append(LogProblem("no-tree-head", "the bundle has no signed tree head"))
        return report
    verified = _check_heads(log, tree, report.problems)
    if verified:
        _, latest = verified[-1]
        report.tree_size, report.root_hash = latest.tree_size, latest.root_hash.hex()
    _check_coverage(log.entries, verified, report.problems)
    return report


#: (position in the bundle's tree_heads list, the head) of every head that passed.
_Verified = list[tuple[int, SignedTreeHead]]


def _check_entries(entries: list[LogEntry], problems: list[LogProblem]) -> merkle.MerkleTree:
    """Position, then leaf hash, of every entry; the tree of the *recomputed* leaf hashes."""
    tree = merkle.MerkleTree()
    for position, entry in enumerate(entries):
        if entry.index != position:
            problems.append(
                LogProblem(
                    "entry-out-of-order",
                    f"{_name(entry)} is at position {position}: the log was reordered, "
                    f"or an entry before it was removed or duplicated",
                    entry.index,
                    entry.kind,
                )
            )
        computed = entry.computed_leaf_hash()
        if computed != entry.leaf_hash:
            problems.append(
                LogProblem(
                    "leaf-hash-mismatch",
                    f"{_name(entry)}: recorded leaf hash {entry.leaf_hash.hex()} does not match "
                    f"its content (recomputed {computed.hex()}): the entry or its hash was altered",
                    entry.index,
                    entry.kind,
                )
            )
        # Build the tree from recomputed hashes: the signed roots must match the content.
        tree.append_leaf_hash(computed)
    return tree


def _label(number: int, head: SignedTreeHead) -> str:
    return f"tree head #{number} (size {head.tree_size})"


def _check_heads(
    log: ParsedBundle, tree: merkle.MerkleTree, problems: list[LogProblem]
) -> _Verified:
    """Signature, ordering, size, root, then consistency with the previous verified head."""
    verified: _Verified = []
    for number, head in enumerate(log.heads):
        label = _label(number, head)
        if head.log_id != log.log_id:
            problems.append(
                LogProblem(
                    "sth-wrong-log",
                    f"{label} is for log {head.log_id!r}, not {log.log_id!r}",
                    tree_head=number,
                )
            )
        problem = _head_problem(log, tree, verified, number, head)
        if problem is None:
            verified.append((number, head))
        else:
            problems.append(problem)
    return verified


def _head_problem(
    log: ParsedBundle,
    tree: merkle.MerkleTree,
    verified: _Verified,
    number: int,
    head: SignedTreeHead,
) -> LogProblem | None:
    """The first check ``head`` fails (later checks assume the earlier ones held)."""
    label = _label(number, head)
    if not head.signature_valid():
        return LogProblem(
            "sth-bad-signature",
            f"{label}: signature does not verify with the operator key {log.public_key.hex()}",
            tree_head=number,
        )
    if verified:
        _, previous = verified[-1]
        if head.tree_size < previous.tree_size or head.timestamp_ms < previous.timestamp_ms:
            return LogProblem(
                "sth-goes-back",
                f"{label} is older or smaller than the tree head before it "
                f"(size {previous.tree_size}): the log was rolled back",
                tree_head=number,
            )
    if head.tree_size > tree.size:
        return _entries_missing(log.entries, tree, label, number, head)
    root = tree.root(head.tree_size)
    if root != head.root_hash:
        return _root_mismatch(log.entries, verified, label, number, head, root)
    return _inconsistency(tree, verified, label, number, head)


def _entries_missing(
    entries: list[LogEntry],
    tree: merkle.MerkleTree,
    label: str,
    number: int,
    head: SignedTreeHead,
) -> LogProblem:
    first = tree.size
    missing = entries[first].index if first < len(entries) else first
    return LogProblem(
        "entries-missing",
        f"{label} covers {head.tree_size} entries but the bundle has "
        f"{tree.size}: entries {missing}..{head.tree_size - 1} are missing "
        f"(log truncated)",
        entry_index=missing,
        tree_head=number,
    )


def _root_mismatch(
    entries: list[LogEntry],
    verified: _Verified,
    label: str,
    number: int,
    head: SignedTreeHead,
    root: bytes,
) -> LogProblem:
    """Name the first entry no earlier verified head covers: the change is at or after it."""
    low = max((h.tree_size for _, h in verified), default=0)
    suspect = entries[low] if low < len(entries) else None
    where = (
        f"; the first entry not covered by an earlier verified tree head is {_name(suspect)}"
        if suspect is not None
        else ""
    )
    return LogProblem(
        "sth-root-mismatch",
        f"{label}: signed root {head.root_hash.hex()} does not match the root "
        f"of entries 0..{head.tree_size - 1} ({root.hex()}): an entry in "
        f"{low}..{head.tree_size - 1} was changed, removed or reordered{where}",
        suspect.index if suspect else None,
        suspect.kind if suspect else None,
        number,
    )


def _inconsistency(
    tree: merkle.MerkleTree,
    verified: _Verified,
    label: str,
    number: int,
    head: SignedTreeHead,
) -> LogProblem | None:
    if not verified or verified[-1][1].tree_size <= 0:
        return None
    _, previous = verified[-1]
    proof = tree.consistency_proof(previous.tree_size, head.tree_size)
    try:
        merkle.verify_consistency(
            previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof
        )
    except merkle.ProofError as exc:
        return LogProblem(
            "sth-inconsistent",
            f"{label} is not consistent with tree head #{verified[-1][0]}: {exc}",
            tree_head=number,
        )
    return None


def _check_coverage(
    entries: list[LogEntry], verified: _Verified, problems: list[LogProblem]
) -> None:
    """Every entry must be under a verified signed head (unless a root already failed)."""
    covered = max((h.tree_size for _, h in verified), default=0)
    if covered < len(entries) and not any(p.code == "sth-root-mismatch" for p in problems):
        extra = entries[covered]
        problems.append(
            LogProblem(
                "entries-unsigned",
                f"{_name(extra)} and later ({len(entries) - covered} entries) are not "
                f"covered by any valid signed tree head",
                extra.index,
                extra.kind,
            )
        )
