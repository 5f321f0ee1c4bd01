"""The register's table, declared on the governance metadata (``governance/migrations``).

It was the node store's ``accountability_register`` before the register moved to
governance; the node's revision ``0003_register_to_governance`` hands the rows over and
governance's ``0001_accountability`` adopts them, so the hashes, and with them every
exported copy, stay valid.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, DateTime, Integer, String, Table, Text

from governance.tables import metadata

ID_LENGTH: Final = 128  # as the node store's ids (trust_node.store.tables.ID_LENGTH)
HASH_LENGTH: Final = 64  # hex SHA-256
#: A model's content hash names its algorithm ("sha256:" + 64 hex), with room for another.
MODEL_HASH_LENGTH: Final = 128
#: Auto-incrementing 64-bit key on PostgreSQL; SQLite only auto-increments INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")

accountability_entries = Table(
    "accountability_entries",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("asked_by", String(ID_LENGTH), nullable=False, index=True),
    Column("model_id", String(ID_LENGTH), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("model_hash", String(MODEL_HASH_LENGTH), nullable=False),
    Column("input_hash", String(HASH_LENGTH), nullable=False),
    Column("output", Text, nullable=False),  # canonical JSON (RFC 8785)
    Column("prev_hash", String(HASH_LENGTH), nullable=False, unique=True),
    Column("entry_hash", String(HASH_LENGTH), nullable=False),
)
