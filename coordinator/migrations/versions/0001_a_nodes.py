"""Trust protocol tables: enrolled nodes, key material relay, rounds, submissions,
decryption requests, attestations, publications.

Revision ID: 0001_a_nodes
Revises: 0000_base
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_a_nodes"
down_revision = "0000_base"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "enrolled_nodes",
        sa.Column("node_id", sa.String(128), primary_key=True),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("identity_public_key", sa.String(64), nullable=False),
        sa.Column("transport_public_key", sa.String(64), nullable=False),
        sa.Column("cert_serial", sa.String(64), nullable=False, unique=True),
        sa.Column("key_holder", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enrolled_at", TS, nullable=False),
    )
    op.create_table(
        "public_contexts",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("ceremony_id", sa.String(128), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("public_context", sa.LargeBinary, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_table(
        "key_packages",
        sa.Column("key_id", sa.String(32), sa.ForeignKey("public_contexts.key_id"), nullable=False),
        sa.Column("recipient_id", sa.String(128), nullable=False),
        sa.Column("package", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("key_id", "recipient_id", name="pk_key_packages"),
    )
    op.create_table(
        "rounds",
        sa.Column("round_id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closed_at", TS),
    )
    op.create_table(
        "submissions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("round_id", BigId, sa.ForeignKey("rounds.round_id"), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("round_id", "node_id", "kind", name="uq_submission_per_round"),
    )
    op.create_table(
        "submission_vectors",
        sa.Column("submission_id", BigId, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "position", name="pk_submission_vectors"),
    )
    op.create_table(
        "decryption_requests",
        sa.Column("request_id", sa.String(32), primary_key=True),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("subject_id", sa.String(256), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "attestations",
        sa.Column(
            "request_id",
            sa.String(32),
            sa.ForeignKey("decryption_requests.request_id"),
            nullable=False,
        ),
        sa.Column("signer_id", sa.String(128), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("request_id", "signer_id", name="pk_attestations"),
    )
    op.create_table(
        "publications",
        sa.Column("subject_id", sa.String(256), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("published_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "publications",
        "attestations",
        "decryption_requests",
        "submission_vectors",
        "submissions",
        "rounds",
        "key_packages",
        "public_contexts",
        "enrolled_nodes",
    ):
        op.drop_table(name)
