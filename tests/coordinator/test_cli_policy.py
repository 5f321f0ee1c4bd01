"""Trust-policy changes are signed, monotonic, and on the public record."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from coordinator.cli import app
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.translog import TransparencyLog
from kernel.db import make_engine

runner = CliRunner()


def _policy_entries(home: Path) -> list[dict[str, object]]:
    engine = make_engine(f"sqlite:///{home / 'gcdt.sqlite'}")
    log = TransparencyLog(engine, Identity.load(HomeLayout(home).identity_dir))
    entries = [e.payload for e in log.iter_entries() if e.kind == "policy_change"]
    engine.dispose()
    return entries


def test_init_logs_the_trust_policy_and_apply_logs_each_change(tmp_path: Path) -> None:
    home = tmp_path / "coord"
    assert runner.invoke(app, ["init", "--home", str(home)]).exit_code == 0
    [first] = _policy_entries(home)
    assert first["policy"] == "trust" and first["version"] == 1
    edited = tmp_path / "trust.toml"
    text = (home / "policies" / "trust.toml").read_text()
    assert "version = 1" in text and "k = 3" in text
    edited.write_text(text.replace("version = 1", "version = 2").replace("k = 3", "k = 5"))
    applied = runner.invoke(app, ["policy", "apply", str(edited), "--home", str(home), "--json"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["version"] == 2
    entries = _policy_entries(home)
    assert [e["version"] for e in entries] == [1, 2]
    assert entries[1]["thresholds"]["k"] == 5  # type: ignore[index]
    shown = json.loads(runner.invoke(app, ["policy", "show", "--home", str(home), "--json"]).stdout)
    assert shown["publication"]["k"] == 5


def test_apply_refuses_rollback_and_invalid_thresholds(tmp_path: Path) -> None:
    home = tmp_path / "coord"
    runner.invoke(app, ["init", "--home", str(home)])
    text = (home / "policies" / "trust.toml").read_text()
    same = tmp_path / "same.toml"
    same.write_text(text)
    rollback = runner.invoke(app, ["policy", "apply", str(same), "--home", str(home)])
    assert rollback.exit_code == 1 and "version must increase" in rollback.output
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("version = 1", "version = 2").replace("t = 2", "t = 1"))
    refused = runner.invoke(app, ["policy", "apply", str(bad), "--home", str(home)])
    assert refused.exit_code == 1 and "publication" in refused.output
    assert len(_policy_entries(home)) == 1, "a refused change is not logged as in force"
