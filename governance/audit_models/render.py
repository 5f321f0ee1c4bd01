"""How every ``gcdt-audit`` verb shows its result and picks its exit code.

Kept apart from the app (``governance.audit_cli``) so the verbs that live beside their
checks (``.verbs``) render exactly as the app's own verbs without importing the app back.

Exit codes: 0 verified, 1 verification failed, 2 input unreadable or malformed.
"""

from __future__ import annotations

import json
from typing import Any, Final

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNREADABLE: Final = 2


def emit(result: dict[str, Any], *, as_json: bool, title: str) -> None:
    """Render ``result`` (keys ``ok``, ``summary``, ``problems``, plus details) and exit."""
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
    else:
        console = Console(stderr=not result["ok"], highlight=False, soft_wrap=True)
        if result["ok"]:
            console.print(f"[bold green]OK[/] {title}: {result['summary']}")
        else:
            console.print(f"[bold red]FAILED[/] {title}: {result['summary']}")
            table = Table("check", "where", show_lines=True)
            table.add_column("problem", overflow="fold")
            for p in result["problems"]:
                table.add_row(p["code"], p.get("where") or "", p["message"])
            console.print(table)
    if result.get("unreadable"):
        raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(EXIT_OK if result["ok"] else EXIT_FAILED)
