"""Offline verification of an exported log bundle against keys the auditor pinned.

Pure: no database, no network. The verifier trusts nothing the bundle says about itself:
checkpoints must be signed by the *pinned* log key (a signed-note verifier key the auditor
obtained out of band), cosigned by a quorum of *pinned* witness keys when one is asked
for, and consistent with a checkpoint the auditor saw before (``since``). Checks, in order
(docs/auditor-guide.md explains each):

1. the bundle parses (:mod:`.bundle`);
2. entries are numbered 0, 1, 2, ... in order (a gap, duplicate or swap names the entry);
3. every entry's leaf hash is recomputed from its index, kind, timestamp and payload;
4. every checkpoint is a C2SP checkpoint of this log, signed by the pinned log key;
5. checkpoints never shrink, and none claims more entries than exist;
6. each checkpoint's root equals the Merkle root of the entries it covers;
7. every entry is covered by some verified checkpoint;
8. ``since``: the earlier checkpoint verifies with the pinned key and an RFC 9162
   consistency proof from it to the latest checkpoint verifies -- the proof is built from
   the bundle's leaves, the old root comes from the auditor, so a rewritten log fails;
9. witnesses: the latest checkpoint carries valid cosignatures by at least ``quorum``
   distinct pinned witness keys.

Every problem is reported, each naming the entry (index and kind) or checkpoint concerned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.translog import merkle
from governance.translog.bundle import ParsedBundle, RawHead, parse_bundle
from governance.translog.checkpoint import Checkpoint
from governance.translog.errors import TranslogError
from governance.translog.note import (
    SIG_COSIGNATURE_V1,
    NoteError,
    UntrustedNoteError,
    VerifierKey,
    open_note,
)
from governance.translog.records import LogEntry


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
    log_key: str | None = None  # fingerprint (name+keyid) of the key checked against
    pinned: bool = False  # False: the bundle's own claimed key was used (not an audit)
    entries: int = 0
    tree_heads: int = 0
    tree_size: int = 0
    root_hash: str | None = None
    checkpoint: str | None = None  # the latest verified checkpoint note, verbatim
    since_size: int | None = None
    witnesses: list[str] = field(default_factory=list)  # fingerprints that cosigned latest
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
            "log_key": self.log_key,
            "pinned": self.pinned,
            "entries": self.entries,
            "tree_heads": self.tree_heads,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "since_size": self.since_size,
            "witnesses": self.witnesses,
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


@dataclass(frozen=True)
class Anchors:
    """What the auditor trusts, from outside the bundle."""

    log_key: VerifierKey | None = None
    since: str | None = None  # an earlier checkpoint note
    witnesses: Sequence[VerifierKey] = ()
    quorum: int = 0


def verify_bundle(bundle: Mapping[str, Any], anchors: Anchors | None = None) -> VerificationReport:
    """Check a bundle (see module docstring) against ``anchors``; raises only
    :class:`BundleFormatError` for a structurally unusable bundle -- every other finding is
    a :class:`LogProblem`. Without a pinned ``log_key`` the bundle's own claimed key is used
    and the report says ``pinned: false``: that checks integrity, not who signed."""
    anchors = anchors or Anchors()
    report = VerificationReport()
    log = parse_bundle(bundle)
    key = anchors.log_key or log.claimed_key
    report.log_id, report.log_key = log.log_id, key.fingerprint
    report.pinned = anchors.log_key is not None
    report.entries, report.tree_heads = len(log.entries), len(log.heads)
    tree = _check_entries(log.entries, report.problems)
    if not log.heads:
        report.problems.append(LogProblem("no-tree-head", "the bundle has no signed checkpoint"))
        return report
    verified = _check_heads(log, key, anchors.witnesses, tree, report.problems)
    _check_coverage(log.entries, verified, report.problems)
    if not verified:
        return report
    _, latest, note = verified[-1]
    report.tree_size, report.root_hash = latest.size, latest.root_hash.hex()
    report.checkpoint = note
    if anchors.since is not None:
        report.since_size = _check_since(anchors.since, key, latest, tree, report.problems)
    report.witnesses = _check_quorum(note, anchors, verified[-1][0], report.problems)
    return report


#: (position in the bundle's tree_heads list, the checkpoint, its note) of every head that passed.
_Verified = list[tuple[int, Checkpoint, str]]


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


def _check_heads(
    log: ParsedBundle,
    key: VerifierKey,
    witnesses: Sequence[VerifierKey],
    tree: merkle.MerkleTree,
    problems: list[LogProblem],
) -> _Verified:
    verified: _Verified = []
    for number, raw in enumerate(log.heads):
        result = _head_problem(log, key, witnesses, tree, verified, number, raw)
        if isinstance(result, LogProblem):
            problems.append(result)
        else:
            verified.append((number, result, raw.note))
    return verified


def _signed_checkpoint(
    raw: RawHead, key: VerifierKey, witnesses: Sequence[VerifierKey], label: str, number: int
) -> Checkpoint | LogProblem:
    """The checkpoint in ``raw`` if the pinned log key signed it (witness signatures, if any
    are known, must verify too: a bad known signature rejects the note, per signed-note)."""
    try:
        note, good = open_note(raw.note, [key, *witnesses])
        checkpoint = Checkpoint.parse(note.text)
    except UntrustedNoteError:
        good = []
    except NoteError as exc:
        return LogProblem("checkpoint-invalid", f"{label}: {exc}", tree_head=number)
    if all(v.key != key for v in good):
        return LogProblem(
            "checkpoint-unsigned",
            f"{label} is not signed by the pinned log key {key.fingerprint}: forged, or "
            "signed by a key the auditor did not pin",
            tree_head=number,
        )
    if checkpoint.origin != key.name:
        return LogProblem(
            "checkpoint-wrong-log",
            f"{label} is for log {checkpoint.origin!r}, not {key.name!r}",
            tree_head=number,
        )
    labelled = (raw.tree_size, raw.root_hash)
    if labelled not in ((None, None), (checkpoint.size, checkpoint.root_hash)):
        return LogProblem(
            "checkpoint-mislabelled",
            f"{label}: the JSON size/root beside the checkpoint differ from the signed ones",
            tree_head=number,
        )
    return checkpoint


def _head_problem(
    log: ParsedBundle,
    key: VerifierKey,
    witnesses: Sequence[VerifierKey],
    tree: merkle.MerkleTree,
    verified: _Verified,
    number: int,
    raw: RawHead,
) -> Checkpoint | LogProblem:
    """The verified checkpoint, or the first check it fails (later checks assume earlier)."""
    label = f"checkpoint #{number}"
    checkpoint = _signed_checkpoint(raw, key, witnesses, label, number)
    if isinstance(checkpoint, LogProblem):
        return checkpoint
    label = f"checkpoint #{number} (size {checkpoint.size})"
    if verified and checkpoint.size < verified[-1][1].size:
        return LogProblem(
            "sth-goes-back",
            f"{label} is smaller than the checkpoint before it "
            f"(size {verified[-1][1].size}): the log was rolled back",
            tree_head=number,
        )
    if checkpoint.size > tree.size:
        return _entries_missing(log.entries, tree, label, number, checkpoint)
    root = tree.root(checkpoint.size)
    if root != checkpoint.root_hash:
        return _root_mismatch(log.entries, verified, label, number, checkpoint, root)
    return checkpoint


def _entries_missing(
    entries: list[LogEntry], tree: merkle.MerkleTree, label: str, number: int, head: Checkpoint
) -> LogProblem:
    first = tree.size
    missing = entries[first].index if first < len(entries) else first
    return LogProblem(
        "entries-missing",
        f"{label} covers {head.size} entries but the bundle has "
        f"{tree.size}: entries {missing}..{head.size - 1} are missing (log truncated)",
        entry_index=missing,
        tree_head=number,
    )


def _root_mismatch(
    entries: list[LogEntry],
    verified: _Verified,
    label: str,
    number: int,
    head: Checkpoint,
    root: bytes,
) -> LogProblem:
    """Name the first entry no earlier verified head covers: the change is at or after it."""
    low = max((h.size for _, h, _ in verified), default=0)
    suspect = entries[low] if low < len(entries) else None
    where = (
        f"; the first entry not covered by an earlier verified checkpoint is {_name(suspect)}"
        if suspect is not None
        else ""
    )
    return LogProblem(
        "sth-root-mismatch",
        f"{label}: signed root {head.root_hash.hex()} does not match the root "
        f"of entries 0..{head.size - 1} ({root.hex()}): an entry in "
        f"{low}..{head.size - 1} was changed, removed or reordered{where}",
        suspect.index if suspect else None,
        suspect.kind if suspect else None,
        number,
    )


def _check_coverage(
    entries: list[LogEntry], verified: _Verified, problems: list[LogProblem]
) -> None:
    """Every entry must be under a verified signed head (unless a root already failed)."""
    covered = max((h.size for _, h, _ in verified), default=0)
    if covered < len(entries) and not any(p.code == "sth-root-mismatch" for p in problems):
        extra = entries[covered]
        problems.append(
            LogProblem(
                "entries-unsigned",
                f"{_name(extra)} and later ({len(entries) - covered} entries) are not "
                f"covered by any valid signed checkpoint",
                extra.index,
                extra.kind,
            )
        )


def _check_since(
    since_note: str,
    key: VerifierKey,
    latest: Checkpoint,
    tree: merkle.MerkleTree,
    problems: list[LogProblem],
) -> int | None:
    """The latest checkpoint extends the one the auditor saw before (a real proof: the old
    root is the auditor's, only the proof path comes from the bundle's leaves)."""
    try:
        note, _ = open_note(since_note, [key])
        old = Checkpoint.parse(note.text)
    except NoteError as exc:
        problems.append(LogProblem("since-invalid", f"the earlier checkpoint: {exc}"))
        return None
    where = f"the earlier checkpoint (size {old.size}) and the latest (size {latest.size})"
    if old.origin != latest.origin:
        problems.append(LogProblem("since-wrong-log", f"{where} name different logs"))
    elif old.size > latest.size:
        problems.append(
            LogProblem("since-rollback", f"{where}: the log shown now is shorter: rolled back")
        )
    elif old.size == latest.size and old.root_hash != latest.root_hash:
        problems.append(LogProblem("split-view", f"{where}: same size, different roots"))
    elif 0 < old.size < latest.size:
        proof = tree.consistency_proof(old.size, latest.size)
        try:
            merkle.verify_consistency(old.size, latest.size, old.root_hash, latest.root_hash, proof)
        except merkle.ProofError as exc:
            problems.append(
                LogProblem(
                    "since-inconsistent",
                    f"{where} are not consistent: the log was rewritten after the auditor "
                    f"saw it ({exc})",
                )
            )
    return old.size


def _check_quorum(
    note: str, anchors: Anchors, number: int, problems: list[LogProblem]
) -> list[str]:
    """Fingerprints of the pinned witnesses whose cosignature on ``note`` verified."""
    cosigners = [w for w in anchors.witnesses if w.sig_type == SIG_COSIGNATURE_V1]
    if not cosigners:
        signed: list[str] = []
    else:
        try:
            _, good = open_note(note, cosigners)
            signed = sorted({v.key.fingerprint for v in good})
        except NoteError:
            signed = []
    if len(signed) < anchors.quorum:
        problems.append(
            LogProblem(
                "witness-quorum",
                f"the latest checkpoint has {len(signed)} valid cosignature(s) by pinned "
                f"witnesses ({', '.join(signed) or 'none'}), the quorum is {anchors.quorum}",
                tree_head=number,
            )
        )
    return signed
