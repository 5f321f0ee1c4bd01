"""Alembic environment for governance tables (transparency log, ledger, nonces)."""

from governance.db import run_alembic_env
from governance.tables import metadata

run_alembic_env(metadata)
