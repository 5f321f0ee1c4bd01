"""Append-only SHA-256 hash chains in SQL: the consent log (the register's is governance's).

Why a chain: an auditor who holds an exported copy (or only the latest ``entry_hash``,
published elsewhere) can detect any later edit, deletion or reordering of entries,
offline, by recomputing ``entry_hash = SHA-256(prev_hash || RFC 8785 canonical JSON of
the entry's fields)`` from the genesis value. ``prev_hash`` is UNIQUE in the table, so two
writers that race to extend the same head cannot both succeed: the loser retries on the
new head. SHA-256 comes from :mod:`hashlib`; canonical JSON from :mod:`rfc8785`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import IntegrityError

from trust_node.tenants.errors import ChainError, TenantError

GENESIS = "0" * 64
APPEND_ATTEMPTS = 8


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: every stored time is UTC, so say so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """The one text form of a time in hashed entries: UTC, microseconds, ``Z``."""
    return utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's canonical JSON (see the module)."""
    body = rfc8785.dumps(dict(fields))
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def append(
    engine: Engine, table: Table, fields: Mapping[str, Any], hashed: Mapping[str, Any]
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
    raise TenantError(f"could not append to {table.name}: too many concurrent writers")


def verify(entries: Iterable[Mapping[str, Any]], hashed_fields: tuple[str, ...], what: str) -> int:
    """Check a chain exported as dicts (JSON form); return the number of entries."""
    prev = GENESIS
    count = 0
    for index, entry in enumerate(entries):
        if entry.get("prev_hash") != prev:
            raise ChainError(what, index, "prev_hash is not the previous entry's hash")
        expected = entry_hash(prev, {k: entry.get(k) for k in hashed_fields})
        if entry.get("entry_hash") != expected:
            raise ChainError(what, index, "entry_hash does not match its contents")
        prev = expected
        count += 1
    return count
