"""The report a model audit builds: every check appends its failures here.

Kept apart from the checks so :mod:`.sources` (which reports unverifiable model files) and
the checks can share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelReport:
    """What one audit of one model found: identity, log facts, problems and unchecked items."""

    model_id: str
    version: str | None = None
    content_hash: str | None = None
    entry_index: int | None = None
    t: int | None = None
    rounds: list[int] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    log_key: str | None = None  # fingerprint of the log key the bundle was checked against
    pinned: bool = False  # False: the bundle's own claimed key (no --log-key/--anchors)

    def fail(self, code: str, where: str, message: str) -> None:
        self.problems.append({"code": code, "where": where, "message": message})

    def ok(self, strict: bool = False) -> bool:
        return not self.problems and not (strict and self.unchecked)

    def to_json(self, strict: bool = False) -> dict[str, Any]:
        return {
            "ok": self.ok(strict),
            "model_id": self.model_id,
            "version": self.version,
            "content_hash": self.content_hash,
            "entry_index": self.entry_index,
            "t": self.t,
            "rounds": self.rounds,
            "signers": self.signers,
            "problems": self.problems,
            "unchecked": self.unchecked,
            "log_key": self.log_key,
            "pinned": self.pinned,
        }
