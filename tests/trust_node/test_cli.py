"""``gcdt-node`` as an operator uses it: exit codes, messages, --json, settings."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.trust_node.test_ingest_contract import GOOD_ROWS, csv_bytes, with_cell
from trust_node.cli import app

runner = CliRunner()


def write(path: Path, rows: list[str]) -> Path:
    path.write_bytes(csv_bytes(rows))
    return path


def test_ingest_then_show_versions(gcdt_home: Path, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", GOOD_ROWS)
    first = runner.invoke(app, ["ingest", str(good)])
    assert first.exit_code == 0, first.output
    assert "3 records (3 new, 0 new versions)" in first.output
    assert (gcdt_home / "gcdt.sqlite").exists(), "default store lives inside GCDT_HOME"
    second = runner.invoke(app, ["ingest", str(good), "--json"])
    assert json.loads(second.stdout)[0]["new_versions"] == 3
    shown = runner.invoke(app, ["show", "CN-1", "--json"])
    assert json.loads(shown.stdout)["versions"] == [1, 2]
    old = runner.invoke(app, ["show", "CN-1", "--version", "1", "--json"])
    assert json.loads(old.stdout)["version"] == 1


def test_bad_file_exits_nonzero_and_names_rows(gcdt_home: Path, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", [with_cell(GOOD_ROWS[0], "year", "1850"), GOOD_ROWS[1]])
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 1
    assert "row 1, column 'year'" in result.output and "nothing stored" in result.output
    as_json = runner.invoke(app, ["ingest", str(bad), "--json"])
    assert as_json.exit_code == 1
    payload = json.loads(as_json.stdout)
    assert payload["problems"][0]["row"] == 1 and payload["problems"][0]["column"] == "year"
    missing = runner.invoke(app, ["show", "CN-1"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_tenant_and_database_url_options(tmp_path: Path, gcdt_home: Path) -> None:
    good = write(tmp_path / "good.csv", GOOD_ROWS)
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    result = runner.invoke(app, ["ingest", str(good), "--tenant", "sme-1", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere.sqlite").exists()
    assert not (gcdt_home / "gcdt.sqlite").exists()
    assert runner.invoke(app, ["show", "CN-1", "--database-url", url]).exit_code == 1
    shown = runner.invoke(app, ["show", "CN-1", "--tenant", "sme-1", "--database-url", url])
    assert shown.exit_code == 0


def test_tier1_json_per_record_and_cell(gcdt_home: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(write(tmp_path / "good.csv", GOOD_ROWS))])
    result = runner.invoke(app, ["tier1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {r["record_id"] for r in payload["records"]} == {"CN-1", "IN-1", "DE-1"}
    assert all("tier1_direct_tco2e" in r for r in payload["records"])
    assert len(payload["cells"]) == 3


def test_tier1_on_empty_store_is_a_clear_error(gcdt_home: Path) -> None:
    result = runner.invoke(app, ["tier1"])
    assert result.exit_code == 1 and "no records" in result.output


def test_factors_list_sources() -> None:
    result = runner.invoke(app, ["factors", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r.get("source") for r in rows)
