"""Engine creation and Alembic migrations shared by every package that owns tables.

Each package that owns tables (``trust_node``, ``governance``, ``coordinator``) keeps
its own Alembic environment with its own version table, so a node's database carries
node + governance tables and a coordinator's carries coordinator + governance tables,
without either side importing the other.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and its parent directory made."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL is corruption-safe; a power cut can lose only the last
            # committed transactions, which an ingest reports as not done anyway.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Prefer psycopg 3 (what we install) over the psycopg2 default.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, future=True, pool_pre_ping=True)


def upgrade(engine: Engine, script_location: Path, version_table: str) -> None:
    """Bring one package's tables to every head on ``engine`` (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = version_table
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def run_alembic_env(target_metadata: MetaData) -> None:
    """Body of every package's ``migrations/env.py``: run on the connection we pass in.

    Migrations only ever run through :func:`upgrade`, which hands over an open
    connection and the package's own version table.
    """
    from alembic import context

    config = context.config
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


class MigratedEngines:
    """One engine per database URL per process, migrated when it is first asked for.

    Opening an engine and running Alembic costs tens of milliseconds and a schema lock;
    a party that did it per request (or per Flower reply) paid that on every message.
    Like Flower's ``LinkStateFactory.state()``, the factory hands out the instance it
    already has. It keeps the ``maxsize`` most recently used URLs (a test process opens
    hundreds of homes); an evicted engine is disposed, and migrated again if asked for.
    """

    def __init__(self, migrate: Callable[[Engine], None], maxsize: int = 16) -> None:
        self._migrate = migrate
        self._maxsize = maxsize
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def engine(self, url: str) -> Engine:
        with self._lock:
            engine = self._engines.get(url)
            if engine is not None:
                self._engines.move_to_end(url)
                return engine
            engine = make_engine(url)
            try:
                self._migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            self._engines[url] = engine
            while len(self._engines) > self._maxsize:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    def clear(self) -> None:
        """Dispose every engine (tests that drop a database under the same URL)."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
