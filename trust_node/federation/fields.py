"""Typed reads of a coordinator message's ConfigRecord fields.

A ConfigRecord value may be any of Flower's scalar or list types; the node takes only
the type the protocol names and refuses anything else with the field's name.
"""

from __future__ import annotations

from flwr.app import ConfigRecord

from trust_node.federation.errors import RoundMessageError

_MISSING = object()


def _get(record: ConfigRecord, name: str, default: object) -> object:
    value = record.get(name, default)
    if value is _MISSING:
        raise RoundMessageError(f"coordinator message lacks field {name!r}")
    return value


def get_int(record: ConfigRecord, name: str, default: object = _MISSING) -> int:
    """An integer field; a float with a whole value passes, a bool never does."""
    value = _get(record, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise RoundMessageError(f"field {name!r} must be an integer, got {value!r}")
    return int(value)


def get_float(record: ConfigRecord, name: str, default: object = _MISSING) -> float:
    """A numeric field as float; booleans are refused although Python calls them ints."""
    value = _get(record, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoundMessageError(f"field {name!r} must be a number, got {value!r}")
    return float(value)


def get_str(record: ConfigRecord, name: str, default: object = _MISSING) -> str:
    """A text field."""
    value = _get(record, name, default)
    if not isinstance(value, str):
        raise RoundMessageError(f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def get_bytes(record: ConfigRecord, name: str) -> bytes:
    """A bytes field; it has no default, as every bytes field the protocol names is required."""
    value = _get(record, name, _MISSING)
    if not isinstance(value, bytes):
        raise RoundMessageError(f"field {name!r} must be bytes, got {type(value).__name__}")
    return value
