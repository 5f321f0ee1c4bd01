"""Every backend test reaches PostgreSQL through the one ``postgres_url`` fixture.

A test that read ``GCDT_TEST_POSTGRES_URL`` itself could skip silently under CI, where
the fixture in ``tests/conftest.py`` fails instead; this scan keeps the rule in one place.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import POSTGRES_ENV

TESTS = Path(__file__).resolve().parent


def test_only_conftest_reads_the_postgres_url() -> None:
    # The variable's name as a string literal is how code reads it; prose may mention it.
    literals = (f'"{POSTGRES_ENV}"', f"'{POSTGRES_ENV}'")
    readers = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != "conftest.py"
        and any(literal in path.read_text(encoding="utf-8") for literal in literals)
    )
    assert readers == [], f"use the postgres_url fixture instead: {readers}"
