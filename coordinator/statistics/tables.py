"""Coordinator tables of encrypted sector statistics (revision ``0001_s_statistics``).

Submissions, decryption requests and attestations live in the generic protocol tables
of ``coordinator.store``; these hold what is statistics-specific. The coordinator keeps
digests, signed attestations and what was published. Suppressed cells exist here only
as markers inside a benchmark's payload, never with values.
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

benchmarks = Table(
    "benchmarks",
    metadata,
    Column("benchmark_id", String(64), primary_key=True),
    Column("round_id", BigId, nullable=False, unique=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),  # the publication entry's payload (JSON)
    Column("log_index", BigId, nullable=False),
)
