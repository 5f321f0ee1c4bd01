"""Storage model of tenants, API tokens and the consent log.

Declared on the node store's ``metadata`` (one database per node); created by the
migration ``0002_tenants``. Storage rows, not API schemas. Tokens are kept only as
SHA-256 digests; the consent log is an append-only hash chain (``prev_hash`` is unique,
so two concurrent appends cannot both extend the same entry). The accountability register
that ``0002_tenants`` also created belongs to governance, which declares and verifies it
(``governance.accountability.tables``; handed over by ``0003_register_to_governance``).
"""

from __future__ import annotations

import enum

from sqlalchemy import Column, DateTime, ForeignKey, String, Table

from trust_node.store.tables import ID_LENGTH, BigId, metadata

HASH_LENGTH = 64  # hex SHA-256


class TokenRevocation(enum.StrEnum):
    """Why a token stopped working: replaced by a new one, or its tenant was revoked."""

    ROTATED = "rotated"
    REVOKED = "revoked"


tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(HASH_LENGTH), primary_key=True),
    Column("role", String(16), nullable=False),  # "tenant" | "operator"
    Column("tenant_id", String(ID_LENGTH), ForeignKey("tenants.tenant_id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(32), nullable=True),  # a TokenRevocation
)

consent_log = Table(
    "consent_log",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String(ID_LENGTH), nullable=False, index=True),
    Column("scopes", String(64), nullable=False),  # sorted, comma-separated; "" = none
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(ID_LENGTH), nullable=False),
    Column("prev_hash", String(HASH_LENGTH), nullable=False, unique=True),
    Column("entry_hash", String(HASH_LENGTH), nullable=False),
)
