"""``gcdt-audit``: what an auditor runs, offline, on material the trust published.

One typer app; each verb is a small function that loads its input, calls a pure
verifier, and renders the result with :func:`_emit` (rich for people, ``--json`` for
scripts). Add a verb (``verify-model``, ``verify-benchmark``) by registering another
``@app.command`` that builds a result dict and calls :func:`_emit`.

Exit codes: 0 verified, 1 verification failed, 2 input unreadable or malformed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from governance.translog import BundleFormatError, load_bundle, verify_bundle

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2

app = typer.Typer(
    name="gcdt-audit",
    help="Verify Global Carbon Data Trust publications offline.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Verify Global Carbon Data Trust publications offline (one verb per kind of artefact)."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _emit(result: dict[str, Any], *, as_json: bool, title: str) -> None:
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


def _where(problem: dict[str, Any]) -> str:
    if problem.get("tree_head") is not None:
        return f"tree head #{problem['tree_head']}"
    if problem.get("entry_index") is not None:
        return f"entry {problem['entry_index']} ({problem.get('entry_kind') or '?'})"
    return ""


@app.command("verify-log")
def verify_log(
    bundle: Annotated[Path, typer.Argument(help="Log bundle JSON exported by the operator.")],
    as_json: JsonOption = False,
) -> None:
    """Verify a transparency-log bundle: entries, leaf hashes, signed tree heads, consistency."""
    try:
        report = verify_bundle(load_bundle(bundle))
    except BundleFormatError as exc:
        problem = {"code": "bundle-malformed", "message": str(exc), "where": ""}
        _emit(
            {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
            as_json=as_json,
            title=str(bundle),
        )
        return
    data = report.to_json()
    for p in data["problems"]:
        p["where"] = _where(p)
    if report.ok:
        data["summary"] = (
            f"log {report.log_id!r}: {report.entries} entries, {report.tree_heads} signed "
            f"tree heads, all consistent; latest size {report.tree_size}, "
            f"root {report.root_hash}"
        )
    else:
        first = report.problems[0].message
        data["summary"] = f"{len(report.problems)} problem(s); first: {first}"
    _emit(data, as_json=as_json, title=str(bundle))


@app.command("verify-benchmark")
def verify_benchmark_cmd(
    benchmark_id: Annotated[str, typer.Argument(help="Benchmark id, e.g. bm-3-1a2b3c4d5e6f.")],
    bundle: Annotated[Path, typer.Option("--bundle", help="Log bundle JSON (exported).")],
    as_json: JsonOption = False,
) -> None:
    """Verify a published benchmark: log inclusion, t key-holder attestations, its values."""
    from governance.benchmark_audit import verify_benchmark

    try:
        report = verify_benchmark(load_bundle(bundle), benchmark_id)
    except BundleFormatError as exc:
        problem = {"code": "bundle-malformed", "message": str(exc), "where": ""}
        _emit(
            {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
            as_json=as_json,
            title=benchmark_id,
        )
        return
    data = report.to_json()
    data["problems"] = [{"code": "benchmark", "message": m, "where": ""} for m in report.problems]
    data["summary"] = (
        f"entry {report.entry_index} in signed tree of size {report.tree_size}; attested by "
        f"{', '.join(report.signers)} (t={report.t}); {report.published_cells} cells "
        f"published, {report.suppressed_cells} suppressed"
        if report.ok
        else f"{len(report.problems)} problem(s); first: {report.problems[0]}"
    )
    _emit(data, as_json=as_json, title=benchmark_id)


from governance.audit_models import verbs as model_verbs  # noqa: E402  (issue 8: models)

model_verbs.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
