"""The persisted, append-only transparency log (SQLite or PostgreSQL).

Each append is one transaction: bump the single-row head counter (which serialises
writers), insert the entry, and insert every perfect Merkle node the new leaf completes
(amortised O(1) rows, at most log2(n)). A root or proof then reads O(log n) stored nodes
(see :mod:`governance.translog.merkle`), so nothing rehashes the log; 100k entries cost the same
per call as 100. Every tree head the operator signs is kept, so an exported bundle carries
the whole signed history.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from governance.identity import Identity
from governance.translog import merkle
from governance.translog import tables as t
from governance.translog.checkpoint import TlogProof
from governance.translog.errors import AppendConflictError, LogStateError, TranslogError
from governance.translog.note import Signature, VerifierKey
from governance.translog.records import (
    ConsistencyProof,
    EntryKind,
    InclusionProof,
    LogEntry,
    SignedTreeHead,
    canonical,
    check_kind,
    leaf_input,
    log_origin,
    log_verifier,
)
from governance.translog.tiles import Tile, check_within, encode_bundle, hash_tile
from governance.translog.witness import request_body

#: Version 2: tree heads are C2SP checkpoints (signed notes); version 1 signed custom JSON.
BUNDLE_FORMAT = "gcdt-translog-bundle/2"
APPEND_ATTEMPTS = 8


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _SqlNodes:
    """:class:`merkle.NodeReader` over one connection's view of the stored nodes."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def perfect_node(self, level: int, index: int) -> bytes:
        if level == 0:
            stmt = select(t.entries.c.leaf_hash).where(t.entries.c.entry_index == index)
        else:
            stmt = select(t.nodes.c.hash).where(
                t.nodes.c.level == level, t.nodes.c.node_index == index
            )
        value = self._conn.execute(stmt).scalar_one_or_none()
        if value is None:
            raise LogStateError(f"Merkle node (level {level}, index {index}) is missing")
        return bytes(value)


def _row_entry(row: Any) -> LogEntry:
    return LogEntry(
        index=row.entry_index,
        kind=row.kind,
        timestamp_ms=row.timestamp_ms,
        payload_bytes=bytes(row.payload),
        leaf_hash=bytes(row.leaf_hash),
    )


def _row_sth(row: Any) -> SignedTreeHead:
    return SignedTreeHead(
        log_id=row.log_id,
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        timestamp_ms=row.timestamp_ms,
        public_key=bytes(row.public_key),
        signature=bytes(row.signature),
    )


