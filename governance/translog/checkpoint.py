"""C2SP checkpoints (``c2sp.org/tlog-checkpoint``) and offline proofs (``c2sp.org/tlog-proof@v1``).

A checkpoint body is exactly three lines: origin, tree size, base64 root hash. We write no
extension lines (the spec calls them "NOT RECOMMENDED, as they are not auditable") and
refuse any in what we read, so the operator cannot slip unaudited claims into a signed
head. Time is not in the body: witnesses state it in their timestamped cosignatures.

A ``.tlog-proof`` file is a checkpoint plus an index and an RFC 6962 inclusion proof; we put
the entry's leaf bytes in the ``extra`` line so the file is self-contained (``extra`` is
unauthenticated by the format, but the leaf is authenticated by the inclusion proof).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from governance.translog import merkle
from governance.translog.note import NoteError, b64, b64decode, check_key_name

PROOF_HEADER = "c2sp.org/tlog-proof@v1"  # tlog-proof "Format": the first line
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")  # tlog-checkpoint: "no leading zeroes"


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise NoteError(f"{what} {text!r} is not a decimal without leading zeroes")
    return int(text)


def _hash(text: str, what: str) -> bytes:
    value = b64decode(text, what)
    if len(value) != merkle.HASH_SIZE:
        raise NoteError(f"{what} must be a 32-byte SHA-256 hash, got {len(value)} bytes")
    return value


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root_hash)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The body of a checkpoint note (without signatures); extension lines are refused."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) != 3:
            raise NoteError(
                f"checkpoint has {len(lines)} lines, expected exactly 3 "
                "(origin, size, root; no extension lines)"
            )
        origin, size, root = lines
        check_key_name(origin)
        return cls(origin, _decimal(size, "checkpoint size"), _hash(root, "checkpoint root"))


@dataclass(frozen=True)
class TlogProof:
    """A parsed ``c2sp.org/tlog-proof@v1`` file; the checkpoint note stays verbatim."""

    index: int
    path: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None

    def __str__(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64(h) for h in self.path)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, data: str) -> TlogProof:
        head, sep, note = data.partition("\n\n")
        if not sep:
            raise NoteError("tlog-proof has no blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != PROOF_HEADER:
            raise NoteError(f"tlog-proof must start with {PROOF_HEADER!r}, got {lines[0]!r}")
        extra = None
        rest: Sequence[str] = lines[1:]
        if rest and rest[0].startswith("extra "):
            extra = b64decode(rest[0][len("extra ") :], "tlog-proof extra")
            rest = rest[1:]
        if not rest or not rest[0].startswith("index "):
            raise NoteError("tlog-proof has no 'index <n>' line")
        index = _decimal(rest[0][len("index ") :], "tlog-proof index")
        path = [_hash(line, f"tlog-proof hash {i}") for i, line in enumerate(rest[1:])]
        return cls(index, path, note, extra)


__all__ = ["PROOF_HEADER", "Checkpoint", "TlogProof"]
