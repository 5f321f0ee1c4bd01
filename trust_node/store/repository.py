"""The node's record store behind a small repository interface.

``RecordRepository`` is what the rest of the node talks to; ``SqlRecordRepository``
implements it over SQLAlchemy for SQLite (default) and PostgreSQL (by URL). A batch is
stored in one transaction: all of it or none of it. Rows are append-only; re-uploading a
record id adds the next version, and reads return the latest unless a version is asked.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Connection, Engine, Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from kernel.db import make_engine
from kernel.db import upgrade as run_upgrade
from open_models import contract as c
from trust_node.errors import RecordNotFoundError, StoreError
from trust_node.store.tables import (
    MIGRATIONS_DIR,
    RECORD_INSERT_COLUMNS,
    VERSION_TABLE,
    ingests,
    records,
)

OPERATOR_TENANT = "operator"


@dataclass(frozen=True)
class IngestReceipt:
    """What one stored batch did: how many records were new and how many re-versioned."""

    ingest_id: int
    tenant_id: str
    source: str
    sha256: str
    rows: int
    new_records: int
    new_versions: int


class RecordRepository(abc.ABC):
    """Storage of versioned facility records, scoped by tenant."""

    @abc.abstractmethod
    def add_batch(
        self, tenant_id: str, frame: pd.DataFrame, *, source: str, sha256: str
    ) -> IngestReceipt:
        """Store a validated frame (contract columns) atomically."""

    @abc.abstractmethod
    def latest(self, tenant_id: str | None = None) -> pd.DataFrame:
        """Latest version of every record (of one tenant, or of all when ``None``)."""

    @abc.abstractmethod
    def get(self, tenant_id: str, record_id: str, version: int | None = None) -> dict[str, object]:
        """One record, latest version unless ``version`` is given."""

    @abc.abstractmethod
    def versions(self, tenant_id: str, record_id: str) -> list[int]:
        """Every stored version of a record, oldest first (empty if unknown)."""

    @abc.abstractmethod
    def count(self, tenant_id: str | None = None) -> int:
        """Number of distinct records (not versions)."""


class SqlRecordRepository(RecordRepository):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> SqlRecordRepository:
        try:
            engine = make_engine(url)
            if migrate:
                run_upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
        except SQLAlchemyError as exc:
            where = _safe_url(url)
            raise StoreError(f"cannot open the store at {where}: {exc}") from exc
        return cls(engine)

    # -- writes ---------------------------------------------------------------------
    def add_batch(
        self, tenant_id: str, frame: pd.DataFrame, *, source: str, sha256: str
    ) -> IngestReceipt:
        try:
            with self.engine.begin() as conn:
                return self._add_batch(conn, tenant_id, frame, source, sha256)
        except (SQLAlchemyError, psycopg.Error) as exc:  # COPY runs on the raw driver
            raise StoreError(f"storing {source} failed, nothing stored: {exc}") from exc

    def _add_batch(
        self, conn: Connection, tenant_id: str, frame: pd.DataFrame, source: str, sha256: str
    ) -> IngestReceipt:
        ingest_id = conn.execute(
            ingests.insert().returning(ingests.c.id),
            {
                "tenant_id": tenant_id,
                "source": source[-1024:],
                "sha256": sha256,
                "rows": len(frame),
                "created_at": datetime.now(UTC),
            },
        ).scalar_one()
        previous = self._max_versions(conn, tenant_id)
        prior = frame["record_id"].map(previous).fillna(0).astype("int64")
        rows = frame[list(c.ALL_COLUMNS)].copy()
        rows.insert(0, "ingest_id", ingest_id)
        rows.insert(0, "version", prior + 1)
        rows.insert(0, "tenant_id", tenant_id)
        self._bulk_insert(conn, rows[list(RECORD_INSERT_COLUMNS)])
        new_versions = int((prior > 0).sum())
        return IngestReceipt(
            ingest_id=int(ingest_id),
            tenant_id=tenant_id,
            source=source,
            sha256=sha256,
            rows=len(frame),
            new_records=len(frame) - new_versions,
            new_versions=new_versions,
        )

    def _max_versions(self, conn: Connection, tenant_id: str) -> dict[str, int]:
        query = (
            select(records.c.record_id, func.max(records.c.version))
            .where(records.c.tenant_id == tenant_id)
            .group_by(records.c.record_id)
        )
        return {rid: int(v) for rid, v in conn.execute(query)}

    def _bulk_insert(self, conn: Connection, rows: pd.DataFrame) -> None:
        """Insert through the driver's fastest path: COPY on PostgreSQL, executemany else."""
        columns = list(rows.columns)
        tuples = _python_tuples(rows)
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            statement = f"COPY records ({', '.join(columns)}) FROM STDIN"
            with raw.cursor() as cur, cur.copy(statement) as copy:  # type: ignore[union-attr]
                for row in tuples:
                    copy.write_row(row)
            return
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f"INSERT INTO records ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
            tuples,
        )

    # -- reads ----------------------------------------------------------------------
    def _latest_query(self, tenant_id: str | None) -> Select[Any]:
        newest = select(
            records.c.tenant_id, records.c.record_id, func.max(records.c.version).label("v")
        ).group_by(records.c.tenant_id, records.c.record_id)
        if tenant_id is not None:
            newest = newest.where(records.c.tenant_id == tenant_id)
        sub = newest.subquery()
        return select(records).join(
            sub,
            (records.c.tenant_id == sub.c.tenant_id)
            & (records.c.record_id == sub.c.record_id)
            & (records.c.version == sub.c.v),
        )

    def latest(self, tenant_id: str | None = None) -> pd.DataFrame:
        query = self._latest_query(tenant_id).order_by(records.c.id)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all())
        if frame.empty:
            return pd.DataFrame(columns=["tenant_id", "version", *c.ALL_COLUMNS])
        return _typed(frame.drop(columns=["id", "ingest_id"]))

    def get(self, tenant_id: str, record_id: str, version: int | None = None) -> dict[str, object]:
        query = select(records).where(
            records.c.tenant_id == tenant_id, records.c.record_id == record_id
        )
        query = (
            query.where(records.c.version == version)
            if version is not None
            else query.order_by(records.c.version.desc()).limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            which = f" version {version}" if version is not None else ""
            raise RecordNotFoundError(f"record {record_id!r}{which} not found")
        out = dict(row)
        out.pop("id")
        return out

    def versions(self, tenant_id: str, record_id: str) -> list[int]:
        query = (
            select(records.c.version)
            .where(records.c.tenant_id == tenant_id, records.c.record_id == record_id)
            .order_by(records.c.version)
        )
        with self.engine.connect() as conn:
            return [int(v) for v in conn.execute(query).scalars()]

    def count(self, tenant_id: str | None = None) -> int:
        query = select(func.count(func.distinct(records.c.record_id)))
        if tenant_id is not None:
            query = query.where(records.c.tenant_id == tenant_id)
        else:
            query = select(func.count()).select_from(
                select(records.c.tenant_id, records.c.record_id).distinct().subquery()
            )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


def _python_tuples(rows: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as tuples of plain Python values, NaN/NA as ``None`` (SQL NULL)."""
    columns: list[Sequence[object]] = []
    for name in rows.columns:
        col = rows[name]
        if col.dtype.kind == "f":
            arr = col.to_numpy()
            values = list(np.where(np.isnan(arr), None, arr.astype(object)))
        elif col.hasnans:
            values = col.astype(object).where(col.notna(), None).tolist()
        else:
            values = col.tolist()  # numpy/arrow scalars become plain Python values
        columns.append(values)
    return list(zip(*columns, strict=True))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in c.FLOAT_COLUMNS:
        frame[name] = frame[name].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    frame["version"] = frame["version"].astype("int64")
    return frame.reset_index(drop=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
