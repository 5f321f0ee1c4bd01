"""The auditor's trust anchors: keys obtained out of band, never read from a bundle.

An anchors file is JSON the auditor keeps::

    {"format": "gcdt-anchors/1",
     "log": "gcdt/coordinator+1a2b3c4d+AU...",          # the log's verifier key (vkey)
     "witnesses": ["gcdt-witness/node-de+.. +BA..."],   # cosignature vkeys (type 0x04)
     "quorum": 2}

Command-line keys (``--log-key``, ``--witness-key``, ``--quorum``) override the file. A key
may be given as the vkey string itself or as a file holding it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from governance.translog.errors import BundleFormatError
from governance.translog.note import NoteError, VerifierKey
from governance.translog.verify import Anchors

ANCHORS_FORMAT = "gcdt-anchors/1"


def _text(value: str, what: str) -> str:
    """``value`` itself, or the content of the file it names."""
    path = Path(value)
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleFormatError(f"{what}: cannot read {path}: {exc}") from exc
    return value.strip()


def parse_key(value: str, what: str) -> VerifierKey:
    """A vkey given inline or as a file; a bad one is unreadable input (exit 2)."""
    try:
        return VerifierKey.parse(_text(value, what))
    except NoteError as exc:
        raise BundleFormatError(f"{what}: {exc}") from exc


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleFormatError(f"{path}: not a readable anchors file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != ANCHORS_FORMAT:
        raise BundleFormatError(f"{path}: not a {ANCHORS_FORMAT} anchors file")
    return data


def load_anchors(
    *,
    anchors_file: Path | None = None,
    log_key: str | None = None,
    witness_keys: Sequence[str] = (),
    quorum: int | None = None,
    since: Path | None = None,
) -> Anchors:
    """Anchors from the file and options; a log key is required (an audit pins the log)."""
    data = _read_file(anchors_file) if anchors_file is not None else {}
    log_text = log_key or data.get("log")
    if not isinstance(log_text, str):
        raise BundleFormatError(
            "no pinned log key: give --log-key VKEY (or --anchors FILE); an audit never "
            "trusts the key a bundle names for itself"
        )
    raw_witnesses = list(witness_keys) or list(data.get("witnesses") or [])
    witnesses = [parse_key(str(w), f"witness key {i}") for i, w in enumerate(raw_witnesses)]
    count = quorum if quorum is not None else data.get("quorum", 0)
    if not isinstance(count, int) or not 0 <= count <= len(witnesses):
        raise BundleFormatError(f"quorum {count!r} must be between 0 and {len(witnesses)}")
    since_note = None
    if since is not None:
        try:
            since_note = since.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleFormatError(f"--since {since}: {exc}") from exc
    return Anchors(parse_key(log_text, "log key"), since_note, tuple(witnesses), count)


def anchors_json(log_key: VerifierKey, witnesses: Sequence[VerifierKey], quorum: int) -> str:
    """An anchors file's text (what the demo writes and an auditor keeps)."""
    body = {
        "format": ANCHORS_FORMAT,
        "log": str(log_key),
        "witnesses": [str(w) for w in witnesses],
        "quorum": quorum,
    }
    return json.dumps(body, indent=1) + "\n"


__all__ = ["ANCHORS_FORMAT", "anchors_json", "load_anchors", "parse_key"]
