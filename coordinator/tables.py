"""SQLAlchemy metadata for coordinator-owned tables.

Table modules (enrolled nodes, rounds, model registry, benchmarks) declare their tables
on ``metadata``; one Alembic environment (``coordinator/migrations``, version table
``alembic_version_coordinator``) owns them. Revisions hang off ``0000_base``; several
heads are fine, :func:`migrate` upgrades to all of them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData

metadata = MetaData()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_coordinator"


def migrate(engine: Engine) -> None:
    """Create or upgrade coordinator and governance tables on ``engine``."""
    from governance.tables import migrate as migrate_governance
    from kernel.db import upgrade

    migrate_governance(engine)
    upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
