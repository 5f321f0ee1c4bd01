"""Where seen envelope nonces are remembered, so a replayed message is refused.

Why a store and not a check in memory: a coordinator or node that restarts must still
refuse a message it accepted before the restart, and several processes behind one
database must agree. The SQL store makes "check and remember" one atomic INSERT against
a primary key on (signer_id, nonce): two concurrent deliveries of the same message
cannot both succeed, on SQLite or PostgreSQL, without any read-then-write race.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    insert,
)
from sqlalchemy.exc import IntegrityError

from governance.errors import ReplayError
from governance.tables import metadata

NONCE_TABLE_NAME = "envelope_nonces"

nonces_table = Table(
    NONCE_TABLE_NAME,
    metadata,
    Column("signer_id", String(128), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
    PrimaryKeyConstraint("signer_id", "nonce", name="pk_envelope_nonces"),
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _replay(signer_id: str, nonce: str) -> ReplayError:
    return ReplayError(f"nonce {nonce} from signer {signer_id!r} was already used (replay)")


class NonceStore(abc.ABC):
    """Remembers (signer, nonce) pairs; the second sighting of a pair is a replay."""

    @abc.abstractmethod
    def check_and_remember(self, signer_id: str, nonce: str) -> None:
        """Remember the pair, or raise :class:`ReplayError` if it was seen before."""

    @abc.abstractmethod
    def forget_before(self, cutoff: dt.datetime) -> int:
        """Drop pairs first seen before ``cutoff``; returns how many.

        Safe once ``cutoff`` is older than the envelope ``max_age``: an envelope that old
        is refused as expired before its nonce is consulted.
        """


class InMemoryNonceStore(NonceStore):
    """A process-local store, for tests and single-process tools."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], dt.datetime] = {}
        self._lock = threading.Lock()

    def check_and_remember(self, signer_id: str, nonce: str) -> None:
        key = (signer_id, nonce)
        with self._lock:
            if key in self._seen:
                raise _replay(signer_id, nonce)
            self._seen[key] = _utcnow()

    def forget_before(self, cutoff: dt.datetime) -> int:
        with self._lock:
            old = [k for k, seen in self._seen.items() if seen < cutoff]
            for k in old:
                del self._seen[k]
            return len(old)

    def __len__(self) -> int:
        return len(self._seen)


class SqlNonceStore(NonceStore):
    """The durable store on the party's database (tables made by ``governance.tables.migrate``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def check_and_remember(self, signer_id: str, nonce: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(nonces_table).values(signer_id=signer_id, nonce=nonce, seen_at=_utcnow())
                )
        except IntegrityError as exc:
            raise _replay(signer_id, nonce) from exc

    def forget_before(self, cutoff: dt.datetime) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(delete(nonces_table).where(nonces_table.c.seen_at < cutoff))
            return int(result.rowcount or 0)
