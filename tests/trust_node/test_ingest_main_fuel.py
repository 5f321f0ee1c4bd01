"""``main_fuel`` (DATA_CONTRACT.md, issue 16): optional, from a closed list, empty = unknown,
and a file without the column keeps ingesting as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trust_node.test_ingest_contract import GOOD_ROWS, HEADER, csv_bytes, rejected
from trust_node.ingest import ingest_bytes
from trust_node.store import SqlRecordRepository

WITH_MAIN = HEADER + ",main_fuel"


@pytest.fixture
def repo(tmp_path: Path) -> SqlRecordRepository:
    return SqlRecordRepository.from_url(f"sqlite:///{tmp_path / 'node.sqlite'}")


def test_main_fuel_is_stored_and_empty_means_unknown(repo: SqlRecordRepository) -> None:
    rows = [GOOD_ROWS[0] + ",coal", GOOD_ROWS[1] + ",", GOOD_ROWS[2] + ",electricity"]
    ingest_bytes(csv_bytes(rows, WITH_MAIN), "main.csv", repo)
    assert repo.get("operator", "CN-1")["main_fuel"] == "coal"
    assert repo.get("operator", "IN-1")["main_fuel"] is None
    assert repo.get("operator", "DE-1")["main_fuel"] == "electricity"


def test_an_unknown_main_fuel_is_refused_naming_row_and_column(
    repo: SqlRecordRepository,
) -> None:
    rows = [GOOD_ROWS[0] + ",peat", GOOD_ROWS[1] + ",coal", GOOD_ROWS[2] + ","]
    error = rejected(repo, csv_bytes(rows, WITH_MAIN))
    problems = [(p.row, p.column) for p in error.problems]
    assert (1, "main_fuel") in problems


def test_a_file_without_main_fuel_still_ingests(repo: SqlRecordRepository) -> None:
    ingest_bytes(csv_bytes(GOOD_ROWS), "good.csv", repo)
    assert repo.get("operator", "CN-1")["main_fuel"] is None
