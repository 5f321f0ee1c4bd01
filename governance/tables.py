"""SQLAlchemy metadata for governance-owned tables.

Table modules (transparency log, privacy ledger, nonce store, accountability register)
declare their tables on ``metadata`` so one Alembic environment (``governance/migrations``)
owns them all.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData

metadata = MetaData()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_governance"


def migrate(engine: Engine) -> None:
    """Create or upgrade governance tables on ``engine``."""
    from kernel.db import upgrade

    upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
