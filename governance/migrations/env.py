"""Alembic environment for governance tables (transparency log, ledger, nonces, register)."""

from governance.tables import metadata
from kernel.db import run_alembic_env

run_alembic_env(metadata)
