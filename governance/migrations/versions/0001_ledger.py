"""Privacy-budget ledger: accountant state per (node, dataset, period), charges, refusals.

Revision ID: 0001_ledger
Revises: 0000_base
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = "0000_base"
branch_labels = None
depends_on = None

KEY = 200  # governance.privacy.store.MAX_KEY_PART


def _key_columns(primary: bool) -> list[sa.Column[Any]]:
    return [
        sa.Column("node_id", sa.String(KEY), primary_key=primary, nullable=False),
        sa.Column("dataset", sa.String(KEY), primary_key=primary, nullable=False),
        sa.Column("period", sa.String(KEY), primary_key=primary, nullable=False),
    ]


def _spend_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("noise_multiplier", sa.Double(), nullable=False),
        sa.Column("sample_rate", sa.Double(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("delta", sa.Double(), nullable=False),
        sa.Column("budget_epsilon", sa.Double(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "privacy_ledger_accounts",
        *_key_columns(primary=True),
        sa.Column("mechanism", sa.String(16), nullable=False),
        sa.Column("history_json", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "privacy_ledger_charges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_key_columns(primary=False),
        *_spend_columns(),
        sa.Column("epsilon_before", sa.Double(), nullable=False),
        sa.Column("epsilon_after", sa.Double(), nullable=False),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_privacy_ledger_charges_account",
        "privacy_ledger_charges",
        ["node_id", "dataset", "period"],
    )
    op.create_table(
        "privacy_ledger_refusals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *_key_columns(primary=False),
        *_spend_columns(),
        sa.Column("spent_epsilon", sa.Double(), nullable=False),
        sa.Column("would_be_epsilon", sa.Double(), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_privacy_ledger_refusals_account",
        "privacy_ledger_refusals",
        ["node_id", "dataset", "period"],
    )


def downgrade() -> None:
    op.drop_index("ix_privacy_ledger_refusals_account", "privacy_ledger_refusals")
    op.drop_table("privacy_ledger_refusals")
    op.drop_index("ix_privacy_ledger_charges_account", "privacy_ledger_charges")
    op.drop_table("privacy_ledger_charges")
    op.drop_table("privacy_ledger_accounts")
