"""Append-only SHA-256 hash chains in SQL, verified offline: one implementation for every log.

The accountability register (``governance.accountability``) and a hosted node's consent
log (``trust_node.tenants``) are both such chains; each binds this module to its own
errors, so a broken chain is reported in the package that owns the log.

Why a chain: an auditor who holds an exported copy (or only an ``entry_hash`` published
earlier) can detect any later edit, deletion, insertion or reordering of entries, offline,
by recomputing ``entry_hash = SHA-256(prev_hash || RFC 8785 canonical JSON of the entry's
fields)`` from the genesis value. ``prev_hash`` is UNIQUE in the table, so two writers
that race to extend the same head cannot both succeed: the loser retries on the new head.
SHA-256 comes from :mod:`hashlib`; canonical JSON from :mod:`rfc8785`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import rfc8785
from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import IntegrityError

GENESIS: Final = "0" * 64
APPEND_ATTEMPTS: Final = 8


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: every stored time is UTC, so say so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """The one text form of a time that is hashed: a re-read row must hash the same."""
    return utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256(prev_hash || RFC 8785 JSON of fields): any tool can recompute it."""
    body = rfc8785.dumps(dict(fields))
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


#: Builds the error a log reports when too many writers race for its head.
Contended = Callable[[str], Exception]
#: Builds the error a log reports for a broken chain: (what, first bad index, reason).
Broken = Callable[[str, int, str], Exception]


def append(
    engine: Engine,
    table: Table,
    fields: Mapping[str, Any],
    hashed: Mapping[str, Any],
    *,
    contended: Contended,
) -> dict[str, Any]:
    """Append one entry: ``fields`` are stored, ``hashed`` (their JSON form) are chained."""
    for _ in range(APPEND_ATTEMPTS):
        try:
            with engine.begin() as conn:
                head = conn.execute(
                    select(table.c.entry_hash).order_by(table.c.seq.desc()).limit(1)
                ).scalar_one_or_none()
                prev = head or GENESIS
                row = {**fields, "prev_hash": prev, "entry_hash": entry_hash(prev, hashed)}
                seq = conn.execute(table.insert().returning(table.c.seq), row).scalar_one()
                return {"seq": int(seq), **row}
        except IntegrityError:
            continue  # another writer extended the head first; chain onto the new head
    raise contended(f"could not append to {table.name}: too many concurrent writers")


def verify(
    entries: Iterable[Mapping[str, Any]],
    hashed_fields: tuple[str, ...],
    what: str,
    *,
    broken: Broken,
) -> int:
    """Check a chain exported as dicts (JSON form); return the number of entries."""
    prev = GENESIS
    count = 0
    for index, entry in enumerate(entries):
        if entry.get("prev_hash") != prev:
            raise broken(what, index, "prev_hash is not the previous entry's hash")
        expected = entry_hash(prev, {k: entry.get(k) for k in hashed_fields})
        if entry.get("entry_hash") != expected:
            raise broken(what, index, "entry_hash does not match its contents")
        prev = expected
        count += 1
    return count
