"""Writing generated records: all three formats round-trip, empty stays empty, ingest accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from open_models import contract as c
from trust_node.generate import GenerateError, generate, write_records
from trust_node.ingest.read import detect_format, read_table
from trust_node.ingest.schema import validate_records


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return generate(["CN", "DE", "BR"], records=120, seed=4).records


def _read_back(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    rows = json.loads(path.read_text())
    return pd.DataFrame(rows).astype({col: "float64" for col in c.FLOAT_COLUMNS})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_round_trip(records: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = write_records(records, tmp_path / "sub" / f"records{suffix}")
    assert path.exists()
    back = _read_back(path)
    assert list(back.columns) == list(c.ALL_COLUMNS)
    pd.testing.assert_frame_equal(back, records, check_dtype=False, check_exact=True)
    assert back[list(c.FUEL_COLUMNS)].isna().any(axis=1).sum() == (
        records[list(c.FUEL_COLUMNS)].isna().any(axis=1).sum()
    )


def test_csv_empty_cells_are_empty(records: pd.DataFrame, tmp_path: Path) -> None:
    text = write_records(records, tmp_path / "r.csv").read_text()
    assert "nan" not in text.lower()
    assert ",," in text


def test_json_empty_cells_are_null(records: pd.DataFrame, tmp_path: Path) -> None:
    rows = json.loads(write_records(records, tmp_path / "r.json").read_text())
    assert len(rows) == len(records)
    nulls = [r for r in rows if r["coal_tj"] is None]
    assert nulls, "fuel-unknown rows must be null in JSON"
    assert all(r["clinker_ratio"] is None for r in rows if r["product"] != "cement")
    assert all(isinstance(r["year"], int) for r in rows)


def test_unsupported_suffix(records: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match=r"unsupported file type '\.xlsx'"):
        write_records(records, tmp_path / "r.xlsx")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_node_validator_accepts_generated_files(
    records: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    path = write_records(records, tmp_path / f"r{suffix}")
    raw = read_table(path, detect_format(path.name))
    typed = validate_records(raw, path.name)
    assert len(typed) == len(records)
    assert typed["coal_tj"].isna().sum() == records["coal_tj"].isna().sum()
