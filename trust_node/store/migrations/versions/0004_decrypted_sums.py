"""What a key holder decrypted: one aggregate per (round, subject), each submission once.

Revision ID: 0004_decrypted_sums
Revises: 0003_register_to_governance
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_decrypted_sums"
down_revision = "0003_register_to_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decrypted_sums",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("round_id", sa.BigInteger, nullable=False),
        sa.Column("subject_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("submissions_digest", sa.String(71), nullable=False),
        sa.Column("ciphertext_digest", sa.String(71), nullable=False),
        sa.Column("decrypted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("round_id", "subject_id", name="uq_decrypted_sums_round_subject"),
    )
    op.create_table(
        "decrypted_submissions",
        sa.Column("ciphertext_digest", sa.String(71), primary_key=True),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("submissions_digest", sa.String(71), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("decrypted_submissions")
    op.drop_table("decrypted_sums")
