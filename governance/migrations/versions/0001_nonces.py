"""Envelope nonce store: one row per (signer, nonce) ever accepted.

Revision ID: 0001_nonces
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_nonces"
down_revision = "0000_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "envelope_nonces",
        sa.Column("signer_id", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signer_id", "nonce", name="pk_envelope_nonces"),
    )
    op.create_index("ix_envelope_nonces_seen_at", "envelope_nonces", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_envelope_nonces_seen_at", table_name="envelope_nonces")
    op.drop_table("envelope_nonces")
