"""Storage model of the node's local store (SQLAlchemy Core).

Storage rows are not API schemas: the data-contract columns are stored as they are,
plus the node's own bookkeeping (tenant, version, the ingest that brought a row).
Rows are never updated: a re-uploaded record id gets a new ``version`` beside the old.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from open_models import contract as c

metadata = MetaData()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_node"

#: Auto-incrementing 64-bit key on PostgreSQL; SQLite only auto-increments INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")

ID_LENGTH = 128

ingests = Table(
    "ingests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String(ID_LENGTH), nullable=False, index=True),
    Column("source", String(1024), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def _contract_columns() -> list[Column[Any]]:
    columns: list[Column[Any]] = []
    for name in c.ALL_COLUMNS:
        required = name in c.REQUIRED_COLUMNS
        if name == "year":
            columns.append(Column(name, Integer, nullable=False))
        elif name in c.FLOAT_COLUMNS:
            columns.append(Column(name, Float(precision=53), nullable=not required))
        elif name == "verification":
            columns.append(Column(name, String(16), nullable=False))
        elif name == "main_fuel":  # optional text: empty means not known
            columns.append(Column(name, String(16), nullable=True))
        else:
            length = 2 if name == "jurisdiction" else ID_LENGTH if name.endswith("_id") else 32
            columns.append(Column(name, String(length), nullable=False))
    return columns


records = Table(
    "records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String(ID_LENGTH), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ingest_id", BigId, ForeignKey("ingests.id"), nullable=False),
    *_contract_columns(),
    # Also the lookup index for (tenant, record id): reads use its prefix.
    UniqueConstraint("tenant_id", "record_id", "version", name="uq_records_tenant_record_version"),
)

#: Columns written for each stored record, in insert order.
RECORD_INSERT_COLUMNS = ("tenant_id", "version", "ingest_id", *c.ALL_COLUMNS)

#: Every aggregate this key holder decrypted: at most one per (round, subject), so the
#: coordinator cannot difference two contributor sets of one round (``trust_node.attestation``).
decrypted_sums = Table(
    "decrypted_sums",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("round_id", BigInteger, nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("submissions_digest", String(71), nullable=False),
    Column("ciphertext_digest", String(71), nullable=False),
    Column("decrypted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("round_id", "subject_id", name="uq_decrypted_sums_round_subject"),
)

#: Every submission (by ciphertext digest) inside a decrypted aggregate: a submission is
#: decrypted inside one aggregate only, whatever subject the coordinator names.
decrypted_submissions = Table(
    "decrypted_submissions",
    metadata,
    Column("ciphertext_digest", String(71), primary_key=True),
    Column("node_id", String(ID_LENGTH), nullable=False),
    Column("submissions_digest", String(71), nullable=False),
)
