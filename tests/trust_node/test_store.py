"""The record store, run against every backend (SQLite file and real PostgreSQL)."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from governance.accountability.tables import accountability_entries
from trust_node.errors import RecordNotFoundError, StoreError
from trust_node.ingest.read import read_table
from trust_node.ingest.schema import validate_records
from trust_node.store import SqlRecordRepository
from trust_node.store.tables import VERSION_TABLE, ingests, metadata

# Every module that declares a table on the node's metadata, so the comparison below sees
# the whole schema whatever ran before (alone, this file used to see only the store's).
importlib.import_module("trust_node.tenants.tables")
importlib.import_module("trust_node.egress")

CSV = b"""\
record_id,facility_id,jurisdiction,year,sector,product,route,production_t,coal_tj,clinker_ratio
a,f1,CN,2021,cement,cement,dry_kiln,1000,5,0.7
b,f1,CN,2022,cement,cement,dry_kiln,1100,,0.7
c,f2,IN,2022,cement,clinker,wet_kiln,900,7,
"""


def frame(data: bytes = CSV) -> pd.DataFrame:
    return validate_records(read_table(data, "csv"), "t.csv")


class TestRecordStore:
    @pytest.fixture
    def repo(self, database_url: str) -> SqlRecordRepository:
        return SqlRecordRepository.from_url(database_url)

    def test_batch_round_trip(self, repo: SqlRecordRepository) -> None:
        receipt = repo.add_batch("operator", frame(), source="t.csv", sha256="0" * 64)
        assert (receipt.rows, receipt.new_records, receipt.new_versions) == (3, 3, 0)
        latest = repo.latest("operator").set_index("record_id")
        assert list(latest.index) == ["a", "b", "c"]
        assert latest.loc["a", "coal_tj"] == 5.0
        assert pd.isna(latest.loc["b", "coal_tj"]), "unknown stays unknown in storage"
        assert latest.loc["c", "year"] == 2022

    def test_reupload_keeps_old_version_and_reads_latest(self, repo: SqlRecordRepository) -> None:
        repo.add_batch("operator", frame(), source="v1.csv", sha256="1" * 64)
        changed = CSV.replace(
            b"a,f1,CN,2021,cement,cement,dry_kiln,1000", b"a,f1,CN,2021,cement,cement,dry_kiln,1234"
        )
        receipt = repo.add_batch("operator", frame(changed), source="v2.csv", sha256="2" * 64)
        assert (receipt.new_records, receipt.new_versions) == (0, 3)
        assert repo.versions("operator", "a") == [1, 2]
        assert repo.get("operator", "a")["production_t"] == 1234.0
        assert repo.get("operator", "a", version=1)["production_t"] == 1000.0
        assert repo.count("operator") == 3
        assert len(repo.latest("operator")) == 3

    def test_tenants_are_separate(self, repo: SqlRecordRepository) -> None:
        repo.add_batch("t1", frame(), source="t1.csv", sha256="1" * 64)
        repo.add_batch("t2", frame(), source="t2.csv", sha256="2" * 64)
        assert repo.versions("t1", "a") == [1], "another tenant's upload is not a new version"
        assert repo.count("t1") == 3 and repo.count() == 6
        assert set(repo.latest("t2")["tenant_id"]) == {"t2"}
        with pytest.raises(RecordNotFoundError):
            repo.get("t3", "a")

    def test_missing_record_and_version(self, repo: SqlRecordRepository) -> None:
        repo.add_batch("operator", frame(), source="t.csv", sha256="0" * 64)
        with pytest.raises(RecordNotFoundError, match="'zzz'"):
            repo.get("operator", "zzz")
        with pytest.raises(RecordNotFoundError, match="version 9"):
            repo.get("operator", "a", version=9)
        assert repo.versions("operator", "zzz") == []

    def test_failed_batch_stores_nothing(self, repo: SqlRecordRepository) -> None:
        broken = frame()
        broken.loc[1, "production_t"] = None  # bypasses validation: the database must refuse
        with pytest.raises(StoreError, match="nothing stored"):
            repo.add_batch("operator", broken, source="bad.csv", sha256="0" * 64)
        assert repo.count() == 0
        with repo.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ingests)).scalar_one() == 0

    def test_migrations_match_the_models_and_rerun_cleanly(self, database_url: str) -> None:
        repo = SqlRecordRepository.from_url(database_url)
        SqlRecordRepository.from_url(database_url)  # second upgrade is a no-op
        with repo.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            diff = [
                d
                for d in compare_metadata(context, metadata)
                if not (isinstance(d, tuple) and getattr(d[1], "name", "") == VERSION_TABLE)
                and not _handed_over(d)
            ]
        assert diff == []

    def test_empty_store(self, repo: SqlRecordRepository) -> None:
        assert repo.count() == 0
        assert repo.latest().empty


def _handed_over(diff: object) -> bool:
    """The register's table: the node's revision 0003 hands it to governance, whose
    migrations own it (governance's metadata declares it, tests/trust_node/
    test_register_handover.py checks it there)."""
    item = diff[1] if isinstance(diff, tuple) else None
    table = getattr(item, "table", item)
    return getattr(table, "name", "") == accountability_entries.name


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        SqlRecordRepository.from_url("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")


def test_password_never_in_the_error() -> None:
    with pytest.raises(StoreError) as info:
        SqlRecordRepository.from_url("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(info.value)
