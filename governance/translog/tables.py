"""SQL tables of the transparency log, declared on the governance metadata.

``translog_nodes`` keeps every *perfect* interior node (``2**level`` leaves, aligned), so
a root or proof is ``O(log n)`` row reads instead of rehashing the log; level 0 is the
leaf hash kept in ``translog_entries``. ``translog_head`` is a single row whose update is
the serialisation point for concurrent appends (a row lock on PostgreSQL, the write lock
on SQLite) -- the primary key on the entry index is the backstop.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
)

from governance.tables import metadata

entries = Table(
    "translog_entries",
    metadata,
    Column("entry_index", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # RFC 8785 canonical JSON bytes
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    CheckConstraint("entry_index >= 0", name="ck_translog_entries_index"),
)

nodes = Table(
    "translog_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

head = Table(
    "translog_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="ck_translog_head_single_row"),
)

tree_heads = Table(
    "translog_tree_heads",
    metadata,
    Column("sth_id", Integer, primary_key=True, autoincrement=True),
    Column("log_id", String(128), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

#: Witness cosignature lines per checkpoint (tree size + root); the line is the note
#: signature line exactly as the witness returned it (``— <name> <base64>``).
cosignatures = Table(
    "translog_cosignatures",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("line", String(512), primary_key=True),
)
