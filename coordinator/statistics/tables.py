"""Coordinator tables of encrypted sector statistics (revision ``0001_s_statistics``).

Submissions, decryption requests, attestations and publications (benchmarks among them)
live in the tables of the one aggregation pipeline (``coordinator.store``); these hold what
is statistics-specific. Suppressed cells exist only as markers inside a benchmark's
payload, never with values.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
)

from coordinator.tables import metadata

BigId = BigInteger().with_variant(Integer, "sqlite")

statistics_rounds = Table(
    "statistics_rounds",
    metadata,
    Column("round_id", BigId, primary_key=True),
    Column("terms", Text, nullable=False),  # RoundTerms.to_dict() JSON
    Column("expected_nodes", Text, nullable=False),  # JSON list of node ids
    Column("status", String(16), nullable=False),  # open | decrypting | published | failed
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("request_id", String(32)),
    Column("benchmark_id", String(64)),
)

statistics_rejections = Table(
    "statistics_rejections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("round_id", BigId, nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("stage", String(16), nullable=False),  # submission | attestation
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
