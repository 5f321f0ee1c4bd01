"""``gcdt-node estimate FILE [--json]`` over the node's installed published model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from open_models.features import FeatureSpec
from open_models.network import initial_weights
from open_models.published import PublishedModel
from trust_node.cli import app
from trust_node.generate import generate, write_records

KEYS = {
    "record_id",
    "tier1_direct_tco2e",
    "estimate_direct_tco2e",
    "estimate_low_tco2e",
    "estimate_high_tco2e",
    "corrected_direct_tco2e",
    "cbam_default_direct_tco2e",
    "model_id",
}


def _home(tmp_path: Path, with_model: bool) -> tuple[Path, Path]:
    home = tmp_path / "node"
    home.mkdir()
    if with_model:
        spec = FeatureSpec()
        PublishedModel(
            "gcdt-emission-factor", "run-7", initial_weights(spec, 0), feature_spec=spec, card={}
        ).save(home / "models" / "current")
    data = generate(["IN"], records=6, seed=3)  # non-EU: CBAM defaults apply
    path = tmp_path / "records.csv"
    write_records(data.records, path)
    return home, path


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["estimate", *args, "--home", str(home)], env={"GCDT_DATABASE_URL": ""}
    )
    return result.exit_code, result.stdout


def test_estimate_json_names_the_model_and_carries_every_key(tmp_path: Path) -> None:
    home, path = _home(tmp_path, with_model=True)
    code, out = _run(home, str(path), "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert len(rows) == 6
    for row in rows:
        assert row.keys() >= KEYS
        assert row["model_id"] == "gcdt-emission-factor"
        assert (
            row["estimate_low_tco2e"] <= row["estimate_direct_tco2e"] <= row["estimate_high_tco2e"]
        )
        assert row["cbam_default_direct_tco2e"] is None or row["cbam_default_direct_tco2e"] > 0
        # corrected only where a self-declared figure is present (null otherwise)
        assert row["corrected_direct_tco2e"] is None or row["corrected_direct_tco2e"] >= 0
    assert any(row["cbam_default_direct_tco2e"] for row in rows)
    # nothing was stored: estimate validates, it does not ingest
    code, out = _run(home, str(path))
    assert code == 0 and "gcdt-emission-factor" in out


def test_estimate_without_a_model_invents_nothing(tmp_path: Path) -> None:
    home, path = _home(tmp_path, with_model=False)
    code, out = _run(home, str(path), "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert all(r["estimate_direct_tco2e"] is None and r["model_id"] is None for r in rows)
    assert any(r["tier1_direct_tco2e"] is not None for r in rows)


def test_estimate_refuses_an_invalid_file_naming_the_problem(tmp_path: Path) -> None:
    home, _ = _home(tmp_path, with_model=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,sector\nr1,plastics\n")
    code, out = _run(home, str(bad), "--json")
    assert code == 1
    assert "bad.csv" in json.loads(out)["message"]
