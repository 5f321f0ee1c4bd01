"""Accountability register: one hash-chained entry per model invocation.

The table was the node store's ``accountability_register`` (node revision
``0002_tenants``). On a node database the node's ``0003_register_to_governance`` hands
it over under this name, rows and hashes intact, and this revision adopts it; wherever
it is missing (a coordinator's database, or this revision running before the node's),
it is created empty and the node's revision moves the rows in.

Revision ID: 0001_accountability
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_accountability"
down_revision = "0000_base"
branch_labels = None
depends_on = None

TABLE = "accountability_entries"
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return  # handed over by the node's revision: adopt it as it is
    op.create_table(
        TABLE,
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.String(128), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_hash", sa.String(128), nullable=False),  # "sha256:" + 64 hex, and room
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index(f"ix_{TABLE}_asked_by", TABLE, ["asked_by"])


def downgrade() -> None:
    """Drops the entries: on a node database, downgrade the node's revision 0003 first
    (it copies them back into the node's table)."""
    op.drop_index(f"ix_{TABLE}_asked_by", table_name=TABLE)
    op.drop_table(TABLE)
