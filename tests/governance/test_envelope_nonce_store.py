"""One contract for every nonce store: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.envelope import Envelope, open_envelope, seal
from governance.errors import ReplayError
from governance.identity import Identity
from governance.nonces import InMemoryNonceStore, NonceStore, SqlNonceStore
from governance.tables import migrate
from kernel.db import make_engine


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def nonce_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NonceStore]:
    if request.param == "memory":
        yield InMemoryNonceStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gcdt.sqlite'}"
    else:
        # A fresh database on GCDT_TEST_POSTGRES_URL's server (tests/conftest.py).
        url = str(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    migrate(engine)
    try:
        yield SqlNonceStore(engine)
    finally:
        engine.dispose()


class TestNonceStoreContract:
    def test_first_sighting_passes_second_is_replay(self, nonce_store: NonceStore) -> None:
        nonce_store.check_and_remember("node-a", "00" * 16)
        with pytest.raises(ReplayError, match="node-a"):
            nonce_store.check_and_remember("node-a", "00" * 16)

    def test_nonces_are_per_signer(self, nonce_store: NonceStore) -> None:
        nonce_store.check_and_remember("node-a", "ab" * 16)
        nonce_store.check_and_remember("node-b", "ab" * 16)
        with pytest.raises(ReplayError):
            nonce_store.check_and_remember("node-b", "ab" * 16)

    def test_replay_through_open_envelope(self, nonce_store: NonceStore) -> None:
        alice = Identity.generate("node-a")
        wire = seal(alice, "submission", 7, {"digest": "x"}).to_bytes()
        open_envelope(Envelope.from_bytes(wire), alice.public_key, nonce_store=nonce_store)
        with pytest.raises(ReplayError):
            open_envelope(Envelope.from_bytes(wire), alice.public_key, nonce_store=nonce_store)

    def test_concurrent_deliveries_accept_exactly_one(self, nonce_store: NonceStore) -> None:
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def deliver() -> None:
            barrier.wait()
            try:
                nonce_store.check_and_remember("node-a", "cd" * 16)
                outcomes.append("accepted")
            except ReplayError:
                outcomes.append("replay")

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["accepted", "replay", "replay", "replay"]

    def test_forget_before_drops_only_old_pairs(self, nonce_store: NonceStore) -> None:
        nonce_store.check_and_remember("node-a", "01" * 16)
        assert nonce_store.forget_before(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) == 0
        with pytest.raises(ReplayError):
            nonce_store.check_and_remember("node-a", "01" * 16)
        assert nonce_store.forget_before(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 1
        nonce_store.check_and_remember("node-a", "01" * 16)


def test_sql_store_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gcdt.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    SqlNonceStore(engine).check_and_remember("node-a", "ef" * 16)
    engine.dispose()
    reopened = make_engine(url)
    try:
        with pytest.raises(ReplayError):
            SqlNonceStore(reopened).check_and_remember("node-a", "ef" * 16)
    finally:
        reopened.dispose()
