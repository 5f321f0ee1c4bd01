"""Egress refusal log: why the egress guard kept a message in (reasons only).

Revision ID: 0002_a_egress
Revises: 0001_records
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_a_egress"
down_revision = "0001_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "egress_refusals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("egress_refusals")
