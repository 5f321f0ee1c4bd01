"""``gcdt-audit``: what an auditor runs, offline, on material the trust published.

One typer app, built with the kernel's CLI kit (``--json`` as every command has it); each
verb is a small function that loads its input, calls a pure verifier, and renders the
result with ``governance.audit_models.render.emit`` (rich for people, ``--json`` for
scripts). Unlike the parties' commands it keeps three exit codes, because an auditor's
script must tell "the publication is wrong" from "the input is unreadable". Add a verb by
registering another ``@app.command`` that builds a result dict and calls ``emit``.

Exit codes: 0 verified, 1 verification failed, 2 input unreadable or malformed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from governance.accountability import verbs as register_verbs
from governance.audit_models import verbs as model_verbs
from governance.audit_models.render import EXIT_FAILED, EXIT_OK, EXIT_UNREADABLE, emit
from governance.translog import BundleFormatError, load_bundle, verify_bundle
from kernel.cli import JsonOpt, make_app

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_UNREADABLE", "app", "main"]

app = make_app("gcdt-audit", "Verify Global Carbon Data Trust publications offline.")


@app.callback()
def _root() -> None:
    """Verify Global Carbon Data Trust publications offline (one verb per kind of artefact)."""


def _where(problem: dict[str, Any]) -> str:
    if problem.get("tree_head") is not None:
        return f"tree head #{problem['tree_head']}"
    if problem.get("entry_index") is not None:
        return f"entry {problem['entry_index']} ({problem.get('entry_kind') or '?'})"
    return ""


@app.command("verify-log")
def verify_log(
    bundle: Annotated[Path, typer.Argument(help="Log bundle JSON exported by the operator.")],
    as_json: JsonOpt = False,
) -> None:
    """Verify a transparency-log bundle: entries, leaf hashes, signed tree heads, consistency."""
    try:
        report = verify_bundle(load_bundle(bundle))
    except BundleFormatError as exc:
        problem = {"code": "bundle-malformed", "message": str(exc), "where": ""}
        emit(
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
    emit(data, as_json=as_json, title=str(bundle))


@app.command("verify-benchmark")
def verify_benchmark_cmd(
    benchmark_id: Annotated[str, typer.Argument(help="Benchmark id, e.g. bm-3-1a2b3c4d5e6f.")],
    bundle: Annotated[Path, typer.Option("--bundle", help="Log bundle JSON (exported).")],
    as_json: JsonOpt = False,
) -> None:
    """Verify a published benchmark: log inclusion, t key-holder attestations, its values."""
    from governance.benchmark_audit import verify_benchmark

    try:
        report = verify_benchmark(load_bundle(bundle), benchmark_id)
    except BundleFormatError as exc:
        problem = {"code": "bundle-malformed", "message": str(exc), "where": ""}
        emit(
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
    emit(data, as_json=as_json, title=benchmark_id)


model_verbs.register(app)
register_verbs.register(app)


def main() -> None:
    """Entry point of the ``gcdt-audit`` console script."""
    app()


if __name__ == "__main__":
    main()