class TransparencyLog:
    """The log operator's view: append entries, sign tree heads, serve proofs, export."""

    def __init__(
        self, engine: Engine, signer: Identity, *, clock: Callable[[], int] = _now_ms
    ) -> None:
        self.engine = engine
        self.signer = signer
        self._clock = clock

    @property
    def log_id(self) -> str:
        return self.signer.party_id

    @property
    def origin(self) -> str:
        """The checkpoint origin line and the log key's note name."""
        return log_origin(self.log_id)

    @property
    def verifier(self) -> VerifierKey:
        """The log's signed-note verifier key (vkey): what auditors must pin out of band."""
        return log_verifier(self.log_id, self.signer.public_key)

    # --- writing ---------------------------------------------------------------------

    def append(self, kind: EntryKind | str, payload: Mapping[str, Any]) -> LogEntry:
        """Append one entry; safe against concurrent appenders on the same database."""
        kind_value = check_kind(kind)
        if not isinstance(payload, Mapping):
            raise TypeError(f"payload for a {kind_value} entry must be a JSON object (mapping)")
        payload_bytes = canonical(dict(payload), f"payload of a {kind_value} entry")
        payload_obj = json.loads(payload_bytes)
        last_error: Exception | None = None
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return self._append_in(conn, kind_value, payload_bytes, payload_obj)
            except (IntegrityError, OperationalError) as exc:
                # Lost a race (unique index) or SQLite's lock wait ran out: nothing of this
                # attempt was committed, so retrying cannot duplicate the entry.
                if isinstance(exc, OperationalError) and "locked" not in str(exc).lower():
                    raise LogStateError(f"cannot append to the transparency log: {exc}") from exc
                last_error = exc
                time.sleep(0.01 * (attempt + 1))
            except DBAPIError as exc:
                raise LogStateError(f"cannot append to the transparency log: {exc}") from exc
        raise AppendConflictError(
            f"could not append a {kind_value} entry after {APPEND_ATTEMPTS} attempts: {last_error}"
        )

    def _append_in(
        self, conn: Connection, kind: str, payload_bytes: bytes, payload_obj: Any
    ) -> LogEntry:
        new_size = conn.execute(
            update(t.head)
            .where(t.head.c.id == 1)
            .values(tree_size=t.head.c.tree_size + 1)
            .returning(t.head.c.tree_size)
        ).scalar_one_or_none()
        if new_size is None:
            raise LogStateError(
                "transparency log tables are not initialised: run governance.tables.migrate()"
            )
        index = new_size - 1
        timestamp_ms = self._clock()
        data = leaf_input(index, kind, timestamp_ms, payload_obj)
        leaf = merkle.leaf_hash(data)
        conn.execute(
            t.entries.insert().values(
                entry_index=index,
                kind=kind,
                payload=payload_bytes,
                timestamp_ms=timestamp_ms,
                leaf_hash=leaf,
            )
        )
        # Store every perfect node this leaf completes: right child at each level while
        # the node index is odd.
        level, node_index, node = 0, index, leaf
        reader = _SqlNodes(conn)
        new_nodes = []
        while node_index % 2 == 1:
            left = reader.perfect_node(level, node_index - 1)
            node = merkle.node_hash(left, node)
            level, node_index = level + 1, node_index // 2
            new_nodes.append({"level": level, "node_index": node_index, "hash": node})
        if new_nodes:
            conn.execute(t.nodes.insert(), new_nodes)
        return LogEntry(index, kind, timestamp_ms, payload_bytes, leaf)

    def tree_head(self) -> SignedTreeHead:
        """Sign the current tree head and record it; STHs are ordered like the log."""
        with self.engine.begin() as conn:
            # Taking the head row's lock orders this STH after every committed append.
            conn.execute(
                update(t.head).where(t.head.c.id == 1).values(tree_size=t.head.c.tree_size)
            )
            size = self._size_in(conn)
            root = merkle.subtree_hash(_SqlNodes(conn), 0, size)
            timestamp_ms = self._clock()
            unsigned = SignedTreeHead(
                self.log_id, size, root, timestamp_ms, self.signer.public_key, b""
            )
            # The signature covers the C2SP checkpoint text (origin, size, root) only.
            signature = self.signer.sign(unsigned.signed_bytes())
            sth = SignedTreeHead(
                self.log_id, size, root, timestamp_ms, self.signer.public_key, signature
            )
            conn.execute(
                t.tree_heads.insert().values(
                    log_id=sth.log_id,
                    tree_size=sth.tree_size,
                    root_hash=sth.root_hash,
                    timestamp_ms=sth.timestamp_ms,
                    public_key=sth.public_key,
                    signature=sth.signature,
                )
            )
        return sth

    # --- reading ---------------------------------------------------------------------

    def _size_in(self, conn: Connection) -> int:
        size = conn.execute(select(t.head.c.tree_size).where(t.head.c.id == 1)).scalar()
        if size is None:
            raise LogStateError(
                "transparency log tables are not initialised: run governance.tables.migrate()"
            )
        return int(size)

    def size(self) -> int:
        with self.engine.connect() as conn:
            return self._size_in(conn)

    def root(self, tree_size: int | None = None) -> bytes:
        with self.engine.connect() as conn:
            size = self._checked_size(conn, tree_size)
            return merkle.subtree_hash(_SqlNodes(conn), 0, size)

    def _checked_size(self, conn: Connection, tree_size: int | None) -> int:
        current = self._size_in(conn)
        if tree_size is None:
            return current
        if not 0 <= tree_size <= current:
            raise merkle.TreeRangeError(f"tree size {tree_size} is outside 0..{current}")
        return tree_size

    def entry(self, index: int) -> LogEntry:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.entries).where(t.entries.c.entry_index == index)
            ).one_or_none()
        if row is None:
            raise TranslogError(f"the log has no entry {index}")
        return _row_entry(row)

    def iter_entries(self, start: int = 0, end: int | None = None) -> Iterator[LogEntry]:
        stmt = select(t.entries).where(t.entries.c.entry_index >= start)
        if end is not None:
            stmt = stmt.where(t.entries.c.entry_index < end)
        with self.engine.connect() as conn:
            for row in conn.execute(stmt.order_by(t.entries.c.entry_index)):
                yield _row_entry(row)

    def tree_heads(self) -> list[SignedTreeHead]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.tree_heads).order_by(t.tree_heads.c.sth_id))
            return [_row_sth(r) for r in rows]

    def latest_tree_head(self) -> SignedTreeHead | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.tree_heads).order_by(t.tree_heads.c.sth_id.desc()).limit(1)
            ).one_or_none()
        return None if row is None else _row_sth(row)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        with self.engine.connect() as conn:
            size = self._checked_size(conn, tree_size)
            reader = _SqlNodes(conn)
            path = merkle.inclusion_proof(reader, index, size)
            return InclusionProof(index, size, reader.perfect_node(0, index), path)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        with self.engine.connect() as conn:
            size = self._checked_size(conn, new_size)
            path = merkle.consistency_proof(_SqlNodes(conn), old_size, size)
            return ConsistencyProof(old_size, size, path)

    def tlog_proof(self, index: int, head: SignedTreeHead | None = None) -> TlogProof:
        """A ``c2sp.org/tlog-proof@v1`` of entry ``index`` under ``head`` (default: latest);
        the entry's leaf bytes ride in ``extra`` so the file alone is enough offline."""
        head = head or self.latest_tree_head()
        if head is None or not 0 <= index < head.tree_size:
            raise TranslogError(f"entry {index} is not under a signed checkpoint yet")
        proof = self.inclusion_proof(index, head.tree_size)
        note = self.cosigned_note(head)
        return TlogProof(index, proof.path, note, self.entry(index).leaf_input())

    # --- witnesses ------------------------------------------------------------------

    def witness_request(self, head: SignedTreeHead, old_size: int) -> str:
        """A tlog-witness add-checkpoint body for ``head``, from the witness's ``old_size``."""
        proof = self.consistency_proof(old_size, head.tree_size).path if old_size else []
        return request_body(old_size, proof, str(head.note()))

    def add_cosignatures(self, head: SignedTreeHead, response: str) -> int:
        """Keep the cosignature lines a witness returned for ``head``; returns how many are
        new. They are stored as given: auditors check them against witness keys they pinned.
        """
        lines = [line + "\n" for line in response.splitlines() if line]
        for line in lines:
            Signature.parse(line[:-1])  # NoteError on anything that is not a signature line
        with self.engine.begin() as conn:
            have = {
                r.line
                for r in conn.execute(
                    select(t.cosignatures.c.line).where(
                        t.cosignatures.c.tree_size == head.tree_size
                    )
                )
            }
            new = [ln for ln in lines if ln not in have]
            if new:
                conn.execute(
                    t.cosignatures.insert(),
                    [
                        {"tree_size": head.tree_size, "root_hash": head.root_hash, "line": ln}
                        for ln in new
                    ],
                )
        return len(new)

    def cosigned_note(self, head: SignedTreeHead) -> str:
        """``head``'s checkpoint with the log's signature and every stored cosignature."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.cosignatures.c.line)
                .where(
                    t.cosignatures.c.tree_size == head.tree_size,
                    t.cosignatures.c.root_hash == head.root_hash,
                )
                .order_by(t.cosignatures.c.line)
            )
            extra = [Signature.parse(r.line[:-1]) for r in rows]
        return str(head.note().with_signatures(extra))

    def tile(self, tile: Tile) -> bytes:
        """A tlog-tiles hash tile or entry bundle, only within the latest signed checkpoint
        (an unsigned suffix is not published, and a full tile never changes once served)."""
        head = self.latest_tree_head()
        check_within(tile, 0 if head is None else head.tree_size)
        if tile.level is None:
            # An entry above tlog-tiles' uint16 limit (today: a model publication carrying
            # every round's attestations) makes its bundle unservable: TileError names it.
            start = tile.index * 256
            entries = self.iter_entries(start, start + tile.width)
            return encode_bundle((e.leaf_input() for e in entries), first_index=start)
        with self.engine.connect() as conn:
            return hash_tile(_SqlNodes(conn), tile)

    def entry_count(self) -> int:
        """Rows actually stored (equals :meth:`size` unless the tables were tampered with)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.entries)).scalar_one())

    # --- export ----------------------------------------------------------------------

    def export_bundle(self, path: Path, *, sign_head: bool = True) -> Path:
        """Write a self-contained JSON bundle an auditor can verify offline.

        By default a fresh tree head is signed first so every entry is covered by one.
        """
        if sign_head:
            self.tree_head()
        heads = self.tree_heads()
        # Entries up to the largest signed size: later appends are not yet covered.
        covered = max((h.tree_size for h in heads), default=0)
        bundle = {
            "format": BUNDLE_FORMAT,
            "log_id": self.log_id,
            "origin": self.origin,
            # What the operator *claims*; auditors verify against a key they pinned.
            "log_vkey": str(self.verifier),
            "hash_algorithm": "sha256",
            "entries": [e.to_json() for e in self.iter_entries(0, covered)],
            "tree_heads": [{**h.to_json(), "checkpoint": self.cosigned_note(h)} for h in heads],
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bundle, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path


__all__ = ["BUNDLE_FORMAT", "TransparencyLog"]
