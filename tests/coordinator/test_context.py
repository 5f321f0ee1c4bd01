"""The coordinator's composition root opens and migrates its database once per process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from coordinator.cli import app
from coordinator.context import CoordinatorContext
from coordinator.store.repository import ENGINES
from coordinator.tables import migrate
from kernel.settings import load_settings


def test_two_contexts_share_one_migrated_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "coordinator"
    init = CliRunner().invoke(app, ["init", "--home", str(home)], env={"GCDT_DATABASE_URL": ""})
    assert init.exit_code == 0, init.output
    ENGINES.clear()  # as a fresh process
    migrations: list[Engine] = []

    def counting(engine: Engine) -> None:
        migrations.append(engine)
        migrate(engine)

    monkeypatch.setattr("coordinator.store.repository.migrate", counting)
    settings = load_settings(home=home, database_url=f"sqlite:///{home / 'gcdt.sqlite'}")
    first, second = CoordinatorContext(settings), CoordinatorContext(settings)
    assert first.engine is second.engine
    assert second.store.engine is first.models.engine is first.engine
    assert first.translog.size() == second.translog.size()
    assert len(migrations) == 1
