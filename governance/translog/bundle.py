"""Reading an exported log bundle into what the checks of :mod:`.verify` run on.

Kept apart from the checks because its failures differ in kind: a bundle that cannot be
parsed is unusable as a whole (:class:`BundleFormatError`, exit 2), while a parsed bundle
that fails a check is evidence about the log (a :class:`.verify.LogProblem`, exit 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.translog import merkle
from governance.translog.errors import BundleFormatError
from governance.translog.log import BUNDLE_FORMAT
from governance.translog.note import NoteError, VerifierKey
from governance.translog.records import KIND_PATTERN, LogEntry, canonical


def load_bundle(path: Path) -> dict[str, Any]:
    """The file as a JSON object; :func:`parse_bundle` checks what is in it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleFormatError(f"{path}: not a readable JSON log bundle: {exc}") from exc
    if not isinstance(data, dict):
        raise BundleFormatError(f"{path}: a log bundle is a JSON object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class RawHead:
    """A bundle's tree head as shipped: its checkpoint note is the only signed part; the
    JSON ``tree_size``/``root_hash`` beside it are conveniences the verifier compares."""

    note: str
    tree_size: int | None
    root_hash: bytes | None


@dataclass(frozen=True)
class ParsedBundle:
    """What the checks run on: the bundle's header, entries and tree heads."""

    log_id: str
    origin: str
    claimed_key: VerifierKey  # the operator's claim; a pinned key overrides it
    entries: list[LogEntry]
    heads: list[RawHead]


def parse_bundle(bundle: Mapping[str, Any]) -> ParsedBundle:
    """The bundle as the checks need it; a bundle unusable as a whole raises here."""
    fmt = _field(bundle, "format", str, "bundle")
    if fmt != BUNDLE_FORMAT:
        raise BundleFormatError(f"bundle.format is {fmt!r}, expected {BUNDLE_FORMAT!r}")
    algorithm = bundle.get("hash_algorithm", "sha256")
    if algorithm != "sha256":
        raise BundleFormatError(f"bundle.hash_algorithm {algorithm!r} is not supported")
    log_id = _field(bundle, "log_id", str, "bundle")
    origin = _field(bundle, "origin", str, "bundle")
    try:
        claimed = VerifierKey.parse(_field(bundle, "log_vkey", str, "bundle"))
    except NoteError as exc:
        raise BundleFormatError(f"bundle.log_vkey is not a verifier key: {exc}") from exc
    raw_entries = _field(bundle, "entries", list, "bundle")
    raw_heads = _field(bundle, "tree_heads", list, "bundle")
    entries = [_parse_entry(raw, i)[0] for i, raw in enumerate(raw_entries)]
    heads = [_parse_head(raw, i) for i, raw in enumerate(raw_heads)]
    return ParsedBundle(log_id, origin, claimed, entries, heads)


def _field(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise BundleFormatError(f"{where}.{key} is missing")
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise BundleFormatError(f"{where}.{key} must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise BundleFormatError(f"{where}.{key} must be {kind.__name__}, got {value!r}")
    return value


def _hex(obj: Mapping[str, Any], key: str, where: str, length: int | None = None) -> bytes:
    text = _field(obj, key, str, where)
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise BundleFormatError(f"{where}.{key} is not hex: {text!r}") from None
    if length is not None and len(value) != length:
        raise BundleFormatError(f"{where}.{key} must be {length} bytes, got {len(value)}")
    return value


def _parse_entry(raw: Any, position: int) -> tuple[LogEntry, Any]:
    where = f"entries[{position}]"
    if not isinstance(raw, Mapping):
        raise BundleFormatError(f"{where} must be an object")
    index = _field(raw, "index", int, where)
    kind = _field(raw, "kind", str, where)
    if not KIND_PATTERN.fullmatch(kind):
        raise BundleFormatError(f"{where}.kind {kind!r} is not a valid entry kind")
    if "payload" not in raw:
        raise BundleFormatError(f"{where}.payload is missing")
    payload = raw["payload"]
    entry = LogEntry(
        index=index,
        kind=kind,
        timestamp_ms=_field(raw, "timestamp_ms", int, where),
        payload_bytes=canonical(payload, f"{where}.payload"),
        leaf_hash=_hex(raw, "leaf_hash", where, merkle.HASH_SIZE),
    )
    return entry, payload


def _parse_head(raw: Any, position: int) -> RawHead:
    where = f"tree_heads[{position}]"
    if not isinstance(raw, Mapping):
        raise BundleFormatError(f"{where} must be an object")
    size = _field(raw, "tree_size", int, where) if "tree_size" in raw else None
    root = _hex(raw, "root_hash", where, merkle.HASH_SIZE) if "root_hash" in raw else None
    return RawHead(_field(raw, "checkpoint", str, where), size, root)
