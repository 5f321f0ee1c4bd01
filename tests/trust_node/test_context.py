"""The node's composition root opens and migrates its database once per process.

Before it, the egress mod opened an engine and ran Alembic on every Flower reply, and
each entry point migrated on its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.app.message.message import make_message
from flwr.app.metadata import Metadata
from sqlalchemy import Engine, inspect

import kernel.db
import trust_node.context
from kernel.settings import Settings, load_settings
from kernel.wire import flower as wire
from trust_node.context import ENGINES, NodeContext
from trust_node.federation.mods import PLAIN_ACK, make_egress_mod
from trust_node.node_setup import init_node


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = load_settings(home=tmp_path / "node", database_url=f"sqlite:///{tmp_path}/n.db")
    init_node(settings, "node-x", "IN")
    return settings


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts engines made and migrations run from now on (with an empty engine cache)."""
    ENGINES.clear()
    counts = {"engines": 0, "migrations": 0}
    make_engine, migrate = kernel.db.make_engine, trust_node.context.migrate

    def counting_engine(url: str) -> Engine:
        counts["engines"] += 1
        return make_engine(url)

    def counting_migrate(engine: Engine) -> None:
        counts["migrations"] += 1
        migrate(engine)

    monkeypatch.setattr(kernel.db, "make_engine", counting_engine)
    monkeypatch.setattr(trust_node.context, "migrate", counting_migrate)
    return counts


def test_two_contexts_share_one_migrated_engine(
    settings: Settings, counted: dict[str, int]
) -> None:
    first, second = NodeContext(settings), NodeContext(settings)
    assert first.engine is second.engine
    assert counted == {"engines": 1, "migrations": 1}
    tables = set(inspect(first.engine).get_table_names())
    assert {"records", "egress_refusals", "tenants"} <= tables, "node tables"
    assert {"privacy_ledger_charges", "translog_entries"} <= tables, "governance tables"
    assert first.repository.engine is first.refusals.engine is first.engine


def _message() -> Message:
    metadata = Metadata(
        run_id=1,
        message_id="m-1",
        src_node_id=0,
        dst_node_id=1,
        reply_to_message_id="",
        group_id="",
        created_at=time.time(),
        ttl=600.0,
        message_type="query.publish",
    )
    return make_message(metadata, RecordDict({wire.PUBLISHED: ConfigRecord({wire.ROUND: 3})}))


def test_egress_mod_opens_no_engine_per_reply(settings: Settings, counted: dict[str, int]) -> None:
    node = NodeContext(settings)
    mod = make_egress_mod(lambda _context: node)

    def handler(message: Message, _context: Any) -> Message:
        return Message(RecordDict({PLAIN_ACK: ConfigRecord({"installed": True})}), reply_to=message)

    replies = [mod(_message(), None, handler) for _ in range(3)]
    assert all(not r.has_error() and wire.ACK in r.content.config_records for r in replies)
    assert counted == {"engines": 1, "migrations": 1}
