"""A member node as a witness of the log (``c2sp.org/tlog-witness`` add-checkpoint).

The witness keeps, per log origin, the latest checkpoint it verified and cosigned. It
cosigns a new checkpoint only when (as tlog-witness specifies) the log's signature
verifies with the configured log key, the request's old size is the size it holds, and
an RFC 9162 consistency proof from its root to the new root verifies -- or, at the same
size, the roots are equal. A validly signed checkpoint that fails those checks is the
log's own evidence of a split view: the witness stores it beside the one it held, stops
cosigning that log (``halted``) and reports it; nothing but an operator clearing the
state file restarts it.

State is one JSON file per log under the node's home, replaced atomically
(``os.replace``) under an exclusive ``flock``, so check-and-update is one step (the race
tlog-witness warns of: two requests must not roll the stored size back).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.translog import merkle
from governance.translog.checkpoint import Checkpoint
from governance.translog.errors import TranslogError
from governance.translog.note import (
    NoteError,
    NoteSigner,
    UntrustedNoteError,
    VerifierKey,
    b64,
    b64decode,
    open_note,
    parse_note,
)

MAX_PROOF_LINES = 63  # tlog-witness: "The client MUST NOT send more than 63 ... lines"
SIZE_CONTENT_TYPE = "text/x.tlog.size"  # tlog-witness: the 409 response's Content-Type


class WitnessRefusal(TranslogError):
    """The witness will not cosign; ``status`` is the tlog-witness HTTP status code."""

    def __init__(self, status: int, message: str, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else message + "\n"


def request_body(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> str:
    """An add-checkpoint request: ``old N``, proof lines, blank line, the checkpoint."""
    lines = [f"old {old_size}", *(b64(h) for h in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def _parse_request(body: str) -> tuple[int, list[bytes], str]:
    head, sep, note = body.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise WitnessRefusal(400, "request is not 'old N', proof lines, blank line, checkpoint")
    text = lines[0][len("old ") :]
    if not text.isdigit() or (text != "0" and text.startswith("0")):
        raise WitnessRefusal(400, f"old size {text!r} is not a decimal without leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = [b64decode(line, "proof line") for line in lines[1:]]
    except NoteError as exc:
        raise WitnessRefusal(400, str(exc)) from exc
    return int(text), proof, note


@dataclass(frozen=True)
class WitnessState:
    size: int
    root_hash: bytes
    note: str
    halted: str | None = None  # why the witness stopped cosigning this log

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root_hash": self.root_hash.hex(),
            "note": self.note,
            "halted": self.halted,
        }


class Witness:
    """One node's witness over the logs it is configured for."""

    def __init__(
        self,
        state_dir: Path,
        signer: NoteSigner,
        logs: Sequence[VerifierKey],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.signer = signer
        self.logs = {k.name: k for k in logs}
        self._clock = clock

    def _path(self, origin: str, suffix: str = ".json") -> Path:
        return self.state_dir / (hashlib.sha256(origin.encode()).hexdigest()[:32] + suffix)

    @contextmanager
    def _locked(self, origin: str) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self._path(origin, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def state(self, origin: str) -> WitnessState | None:
        """The latest checkpoint this witness cosigned for ``origin`` (None: never)."""
        path = self._path(origin)
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return WitnessState(
            data["size"], bytes.fromhex(data["root_hash"]), data["note"], data.get("halted")
        )

    def _store(self, origin: str, state: WitnessState) -> None:
        path = self._path(origin)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"origin": origin, **state.to_json()}), encoding="utf-8")
        os.replace(tmp, path)

    def evidence(self, origin: str) -> list[dict[str, Any]]:
        """Every refused, validly signed checkpoint kept for ``origin``, oldest first."""
        path = self._path(origin, ".evidence.jsonl")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]

    def _keep_evidence(self, origin: str, held: WitnessState, shown: str, why: str) -> None:
        record = {"origin": origin, "held": held.note, "shown": shown, "why": why}
        with open(self._path(origin, ".evidence.jsonl"), "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        self._store(origin, WitnessState(held.size, held.root_hash, held.note, why))

    def add_checkpoint(self, body: str) -> str:
        """tlog-witness add-checkpoint: the cosignature line(s), or :class:`WitnessRefusal`."""
        old_size, proof, note_text = _parse_request(body)
        try:
            note = parse_note(note_text)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as exc:
            raise WitnessRefusal(400, f"not a checkpoint: {exc}") from exc
        key = self.logs.get(checkpoint.origin)
        if key is None:
            raise WitnessRefusal(404, f"unknown log origin {checkpoint.origin!r}")
        try:
            open_note(note, [key])
        except UntrustedNoteError as exc:
            raise WitnessRefusal(403, str(exc)) from exc
        except NoteError as exc:
            raise WitnessRefusal(403, str(exc)) from exc
        if old_size > checkpoint.size:
            raise WitnessRefusal(400, f"old size {old_size} is above {checkpoint.size}")
        with self._locked(checkpoint.origin):
            return self._check_and_cosign(checkpoint, note_text, old_size, proof)

    def _check_and_cosign(
        self, checkpoint: Checkpoint, note_text: str, old_size: int, proof: list[bytes]
    ) -> str:
        origin = checkpoint.origin
        held = self.state(origin) or WitnessState(0, merkle.EMPTY_ROOT, "")
        if held.halted:
            raise WitnessRefusal(409, f"witness halted for {origin}: {held.halted}")
        if old_size != held.size:
            raise WitnessRefusal(
                409,
                f"old size {old_size} is not the size this witness holds ({held.size})",
                f"{held.size}\n",
            )
        why = _inconsistency(held, checkpoint, proof)
        if why is not None:
            if held.note:
                self._keep_evidence(origin, held, note_text, why)
            raise WitnessRefusal(422 if "proof" in why else 409, f"refused {origin}: {why}")
        self._store(origin, WitnessState(checkpoint.size, checkpoint.root_hash, note_text))
        return self.signer.sign(checkpoint.text(), timestamp=int(self._clock())).line()


def _inconsistency(held: WitnessState, new: Checkpoint, proof: list[bytes]) -> str | None:
    """Why ``new`` cannot extend what the witness holds (None: it does)."""
    if held.size == new.size:
        if held.root_hash != new.root_hash:
            return (
                f"split view: two checkpoints of size {new.size} with roots "
                f"{held.root_hash.hex()} and {new.root_hash.hex()}"
            )
        return None
    if held.size == 0:
        return None if not proof else "a consistency proof from size 0 must be empty"
    try:
        merkle.verify_consistency(held.size, new.size, held.root_hash, new.root_hash, proof)
    except merkle.MerkleError as exc:
        return f"consistency proof from size {held.size} to {new.size} fails: {exc}"
    return None


__all__ = [
    "SIZE_CONTENT_TYPE",
    "Witness",
    "WitnessRefusal",
    "WitnessState",
    "request_body",
]
