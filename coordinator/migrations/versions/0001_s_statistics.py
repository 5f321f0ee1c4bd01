"""Encrypted sector statistics: round terms, rejections, benchmarks.

Revision ID: 0001_s_statistics
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_s_statistics"
down_revision = "0000_base"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "statistics_rounds",
        sa.Column("round_id", BigId, primary_key=True),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("expected_nodes", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("request_id", sa.String(32)),
        sa.Column("benchmark_id", sa.String(64)),
    )
    op.create_table(
        "statistics_rejections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "benchmarks",
        sa.Column("benchmark_id", sa.String(64), primary_key=True),
        sa.Column("round_id", BigId, nullable=False, unique=True),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("log_index", BigId, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "benchmarks",
        "statistics_rejections",
        "statistics_rounds",
    ):
        op.drop_table(name)
