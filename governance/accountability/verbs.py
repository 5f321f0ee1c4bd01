"""The typer command ``verify-register`` (``governance.audit_cli`` adds it to ``gcdt-audit``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.accountability.errors import RegisterFormatError
from governance.accountability.verify import check_export, read_export
from governance.audit_models.render import emit

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
HeadOpt = Annotated[
    str | None,
    typer.Option(
        "--head",
        help="An entry_hash obtained earlier (a previous export, a published value); the "
        "export must contain it, which proves every entry up to it unchanged.",
    ),
]


def verify_register_cmd(
    export: Annotated[
        Path, typer.Argument(help="Register export: JSON lines from GET /operator/register.")
    ],
    head: HeadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify an exported accountability register offline: its SHA-256 hash chain.

    Checks that every entry chains to the one before it from the genesis value
    (prev_hash) and that its entry_hash is SHA-256(prev_hash || RFC 8785 JSON of its
    fields: asked_at, asked_by, model id, version and hash, input hash, output), so an
    edited, inserted, removed or reordered entry is found. Entries are not signed: a
    wholly rewritten chain, or one whose newest entries were dropped, is found only
    with --head.
    """
    try:
        result = check_export(read_export(export), head)
    except RegisterFormatError as exc:
        problem = {"code": "export-malformed", "where": "", "message": str(exc)}
        emit(
            {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
            as_json=as_json,
            title=str(export),
        )
        return
    data = result.to_json()
    if result.ok:
        pinned = f"; contains the pinned head {head}" if head is not None else ""
        data["summary"] = f"{result.entries} entries, hash chain intact, head {result.head}{pinned}"
    else:
        first = result.problems[0]
        data["summary"] = f"{first['code']}: {first['message']}"
    emit(data, as_json=as_json, title=str(export))


def register(app: typer.Typer) -> None:
    """Add the verb to ``gcdt-audit`` (the app imports this module, never the reverse)."""
    app.command("verify-register")(verify_register_cmd)
