"""Model registry: published models (card, content hash, log entry, files).

Revision ID: 0001_c_registry
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_c_registry"
down_revision = "0000_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_models",
        sa.Column("model_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("content_hash", sa.String(80), nullable=False, unique=True),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("run", sa.String(128), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("files", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("published_models")
