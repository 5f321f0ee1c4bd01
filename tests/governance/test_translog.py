"""The persisted transparency log, on SQLite and PostgreSQL (tests/conftest.py: postgres_url)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, update

from governance.identity import Identity, verify_signature
from governance.tables import migrate
from governance.translog import (
    EntryError,
    EntryKind,
    LogStateError,
    TransparencyLog,
    load_bundle,
    merkle,
    verify_bundle,
)
from governance.translog import tables as t
from governance.translog.records import leaf_input
from kernel.db import make_engine


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'kernel.db'}")
        migrate(eng)
        yield eng
        eng.dispose()
    else:
        # A fresh database from the one PostgreSQL fixture (tests/conftest.py).
        eng = make_engine(str(request.getfixturevalue("postgres_url")))
        migrate(eng)
        yield eng
        eng.dispose()


@pytest.fixture
def operator() -> Identity:
    return Identity.generate("coordinator-test")


@pytest.fixture
def log(engine: Engine, operator: Identity) -> TransparencyLog:
    ticks = iter(range(1_700_000_000_000, 1_800_000_000_000, 7))
    return TransparencyLog(engine, operator, clock=lambda: next(ticks))


def _fill(log: TransparencyLog, n: int) -> None:
    kinds = list(EntryKind)
    for i in range(n):
        log.append(kinds[i % len(kinds)], {"seq": i, "note": f"event {i}", "value": i / 4})


class TestPersistedLog:
    def test_append_assigns_contiguous_indices_and_canonical_payload(
        self, log: TransparencyLog
    ) -> None:
        first = log.append(EntryKind.ENROLMENT, {"node": "de-1", "b": [2, 1], "a": 1.0})
        second = log.append("publication", {"model": "m1"})
        assert (first.index, second.index) == (0, 1)
        assert first.payload_bytes == b'{"a":1,"b":[2,1],"node":"de-1"}'
        assert first.kind == "enrolment"
        assert log.entry(0) == first
        assert log.size() == 2 == log.entry_count()
        expected = merkle.leaf_hash(leaf_input(0, "enrolment", first.timestamp_ms, first.payload))
        assert first.leaf_hash == expected

    def test_root_matches_independent_tree(self, log: TransparencyLog) -> None:
        assert log.root() == merkle.EMPTY_ROOT
        _fill(log, 21)
        leaves = [e.computed_leaf_hash() for e in log.iter_entries()]
        reference = merkle.MerkleTree(leaves)
        for size in range(22):
            assert log.root(size) == reference.root(size)

    def test_every_inclusion_and_consistency_proof(self, log: TransparencyLog) -> None:
        n = 13
        _fill(log, n)
        roots = {size: log.root(size) for size in range(1, n + 1)}
        for size in range(1, n + 1):
            for index in range(size):
                proof = log.inclusion_proof(index, size)
                proof.verify(roots[size])
            for old in range(1, size + 1):
                log.consistency_proof(old, size).verify(roots[old], roots[size])

    def test_tree_heads_are_signed_and_kept(self, log: TransparencyLog, operator: Identity) -> None:
        empty = log.tree_head()
        _fill(log, 5)
        sth = log.tree_head()
        assert (empty.tree_size, sth.tree_size) == (0, 5)
        assert sth.root_hash == log.root(5)
        assert verify_signature(operator.public_key, sth.signature, sth.signed_bytes())
        assert not sth.signature_valid(Identity.generate("other").public_key)
        assert log.tree_heads() == [empty, sth]
        assert log.latest_tree_head() == sth

    def test_bad_entries_are_refused_by_name(self, log: TransparencyLog) -> None:
        with pytest.raises(EntryError, match="Round"):
            log.append("Round", {})
        with pytest.raises(EntryError, match="payload of a round entry"):
            log.append("round", {"eps": float("nan")})
        with pytest.raises(TypeError, match="JSON object"):
            log.append("round", ["not", "a", "mapping"])  # type: ignore[arg-type]
        assert log.size() == 0

    def test_proofs_outside_the_log_are_refused(self, log: TransparencyLog) -> None:
        _fill(log, 3)
        with pytest.raises(merkle.TreeRangeError):
            log.inclusion_proof(3)
        with pytest.raises(merkle.TreeRangeError):
            log.consistency_proof(2, 4)

    def test_concurrent_appends_never_collide(self, engine: Engine, operator: Identity) -> None:
        writers = [TransparencyLog(engine, operator) for _ in range(4)]
        errors: list[BaseException] = []

        def work(w: TransparencyLog, who: int) -> None:
            try:
                for i in range(8):
                    w.append("submission_digest", {"writer": who, "i": i})
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w, n)) for n, w in enumerate(writers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors
        entries = list(writers[0].iter_entries())
        assert [e.index for e in entries] == list(range(32))
        assert {(e.payload["writer"], e.payload["i"]) for e in entries} == {
            (w, i) for w in range(4) for i in range(8)
        }
        assert writers[0].root() == merkle.MerkleTree([e.leaf_hash for e in entries]).root()

    def test_export_verifies_and_detects_tampered_rows(
        self, log: TransparencyLog, engine: Engine, tmp_path: Path
    ) -> None:
        _fill(log, 6)
        log.tree_head()
        _fill(log, 4)
        path = log.export_bundle(tmp_path / "bundle.json")
        report = verify_bundle(load_bundle(path))
        assert report.ok, report.problems
        assert (report.entries, report.tree_heads, report.tree_size) == (10, 2, 10)
        assert report.root_hash == log.root().hex()

        with engine.begin() as conn:
            conn.execute(
                update(t.entries)
                .where(t.entries.c.entry_index == 3)
                .values(payload=b'{"note":"event 3","seq":3,"value":0.76}')
            )
        bad = verify_bundle(load_bundle(log.export_bundle(tmp_path / "tampered.json")))
        assert not bad.ok
        assert bad.problems[0].entry_index == 3
        assert "entry 3 (key_rotation)" in bad.problems[0].message


def test_unmigrated_database_is_named(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(LogStateError, match="transparency log"):
        TransparencyLog(engine, Identity.generate("x")).append("round", {})
