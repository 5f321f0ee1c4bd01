"""Offline verification of an exported register: pure, no database, no network.

What it can honestly check is what the register has: a SHA-256 hash chain, no signatures.
So an edited, inserted, dropped or reordered entry is found (the chain breaks there), but
an operator who rewrites the whole chain, or drops only the newest entries, is caught only
against an ``entry_hash`` the auditor obtained earlier (a previous export, a published
value): :func:`check_export` takes it as ``pinned_head`` and requires it in the chain,
which proves every entry up to it unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.accountability import chain
from governance.accountability.errors import RegisterFormatError, RegisterIntegrityError
from governance.accountability.register import HASHED_FIELDS, WHAT


def read_export(path: Path) -> list[dict[str, Any]]:
    """The entries of an exported register file (JSON lines; blank lines ignored)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterFormatError(f"{path}: not a readable register export: {exc}") from exc
    return parse_export(text.splitlines(), str(path))


def parse_export(lines: Iterable[str | Mapping[str, Any]], where: str = "export") -> list[Any]:
    """Entries of JSON lines (or dicts); a line that is no entry object makes the whole
    export unreadable rather than a broken chain, since it says nothing about the operator."""
    entries: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, Mapping):
            entries.append(dict(line))
            continue
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RegisterFormatError(f"{where} line {number}: not JSON: {exc}") from exc
        if not isinstance(entry, dict):
            raise RegisterFormatError(f"{where} line {number}: an entry is a JSON object")
        entries.append(entry)
    return entries


def verify_register(lines: Iterable[str | Mapping[str, Any]]) -> int:
    """Check an exported register (JSON lines or dicts); return the number of entries."""
    return chain.verify(parse_export(lines), HASHED_FIELDS, WHAT)


@dataclass
class RegisterCheck:
    """What ``gcdt-audit verify-register`` reports (problems as code, where, message)."""

    entries: int = 0
    head: str = chain.GENESIS
    pinned_head: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "pinned_head": self.pinned_head,
            "problems": self.problems,
        }


def check_export(entries: Sequence[Mapping[str, Any]], pinned_head: str | None) -> RegisterCheck:
    """The chain from genesis, then the pinned head (if any) somewhere in it."""
    result = RegisterCheck(pinned_head=pinned_head)
    try:
        result.entries = chain.verify(entries, HASHED_FIELDS, WHAT)
    except RegisterIntegrityError as exc:
        result.problems.append(
            {"code": "chain-broken", "where": f"entry {exc.index}", "message": str(exc)}
        )
        return result
    hashes = [chain.GENESIS, *(str(e["entry_hash"]) for e in entries)]
    result.head = hashes[-1]
    if pinned_head is not None and pinned_head.lower() not in hashes:
        result.problems.append(
            {
                "code": "pinned-head-missing",
                "where": "",
                "message": f"entry_hash {pinned_head} is not in the exported chain: the "
                "register was rewritten or truncated since that hash was obtained",
            }
        )
    return result
