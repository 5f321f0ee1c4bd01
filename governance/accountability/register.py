"""The accountability register: one entry per model invocation, written where it happens.

Each entry names the model (id, version, content hash), the SHA-256 of the exact input
given to it (RFC 8785 canonical JSON of the input rows), the output (canonical JSON),
who asked and when. Entries form a SHA-256 hash chain (:mod:`.chain`): the operator
exports them as JSON lines (the node's ``GET /operator/register``), and an auditor runs
``gcdt-audit verify-register`` (:mod:`.verify`) over the export.

It lives in governance, not in the node, because it is an accountability instrument
the design gives the trust: the format an auditor checks must not be the node's to change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import rfc8785
from sqlalchemy import Engine, select

from governance.accountability import chain
from governance.accountability.tables import accountability_entries as table

#: The fields each entry's hash covers (``seq`` is storage order, not content).
HASHED_FIELDS: Final = (
    "asked_at",
    "asked_by",
    "model_id",
    "model_version",
    "model_hash",
    "input_hash",
    "output",
)
WHAT: Final = "accountability register"


@dataclass(frozen=True)
class ModelRef:
    """Which model produced an answer."""

    model_id: str
    version: str
    content_hash: str


def canonical_hash(value: Any) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of ``value`` (NaN must be None already)."""
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


class AccountabilityRegister:
    """The register on one party's database (its table comes from the governance migrations,
    or from the node's handover revision on a node database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        model: ModelRef,
        model_input: Any,
        output: Any,
        *,
        asked_by: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Chain one invocation onto the register before its answer is returned."""
        when = chain.utc(at or datetime.now(UTC))
        output_text = rfc8785.dumps(output).decode("utf-8")
        fields = {
            "asked_at": when,
            "asked_by": asked_by,
            "model_id": model.model_id,
            "model_version": model.version,
            "model_hash": model.content_hash,
            "input_hash": canonical_hash(model_input),
            "output": output_text,
        }
        hashed = {**fields, "asked_at": chain.iso(when)}
        row = chain.append(self.engine, table, fields, hashed)
        return _json({**row, "asked_at": when})

    def entries(self, asked_by: str | None = None) -> Iterator[dict[str, Any]]:
        """Entries in chain order, in their exported (hashed) JSON form."""
        query = select(table).order_by(table.c.seq)
        if asked_by is not None:
            query = query.where(table.c.asked_by == asked_by)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield _json(dict(row))

    def export_jsonl(self) -> Iterator[str]:
        """The export ``gcdt-audit verify-register`` reads: one JSON entry per line."""
        for entry in self.entries():
            yield json.dumps(entry, sort_keys=True) + "\n"


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": int(row["seq"]),
        "asked_at": chain.iso(row["asked_at"]),
        "asked_by": row["asked_by"],
        "model_id": row["model_id"],
        "model_version": row["model_version"],
        "model_hash": row["model_hash"],
        "input_hash": row["input_hash"],
        "output": row["output"],
        "prev_hash": row["prev_hash"],
        "entry_hash": row["entry_hash"],
    }
