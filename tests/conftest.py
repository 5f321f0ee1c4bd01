"""Shared fixtures: a fresh database per test on every backend the suite runs against.

PostgreSQL tests need ``GCDT_TEST_POSTGRES_URL`` (``scripts/test.sh`` starts a real
server and sets it). Locally they skip without it; under CI (``CI`` set) a missing
server is a failure, never a skip, so the PostgreSQL backend cannot silently go untested.
``postgres_url`` is the one way a test reaches PostgreSQL, so that rule holds for every
backend test (``tests/test_one_postgres_fixture.py`` keeps it so).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "GCDT_TEST_POSTGRES_URL"


def _require_postgres() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set under CI: the PostgreSQL server did not start")
    pytest.skip(f"{POSTGRES_ENV} not set (scripts/test.sh starts PostgreSQL and sets it)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    admin_url = make_url(_require_postgres())
    name = f"gcdt_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL on each backend: SQLite file and real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gcdt.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def gcdt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated GCDT_HOME with the default (SQLite) database."""
    home = tmp_path / "home"
    monkeypatch.setenv("GCDT_HOME", str(home))
    monkeypatch.delenv("GCDT_DATABASE_URL", raising=False)
    return home
