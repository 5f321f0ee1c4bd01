"""Transparency log tables: entries, perfect Merkle nodes, head counter, signed tree heads.

Revision ID: 0001_translog
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_translog"
down_revision = "0000_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translog_entries",
        sa.Column("entry_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("entry_index >= 0", name="ck_translog_entries_index"),
    )
    op.create_table(
        "translog_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("node_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    head = op.create_table(
        "translog_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_translog_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "tree_size": 0}])
    op.create_table(
        "translog_tree_heads",
        sa.Column("sth_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("log_id", sa.String(128), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("translog_tree_heads")
    op.drop_table("translog_head")
    op.drop_table("translog_nodes")
    op.drop_table("translog_entries")
