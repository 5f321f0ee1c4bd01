"""Witness cosignatures the log collected on its checkpoints (c2sp.org/tlog-cosignature).

Revision ID: 0005_tlog
Revises: 0001_translog
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_tlog"
down_revision = "0001_translog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translog_cosignatures",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("line", sa.String(512), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("translog_cosignatures")
