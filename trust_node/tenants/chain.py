"""The consent log's hash chain: ``governance.hashchain`` bound to the tenants' errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, Table

from governance import hashchain
from governance.hashchain import GENESIS, entry_hash, iso, utc
from trust_node.tenants.errors import ChainError, TenantError

__all__ = ["GENESIS", "append", "entry_hash", "iso", "utc", "verify"]


def append(
    engine: Engine, table: Table, fields: Mapping[str, Any], hashed: Mapping[str, Any]
) -> dict[str, Any]:
    """Append one entry to this package's chain (``governance.hashchain.append``)."""
    return hashchain.append(engine, table, fields, hashed, contended=TenantError)


def verify(entries: Iterable[Mapping[str, Any]], hashed_fields: tuple[str, ...], what: str) -> int:
    """Check an exported chain; a broken one raises this package's error."""
    return hashchain.verify(entries, hashed_fields, what, broken=ChainError)
