"""Every data-contract rule: a bad file names row, column and reason, and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from trust_node.errors import IngestError
from trust_node.ingest import ingest_bytes, ingest_file
from trust_node.store import SqlRecordRepository

HEADER = (
    "record_id,facility_id,jurisdiction,year,sector,product,route,production_t,"
    "coal_tj,coke_tj,natural_gas_tj,oil_tj,biomass_tj,electricity_mwh,clinker_ratio,"
    "scrap_share,anode_t,reported_direct_tco2e,verified_direct_tco2e,verification"
)
GOOD_ROWS = [
    "CN-1,fac-1,CN,2022,cement,cement,dry_kiln,100000,300,,50,0,0,9000,0.72,,,62000,61000,"
    "third_party",
    "IN-1,fac-2,IN,2022,iron_steel,crude_steel,bf_bof,500000,2000,5000,100,10,0,40000,,0.1,,,,",
    "DE-1,fac-3,DE,2023,aluminium,primary_aluminium,prebake,20000,0,0,300,0,0,290000,,,8600,"
    "34000,,self_declared",
]


@pytest.fixture
def repo(tmp_path: Path) -> SqlRecordRepository:
    return SqlRecordRepository.from_url(f"sqlite:///{tmp_path / 'node.sqlite'}")


def csv_bytes(rows: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def with_cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[HEADER.split(",").index(column)] = value
    return ",".join(cells)


def rejected(
    repo: SqlRecordRepository, data: bytes, name: str = "bad.csv", **kw: object
) -> IngestError:
    with pytest.raises(IngestError) as info:
        ingest_bytes(data, name, repo, **kw)  # type: ignore[arg-type]
    assert repo.count() == 0, "a rejected file must leave nothing stored"
    return info.value


def test_good_file_is_stored_typed(repo: SqlRecordRepository) -> None:
    receipt = ingest_bytes(csv_bytes(GOOD_ROWS), "good.csv", repo)
    assert (receipt.rows, receipt.new_records, receipt.new_versions) == (3, 3, 0)
    stored = repo.latest().set_index("record_id")
    assert stored.loc["CN-1", "production_t"] == 100000.0
    assert stored.loc["CN-1", "verification"] == "third_party"
    assert stored.loc["IN-1", "verification"] == "none"  # empty enum cell takes the default


def test_empty_optional_cell_means_unknown_never_zero(repo: SqlRecordRepository) -> None:
    ingest_bytes(csv_bytes(GOOD_ROWS), "good.csv", repo)
    record = repo.get("operator", "CN-1")
    assert record["coke_tj"] is None
    assert record["reported_direct_tco2e"] == 62000.0
    assert repo.get("operator", "IN-1")["verified_direct_tco2e"] is None


# (column, bad value, expected words in the reason)
CELL_RULES = [
    ("record_id", "has space", "1-128 characters"),
    ("record_id", "x" * 129, "1-128 characters"),
    ("facility_id", "fac/1", "1-128 characters"),
    ("jurisdiction", "cn", "ISO 3166-1 alpha-2"),
    ("jurisdiction", "XX", "ISO 3166-1 alpha-2"),
    ("jurisdiction", "", "required value is missing"),
    ("year", "1989", "between 1990 and 2100"),
    ("year", "2101", "between 1990 and 2100"),
    ("year", "2022.5", "whole number"),
    ("year", "twenty", "not a number"),
    ("sector", "glass", "unknown sector"),
    ("product", "rebar", "unknown product"),
    ("product", "ammonia", "does not belong to the record's sector"),
    ("route", "bf_bof", "does not belong to the record's sector"),
    ("route", "magic", "unknown route"),
    ("production_t", "0", "must be > 0"),
    ("production_t", "-5", "must be > 0"),
    ("production_t", "", "required value is missing"),
    ("production_t", "1e5t", "not a number"),
    ("coal_tj", "-1", "must be >= 0"),
    ("natural_gas_tj", "abc", "not a number"),
    ("electricity_mwh", "-0.1", "must be >= 0"),
    ("electricity_mwh", "inf", "not a number"),
    ("clinker_ratio", "0.2", "between 0.3 and 1.0"),
    ("clinker_ratio", "1.01", "between 0.3 and 1.0"),
    ("clinker_ratio", "", "required for product 'cement'"),
    ("reported_direct_tco2e", "-3", "must be >= 0"),
    ("verified_direct_tco2e", "-3", "must be >= 0"),
    ("verified_direct_tco2e", "3000001", "implausible"),
    ("verification", "audited", "unknown verification"),
]


@pytest.mark.parametrize(("column", "value", "reason"), CELL_RULES)
def test_each_cell_rule_names_row_column_reason(
    repo: SqlRecordRepository, column: str, value: str, reason: str
) -> None:
    rows = [GOOD_ROWS[1], GOOD_ROWS[2], with_cell(GOOD_ROWS[0], column, value)]
    error = rejected(repo, csv_bytes(rows))
    hits = [p for p in error.problems if p.row == 3 and p.column == column]
    assert hits, f"no problem named row 3, column {column}: {error}"
    assert any(reason in p.reason for p in hits), str(error)
    assert {p.row for p in error.problems} == {3}, "only the bad row is named"
    assert f"row 3, column '{column}'" in str(error)


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (1, "clinker_ratio", "0.7", "only allowed for product 'cement'"),
        (1, "anode_t", "5", "only allowed for sector 'aluminium'"),
        (2, "scrap_share", "0.5", "only allowed for sector 'iron_steel'"),
        (2, "scrap_share", "1.5", "only allowed for sector 'iron_steel'"),
    ],
)
def test_sector_specific_columns(
    repo: SqlRecordRepository, row: int, column: str, value: str, reason: str
) -> None:
    rows = [GOOD_ROWS[1], GOOD_ROWS[2]]
    rows[row - 1] = with_cell(rows[row - 1], column, value)
    error = rejected(repo, csv_bytes(rows))
    assert any(p.row == row and p.column == column and reason in p.reason for p in error.problems)


def test_scrap_share_range_on_steel(repo: SqlRecordRepository) -> None:
    error = rejected(repo, csv_bytes([with_cell(GOOD_ROWS[1], "scrap_share", "1.2")]))
    assert [(p.row, p.column) for p in error.problems] == [(1, "scrap_share")]
    assert "between 0 and 1" in error.problems[0].reason


def test_plausibility_rule_names_the_unit_error(repo: SqlRecordRepository) -> None:
    # 61,000 t CO2 verified for 1,000 t of cement = 61 t/t: a kg-vs-t slip.
    bad = with_cell(GOOD_ROWS[0], "production_t", "1000")
    error = rejected(repo, csv_bytes([bad]))
    (problem,) = error.problems
    assert (problem.row, problem.column) == (1, "verified_direct_tco2e")
    assert "unit error" in problem.reason and "30" in problem.reason


def test_duplicate_record_id_in_file_names_every_copy(repo: SqlRecordRepository) -> None:
    error = rejected(repo, csv_bytes([GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[0]]))
    dupes = [(p.row, p.column) for p in error.problems if "duplicate" in p.reason]
    assert dupes == [(1, "record_id"), (3, "record_id")]


def test_every_bad_row_is_listed_not_just_the_first(repo: SqlRecordRepository) -> None:
    rows = [with_cell(GOOD_ROWS[0], "record_id", f"r-{i}") for i in range(200)]
    rows[10] = with_cell(rows[10], "year", "1800")
    rows[150] = with_cell(rows[150], "sector", "glass")
    rows[199] = with_cell(rows[199], "production_t", "-1")
    error = rejected(repo, csv_bytes(rows))
    assert [(p.row, p.column) for p in error.problems] == [
        (11, "year"),
        (151, "sector"),
        (200, "production_t"),
    ]


def test_unknown_column_rejected_unless_dropped(repo: SqlRecordRepository) -> None:
    data = csv_bytes([r + ",secret" for r in GOOD_ROWS], header=HEADER + ",plant_manager")
    error = rejected(repo, data)
    assert [(p.row, p.column) for p in error.problems] == [(None, "plant_manager")]
    assert "--drop-extra-columns" in error.problems[0].reason
    receipt = ingest_bytes(data, "extra.csv", repo, drop_extra_columns=True)
    assert receipt.rows == 3
    assert "plant_manager" not in repo.latest().columns


def test_missing_required_column(repo: SqlRecordRepository) -> None:
    header = HEADER.replace("production_t,", "")
    rows = [",".join(c for i, c in enumerate(r.split(",")) if i != 7) for r in GOOD_ROWS]
    error = rejected(repo, csv_bytes(rows, header=header))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [
        (None, "production_t", "required column is missing")
    ]


def test_absent_fuel_columns_are_unknown_but_a_breakdown_defaults_to_zero(
    repo: SqlRecordRepository,
) -> None:
    base = "record_id,facility_id,jurisdiction,year,sector,product,route,production_t"
    no_fuels = csv_bytes(["a,f,IN,2022,iron_steel,crude_steel,scrap_eaf,1000"], header=base)
    ingest_bytes(no_fuels, "sme.csv", repo)
    sme = repo.get("operator", "a")
    assert sme["coal_tj"] is None and sme["electricity_mwh"] is None
    breakdown = csv_bytes(
        ["b,f,IN,2022,iron_steel,crude_steel,scrap_eaf,1000,3"], header=base + ",natural_gas_tj"
    )
    ingest_bytes(breakdown, "agency.csv", repo)
    agency = repo.get("operator", "b")
    assert agency["natural_gas_tj"] == 3.0 and agency["coal_tj"] == 0.0


def test_unreadable_and_unsupported_files(repo: SqlRecordRepository, tmp_path: Path) -> None:
    assert "unsupported file type" in str(rejected(repo, b"x", name="data.xlsx"))
    assert "cannot read as json" in str(rejected(repo, b"{not json", name="d.json"))
    assert "JSON array" in str(rejected(repo, b'{"a": 1}', name="d.json"))
    assert "cannot read as parquet" in str(rejected(repo, b"PAR1garbage", name="d.parquet"))
    assert "no records" in str(rejected(repo, csv_bytes([])))
    with pytest.raises(IngestError, match="cannot read file"):
        ingest_file(tmp_path / "missing.csv", repo)


def _frame() -> pd.DataFrame:
    from trust_node.ingest.read import read_table

    return read_table(csv_bytes(GOOD_ROWS), "csv")


def test_json_records_with_nulls_and_bad_cells(repo: SqlRecordRepository) -> None:
    records = json.loads(_frame().to_json(orient="records"))
    records[1]["year"] = "soon"
    error = rejected(repo, json.dumps(records).encode(), name="bad.json")
    assert [(p.row, p.column) for p in error.problems] == [(2, "year")]
    records[1]["year"] = 2022
    ingest_bytes(json.dumps(records).encode(), "good.json", repo)
    assert repo.get("operator", "CN-1")["coke_tj"] is None


def test_parquet_typed_columns(repo: SqlRecordRepository, tmp_path: Path) -> None:
    frame = _frame()
    for col in ("production_t", "coal_tj", "coke_tj", "clinker_ratio", "verified_direct_tco2e"):
        frame[col] = pd.to_numeric(frame[col])
    frame["year"] = frame["year"].astype("int64")
    path = tmp_path / "good.parquet"
    frame.to_parquet(path)
    ingest_file(path, repo)
    assert repo.count() == 3
    frame.loc[0, "production_t"] = -1.0
    frame.to_parquet(path)
    with pytest.raises(IngestError) as info:
        ingest_file(path, repo, tenant_id="other")
    assert [(p.row, p.column) for p in info.value.problems] == [(1, "production_t")]
    assert repo.count("other") == 0


def test_invalid_tenant_rejected(repo: SqlRecordRepository) -> None:
    error = rejected(repo, csv_bytes(GOOD_ROWS), tenant_id="bad tenant")
    assert "invalid tenant id" in str(error)
