"""Alembic environment for the node's own tables (records, ingests)."""

from kernel.db import run_alembic_env
from trust_node.store.tables import metadata

run_alembic_env(metadata)
