"""Coordinator tables owned by the trust protocol: enrolled nodes, key material relay,
rounds, submissions, decryption requests, attestations and publications (every kind of
publication: models and benchmarks alike, see ``coordinator.aggregation``).

The coordinator stores only what it may hold: public keys, the *public* CKKS context,
key packages sealed to their recipients (opaque to it), ciphertexts and signed
envelopes. Migration: ``coordinator/migrations/versions/0001_a_nodes.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from coordinator.tables import metadata

BigId = BigInteger().with_variant(Integer, "sqlite")

enrolled_nodes = Table(
    "enrolled_nodes",
    metadata,
    Column("node_id", String(128), primary_key=True),
    Column("jurisdiction", String(2), nullable=False),
    Column("identity_public_key", String(64), nullable=False),
    Column("transport_public_key", String(64), nullable=False),
    Column("cert_serial", String(64), nullable=False, unique=True),
    Column("key_holder", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
)

public_contexts = Table(
    "public_contexts",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("period", String(16), nullable=False),
    Column("ceremony_id", String(128), nullable=False),
    Column("params", Text, nullable=False),
    Column("public_context", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

key_packages = Table(
    "key_packages",
    metadata,
    Column("key_id", String(32), ForeignKey("public_contexts.key_id"), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("package", LargeBinary, nullable=False),
    PrimaryKeyConstraint("key_id", "recipient_id", name="pk_key_packages"),
)

rounds = Table(
    "rounds",
    metadata,
    Column("round_id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("round_id", BigId, ForeignKey("rounds.round_id"), nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("envelope", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("round_id", "node_id", "kind", name="uq_submission_per_round"),
)

submission_vectors = Table(
    "submission_vectors",
    metadata,
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("submission_id", "position", name="pk_submission_vectors"),
)

decryption_requests = Table(
    "decryption_requests",
    metadata,
    Column("request_id", String(32), primary_key=True),
    Column("round_id", BigId, nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False, server_default=""),  # round kind of the sum
    Column("parameters", Text, nullable=False, server_default="{}"),  # JSON str -> str
    Column("submissions", Text, nullable=False, server_default="[]"),  # JSON submission ids
)

attestations = Table(
    "attestations",
    metadata,
    Column("request_id", String(32), ForeignKey("decryption_requests.request_id"), nullable=False),
    Column("signer_id", String(128), nullable=False),
    Column("envelope", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("request_id", "signer_id", name="pk_attestations"),
)

publications = Table(
    "publications",
    metadata,
    Column("subject_id", String(256), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
