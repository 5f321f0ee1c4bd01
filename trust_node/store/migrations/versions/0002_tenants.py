"""Tenants, hashed API tokens, consent log, accountability register.

Revision ID: 0002_tenants
Revises: 0001_records
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_tenants"
down_revision = "0001_records"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(128), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(128), sa.ForeignKey("tenants.tenant_id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "consent_log",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_consent_log_tenant_id", "consent_log", ["tenant_id"])
    op.create_table(
        "accountability_register",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("asked_at", TS, nullable=False),
        sa.Column("asked_by", sa.String(128), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_hash", sa.String(64), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_accountability_register_asked_by", "accountability_register", ["asked_by"])


def downgrade() -> None:
    op.drop_index("ix_accountability_register_asked_by", table_name="accountability_register")
    op.drop_table("accountability_register")
    op.drop_index("ix_consent_log_tenant_id", table_name="consent_log")
    op.drop_table("consent_log")
    op.drop_table("api_tokens")
    op.drop_table("tenants")
