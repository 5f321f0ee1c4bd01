"""Offline check of one ``.tlog-proof`` file against pinned anchors (``gcdt-audit verify-proof``).

What passes: the checkpoint is signed by the pinned log key (and cosigned by the witness
quorum, when one is pinned), and the entry carried in the proof's ``extra`` line hashes,
through the RFC 6962 inclusion path, to the checkpoint's root. Then the entry -- a
publication, a policy version -- is in the log every witness saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from governance.translog import merkle
from governance.translog.checkpoint import Checkpoint, TlogProof
from governance.translog.note import SIG_COSIGNATURE_V1, NoteError, open_note
from governance.translog.verify import Anchors


@dataclass
class ProofReport:
    log_key: str
    index: int | None = None
    tree_size: int | None = None
    kind: str | None = None
    payload: Any = None
    witnesses: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log_key": self.log_key,
            "index": self.index,
            "tree_size": self.tree_size,
            "kind": self.kind,
            "payload": self.payload,
            "witnesses": self.witnesses,
            "problems": self.problems,
        }


def verify_proof(text: str, anchors: Anchors) -> ProofReport:
    """Check ``text`` (a tlog-proof file); malformed input raises :class:`NoteError`."""
    if anchors.log_key is None:
        raise NoteError("a proof is checked against a pinned log key; none was given")
    report = ProofReport(anchors.log_key.fingerprint)
    proof = TlogProof.parse(text)
    report.index = proof.index
    try:
        note, good = open_note(proof.checkpoint_note, [anchors.log_key, *anchors.witnesses])
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        report.problems.append(f"checkpoint: {exc}")
        return report
    report.tree_size = checkpoint.size
    if all(v.key != anchors.log_key for v in good):
        report.problems.append(f"checkpoint is not signed by {anchors.log_key.fingerprint}")
    report.witnesses = sorted(
        v.key.fingerprint for v in good if v.key.sig_type == SIG_COSIGNATURE_V1
    )
    if len(report.witnesses) < anchors.quorum:
        report.problems.append(
            f"{len(report.witnesses)} pinned witness cosignature(s), the quorum is {anchors.quorum}"
        )
    if proof.extra is None:
        report.problems.append("the proof carries no entry (no 'extra' line)")
        return report
    try:
        merkle.verify_inclusion(
            proof.index,
            checkpoint.size,
            merkle.leaf_hash(proof.extra),
            proof.path,
            checkpoint.root_hash,
        )
    except merkle.MerkleError as exc:
        report.problems.append(f"entry {proof.index} is not in the checkpointed tree: {exc}")
    _describe(proof, report)
    return report


def _describe(proof: TlogProof, report: ProofReport) -> None:
    """Kind and payload of the carried entry (leaf bytes are RFC 8785 JSON, see records)."""
    try:
        leaf = json.loads(proof.extra or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        report.problems.append("the carried entry is not a JSON log leaf")
        return
    if not isinstance(leaf, dict) or leaf.get("index") != proof.index:
        report.problems.append(f"the carried entry does not state index {proof.index}")
        return
    report.kind, report.payload = leaf.get("kind"), leaf.get("payload")


__all__ = ["ProofReport", "verify_proof"]
