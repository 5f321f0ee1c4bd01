"""Alembic environment for coordinator tables (nodes, rounds, registry, benchmarks)."""

from coordinator.tables import metadata
from kernel.db import run_alembic_env

run_alembic_env(metadata)
