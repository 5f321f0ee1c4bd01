"""The node's exception hierarchy.

Callers (CLI, API) catch :class:`NodeError` and show its message; anything else is a
bug. Foreign exceptions (pandas, pyarrow, SQLAlchemy) are translated where they enter.

- ``NodeError``
  - ``IngestError``: a file was rejected; ``.problems`` names every bad row/column.
  - ``StoreError``: the local store failed or is unreachable.
  - ``RecordNotFoundError``: no such record (or version) for this tenant.
  - ``NodeSetupError``: the node's home or trust set-up is missing, inconsistent or refused.
  - ``GenerateError``: bad arguments to the demo-data generator (trust_node.generate).
"""

from __future__ import annotations

from dataclasses import dataclass


class NodeError(Exception):
    """Base of every error the node reports to a user."""


@dataclass(frozen=True, order=True)
class IngestProblem:
    """One reason a file was rejected.

    ``row`` is the 1-based position of the data record in the file (the first record
    after a CSV header is row 1; CSV errors also carry the file line); ``None`` for a
    problem with the file or a whole column.
    """

    row: int | None
    column: str | None
    reason: str
    value: str | None = None

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        place = ", ".join(where) if where else "file"
        got = f" (got {self.value!r})" if self.value is not None else ""
        return f"{place}: {self.reason}{got}"


class IngestError(NodeError):
    """A file failed validation; nothing of it was stored."""

    def __init__(self, source: str, problems: list[IngestProblem], *, shown: int = 50) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or "", p.reason))
        lines = [p.describe() for p in self.problems[:shown]]
        more = len(self.problems) - shown
        if more > 0:
            lines.append(f"... and {more} more problem(s)")
        rows = len({p.row for p in self.problems if p.row is not None})
        head = f"{source}: rejected, nothing stored: {len(self.problems)} problem(s)"
        head += f" in {rows} row(s)" if rows else ""
        super().__init__(head + "\n  " + "\n  ".join(lines))


class StoreError(NodeError):
    """The local store could not complete an operation."""


class RecordNotFoundError(NodeError):
    """The record (or the asked-for version) does not exist for this tenant."""


class NodeSetupError(NodeError):
    """The node's home or trust set-up is missing, inconsistent or refused (names the file)."""
