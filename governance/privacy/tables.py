"""SQL tables of the privacy ledger, declared on the governance metadata.

Created by the governance Alembic revision ``0001_ledger``. The accountant history is
kept as JSON text (exact float repr) — it is the authoritative state; the numeric
columns of charges and refusals are there for auditors' queries.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Double, Index, Integer, String, Table, Text

from governance.privacy.store import MAX_KEY_PART
from governance.tables import metadata

privacy_accounts = Table(
    "privacy_ledger_accounts",
    metadata,
    Column("node_id", String(MAX_KEY_PART), primary_key=True),
    Column("dataset", String(MAX_KEY_PART), primary_key=True),
    Column("period", String(MAX_KEY_PART), primary_key=True),
    Column("mechanism", String(16), nullable=False),
    Column("history_json", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

privacy_charges = Table(
    "privacy_ledger_charges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(MAX_KEY_PART), nullable=False),
    Column("dataset", String(MAX_KEY_PART), nullable=False),
    Column("period", String(MAX_KEY_PART), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("noise_multiplier", Double, nullable=False),
    Column("sample_rate", Double, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("delta", Double, nullable=False),
    Column("budget_epsilon", Double, nullable=False),
    Column("epsilon_before", Double, nullable=False),
    Column("epsilon_after", Double, nullable=False),
    Column("charged_at", DateTime(timezone=True), nullable=False),
    Index("ix_privacy_ledger_charges_account", "node_id", "dataset", "period"),
)

privacy_refusals = Table(
    "privacy_ledger_refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(MAX_KEY_PART), nullable=False),
    Column("dataset", String(MAX_KEY_PART), nullable=False),
    Column("period", String(MAX_KEY_PART), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("noise_multiplier", Double, nullable=False),
    Column("sample_rate", Double, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("delta", Double, nullable=False),
    Column("budget_epsilon", Double, nullable=False),
    Column("spent_epsilon", Double, nullable=False),
    Column("would_be_epsilon", Double, nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    Index("ix_privacy_ledger_refusals_account", "node_id", "dataset", "period"),
)
