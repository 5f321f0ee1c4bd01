"""The accountability register's table moves from the node store to governance, rows intact.

A node database written before the hand-over holds the register in the node's
``accountability_register`` (revision ``0002_tenants``). After the node's
``0003_register_to_governance`` and governance's ``0001_accountability`` (in either
order: the node and governance environments run independently) the same rows, hashes and
``seq`` values are in governance's table, the export still verifies, and the next entry
chains onto the old head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)

from governance import tables as governance_tables
from governance.accountability import AccountabilityRegister, ModelRef, verify_register
from governance.accountability.chain import append, iso
from governance.accountability.tables import accountability_entries
from kernel.db import make_engine
from trust_node.store import tables as node_tables

MODEL = ModelRef("gcdt-test", "0.1.0", "sha256:" + "cd" * 32)
#: What fitted 0002_tenants's 64-character model_hash (PostgreSQL refused a real content
#: hash there; the handover widens the column, so MODEL's 71 characters fit afterwards).
OLD_MODEL_HASH = "ef" * 32
T0 = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)

# The node's table as revision 0002_tenants created it (the code that wrote it is gone).
_legacy_metadata = MetaData()
LEGACY = Table(
    "accountability_register",
    _legacy_metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("asked_by", String(128), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("model_hash", String(64), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("output", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("entry_hash", String(64), nullable=False),
)


def _node_alembic(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run the node's migrations to ``revision`` as ``kernel.db.upgrade`` runs them."""
    cfg = Config()
    cfg.set_main_option("script_location", str(node_tables.MIGRATIONS_DIR))
    cfg.attributes["version_table"] = node_tables.VERSION_TABLE
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        step(cfg, revision)


def _migrate_node(engine: Engine) -> None:
    _node_alembic(engine, command.upgrade, "heads")


@pytest.fixture
def old_node(database_url: str) -> Iterator[tuple[Engine, list[dict[str, Any]]]]:
    """A node database at ``0002_tenants`` with four register entries, written as the old
    node wrote them (same fields, same chain)."""
    engine = make_engine(database_url)
    _node_alembic(engine, command.upgrade, "0002_tenants")
    for i in range(4):
        when = T0 + timedelta(seconds=i)
        fields = {
            "asked_at": when,
            "asked_by": f"tenant:t{i % 2}",
            "model_id": MODEL.model_id,
            "model_version": MODEL.version,
            "model_hash": OLD_MODEL_HASH,
            "input_hash": f"{i:064x}",
            "output": f'{{"R{i}":{i}}}',
        }
        append(engine, LEGACY, fields, {**fields, "asked_at": iso(when)})
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(LEGACY).order_by(LEGACY.c.seq)).mappings()]
    yield engine, rows
    engine.dispose()


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(accountability_entries).order_by(accountability_entries.c.seq)
        return [dict(r) for r in conn.execute(query).mappings()]


def _governance_schema_matches(engine: Engine) -> bool:
    """The table, whichever side made it, is the one governance's metadata declares."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": governance_tables.VERSION_TABLE}
        )
        diff = compare_metadata(context, governance_tables.metadata)
    return not [d for d in diff if "accountability" in repr(d)]


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def key(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(*(r[k] for k in r if k != "asked_at"), iso(r["asked_at"])) for r in rows]

    return key(a) == key(b)


ORDERS: dict[str, list[Callable[[Engine], None]]] = {
    "node-then-governance": [_migrate_node, governance_tables.migrate],
    "governance-then-node": [governance_tables.migrate, _migrate_node],
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_the_rows_move_to_governance_intact(
    old_node: tuple[Engine, list[dict[str, Any]]], order: str
) -> None:
    engine, before = old_node
    for migrate in ORDERS[order]:
        migrate(engine)
    names = set(inspect(engine).get_table_names())
    assert "accountability_entries" in names and "accountability_register" not in names
    assert _governance_schema_matches(engine)
    assert _same(_rows(engine), before)

    register = AccountabilityRegister(engine)
    assert verify_register(register.export_jsonl()) == 4
    entry = register.record(MODEL, {"x": 1}, {"y": 2}, asked_by="tenant:t0")
    assert entry["seq"] == before[-1]["seq"] + 1
    assert entry["prev_hash"] == before[-1]["entry_hash"]
    assert verify_register(register.export_jsonl()) == 5

    for migrate in ORDERS[order]:  # idempotent: a second start changes nothing
        migrate(engine)
    assert len(_rows(engine)) == 5


@pytest.mark.parametrize("order", list(ORDERS))
def test_a_fresh_node_database_gets_the_table_from_either_side(
    database_url: str, order: str
) -> None:
    engine = make_engine(database_url)
    for migrate in ORDERS[order]:
        migrate(engine)
    register = AccountabilityRegister(engine)
    register.record(MODEL, {}, {}, asked_by="operator")  # a real content hash fits
    assert verify_register(register.export_jsonl()) == 1
    assert "accountability_register" not in inspect(engine).get_table_names()
    assert _governance_schema_matches(engine)
    engine.dispose()


def test_the_node_revision_downgrades_with_its_rows(
    old_node: tuple[Engine, list[dict[str, Any]]],
) -> None:
    engine, before = old_node
    _migrate_node(engine)
    governance_tables.migrate(engine)
    _node_alembic(engine, command.downgrade, "0002_tenants")
    with engine.connect() as conn:
        back = [dict(r) for r in conn.execute(select(LEGACY).order_by(LEGACY.c.seq)).mappings()]
    assert _same(back, before) and _rows(engine) == []
    _migrate_node(engine)  # and up again: governance's (empty) table takes them back
    assert _same(_rows(engine), before)
