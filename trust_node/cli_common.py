"""What every ``gcdt-node`` verb shares: the kit's runner for the node's errors, and the
node's composition root resolved from the common options."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from governance.errors import GovernanceError
from kernel import cli as kit
from trust_node.context import NodeContext
from trust_node.errors import IngestError, NodeError


def _details(exc: BaseException) -> Mapping[str, Any]:
    """Under ``--json`` an ingest error lists every refused cell, not only the first few."""
    if not isinstance(exc, IngestError):
        return {}
    return {
        "problems": [
            {"row": p.row, "column": p.column, "reason": p.reason, "value": p.value}
            for p in exc.problems
        ]
    }


#: Runs a verb; a node error (or a refused signed file) is the operator's to fix, so it
#: ends the command with a message, never a trace.
run = kit.Runner(NodeError, GovernanceError, details=_details)


def node(
    home: Path | None, database_url: str | None = None, *, create: bool = False
) -> NodeContext:
    """The node named by the common options (``create``: make ``GCDT_HOME`` if missing)."""
    return NodeContext(kit.settings(home, database_url, create=create))
