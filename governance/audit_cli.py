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
from governance.translog import Anchors, BundleFormatError, NoteError, load_bundle, verify_bundle
from governance.translog.anchors import load_anchors
from governance.translog.proofs import verify_proof
from kernel.cli import JsonOpt, make_app

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_UNREADABLE", "app", "main"]

app = make_app("gcdt-audit", "Verify Global Carbon Data Trust publications offline.")


@app.callback()
def _root() -> None:
    """Verify Global Carbon Data Trust publications offline (one verb per kind of artefact)."""


def _where(problem: dict[str, Any]) -> str:
    if problem.get("tree_head") is not None:
        return f"checkpoint #{problem['tree_head']}"
    if problem.get("entry_index") is not None:
        return f"entry {problem['entry_index']} ({problem.get('entry_kind') or '?'})"
    return ""


LogKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--log-key",
        help="The log's signed-note verifier key (name+keyid+key), or a file holding it, "
        "obtained out of band: the bundle's own key is never trusted.",
    ),
]
AnchorsOpt = Annotated[
    Path | None, typer.Option("--anchors", help="Anchors file (gcdt-anchors/1 JSON).")
]
WitnessOpt = Annotated[
    list[str] | None,
    typer.Option("--witness-key", help="A pinned witness cosignature vkey (repeatable)."),
]
QuorumOpt = Annotated[
    int | None, typer.Option("--quorum", help="Cosignatures needed on the latest checkpoint.")
]
SinceOpt = Annotated[
    Path | None,
    typer.Option("--since", help="A checkpoint seen earlier: the log must extend it."),
]


def _anchors(
    anchors: Path | None,
    log_key: str | None,
    witnesses: list[str] | None,
    quorum: int | None,
    since: Path | None,
) -> Anchors:
    return load_anchors(
        anchors_file=anchors,
        log_key=log_key,
        witness_keys=witnesses or (),
        quorum=quorum,
        since=since,
    )


def _unreadable(exc: Exception, as_json: bool, title: str) -> None:
    problem = {"code": "bundle-malformed", "message": str(exc), "where": ""}
    emit(
        {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
        as_json=as_json,
        title=title,
    )


@app.command("verify-log")
def verify_log(
    bundle: Annotated[Path, typer.Argument(help="Log bundle JSON exported by the operator.")],
    log_key: LogKeyOpt = None,
    anchors: AnchorsOpt = None,
    witness_key: WitnessOpt = None,
    quorum: QuorumOpt = None,
    since: SinceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a log bundle against pinned keys: entries, leaves, checkpoints, consistency."""
    try:
        pinned = _anchors(anchors, log_key, witness_key, quorum, since)
        report = verify_bundle(load_bundle(bundle), pinned)
    except BundleFormatError as exc:
        _unreadable(exc, as_json, str(bundle))
        return
    data = report.to_json()
    for p in data["problems"]:
        p["where"] = _where(p)
    keys = f"checked against log key {report.log_key}"
    if report.witnesses:
        keys += f", cosigned by {', '.join(report.witnesses)}"
    if report.ok:
        since_text = f"; extends the earlier size {report.since_size}" if since else ""
        data["summary"] = (
            f"log {report.log_id!r}: {report.entries} entries, {report.tree_heads} "
            f"checkpoints, all consistent; latest size {report.tree_size}, "
            f"root {report.root_hash}{since_text}; {keys}"
        )
    else:
        first = report.problems[0].message
        data["summary"] = f"{len(report.problems)} problem(s); first: {first}; {keys}"
    emit(data, as_json=as_json, title=str(bundle))


@app.command("verify-benchmark")
def verify_benchmark_cmd(
    benchmark_id: Annotated[str, typer.Argument(help="Benchmark id, e.g. bm-3-1a2b3c4d5e6f.")],
    bundle: Annotated[Path, typer.Option("--bundle", help="Log bundle JSON (exported).")],
    log_key: LogKeyOpt = None,
    anchors: AnchorsOpt = None,
    witness_key: WitnessOpt = None,
    quorum: QuorumOpt = None,
    since: SinceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a published benchmark: log inclusion, t key-holder attestations, its values."""
    from governance.benchmark_audit import verify_benchmark

    try:
        pinned = _anchors(anchors, log_key, witness_key, quorum, since)
        report = verify_benchmark(load_bundle(bundle), benchmark_id, pinned)
    except BundleFormatError as exc:
        _unreadable(exc, as_json, benchmark_id)
        return
    data = report.to_json()
    data["problems"] = [{"code": "benchmark", "message": m, "where": ""} for m in report.problems]
    data["summary"] = (
        f"entry {report.entry_index} in signed tree of size {report.tree_size}; attested by "
        f"{', '.join(report.signers)} (t={report.t}); {report.published_cells} cells "
        f"published, {report.suppressed_cells} suppressed"
        if report.ok
        else f"{len(report.problems)} problem(s); first: {report.problems[0]}"
    ) + f"; checked against log key {report.log_key}"
    emit(data, as_json=as_json, title=benchmark_id)


@app.command("verify-proof")
def verify_proof_cmd(
    proof: Annotated[Path, typer.Argument(help="A .tlog-proof file (c2sp.org/tlog-proof@v1).")],
    log_key: LogKeyOpt = None,
    anchors: AnchorsOpt = None,
    witness_key: WitnessOpt = None,
    quorum: QuorumOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify one offline proof: pinned log signature, witness quorum, entry inclusion."""
    try:
        pinned = _anchors(anchors, log_key, witness_key, quorum, None)
        report = verify_proof(proof.read_text(encoding="utf-8"), pinned)
    except (BundleFormatError, NoteError, OSError, UnicodeDecodeError) as exc:
        _unreadable(exc, as_json, str(proof))
        return
    data = report.to_json()
    data["problems"] = [{"code": "proof", "message": m, "where": ""} for m in report.problems]
    data["summary"] = (
        f"entry {report.index} ({report.kind}) is in the checkpoint of size {report.tree_size}"
        if report.ok
        else f"{len(report.problems)} problem(s); first: {report.problems[0]}"
    ) + f"; checked against log key {report.log_key}"
    if report.witnesses:
        data["summary"] += f", cosigned by {', '.join(report.witnesses)}"
    emit(data, as_json=as_json, title=str(proof))


model_verbs.register(app)
register_verbs.register(app)


def main() -> None:
    """Entry point of the ``gcdt-audit`` console script."""
    app()


if __name__ == "__main__":
    main()
