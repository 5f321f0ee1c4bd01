"""The typer commands ``verify-model`` and ``reproduce-eval`` (``governance.audit_cli`` adds them).

Only argument handling and output live here: the checks are in
:mod:`governance.audit_models.verify_model` and :mod:`governance.audit_models.reproduce_eval`,
so they can be called (and tested) without the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from governance.audit_models.render import emit
from governance.audit_models.report import ModelReport
from governance.audit_models.reproduce_eval import reproduce_evaluation
from governance.audit_models.sources import (
    ModelAuditInputError,
    bundle_entries,
    entry_payload,
    load_export,
    model_directory,
    open_export,
)
from governance.audit_models.verify_model import find_publication, verify_model
from governance.translog import BundleFormatError
from governance.translog.anchors import load_anchors
from kernel.cli import JsonOpt

ExportOpt = Annotated[
    Path | None, typer.Option("--export", help="Portal export: zip or unpacked directory.")
]
PortalOpt = Annotated[
    str | None, typer.Option("--portal", help="Portal base URL; its /api/export is fetched.")
]
LogKeyOpt = Annotated[
    str | None,
    typer.Option("--log-key", help="The log's verifier key (or a file): pins the bundle's signer."),
]
AnchorsOpt = Annotated[
    Path | None, typer.Option("--anchors", help="Anchors file (gcdt-anchors/1 JSON).")
]
VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Model version (default: latest published).")
]


def _run(
    model_id: str,
    export: Path | None,
    portal: str | None,
    version: str | None,
    as_json: bool,
    title: str,
    body: Any,
    strict: bool = False,
    reproduced: bool = False,
) -> None:
    report = ModelReport(model_id, version)
    try:
        with open_export(export, portal) as directory:
            bundle, manifest = load_export(directory)
            model_dir, version = model_directory(directory, manifest, model_id, version)
            report = body(bundle, model_dir, version)
    except (ModelAuditInputError, BundleFormatError) as exc:
        problem = {"code": "input-unreadable", "where": "", "message": str(exc)}
        emit(
            {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
            as_json=as_json,
            title=title,
        )
        return
    data = report.to_json(strict)
    if not reproduced:
        data["unattested_allowed"] = not strict
    if strict:
        data["problems"] = data["problems"] + [
            {"code": "unchecked", "where": "", "message": m} for m in report.unchecked
        ]
    if data["ok"] and reproduced:
        data["summary"] = (
            f"model {model_id} {report.version} ({report.content_hash}, log entry "
            f"{report.entry_index}): every published evaluation number was reproduced on the "
            "published evaluation set"
        )
    elif data["ok"]:
        data["summary"] = (
            f"model {model_id} {report.version} ({report.content_hash}) is published at log "
            f"entry {report.entry_index}; rounds {report.rounds} attested by "
            f"{report.signers} (t = {report.t}); log key {report.log_key}"
            + ("" if report.pinned else " (UNPINNED: the bundle's own claim; give --anchors)")
        )
        if report.unchecked:
            data["summary"] = (
                "INSPECTED WITHOUT SIGNED ATTESTATIONS (--allow-unattested): "
                + data["summary"]
                + "; UNCHECKED: "
                + "; ".join(report.unchecked)
            )
    else:
        first = data["problems"][0]
        data["summary"] = (
            f"{len(data['problems'])} problem(s); first: {first['code']} at "
            f"{first['where']}: {first['message']}"
        )
    emit(data, as_json=as_json, title=title)


def verify_model_cmd(
    model_id: Annotated[str, typer.Argument(help="Published model id.")],
    export: ExportOpt = None,
    portal: PortalOpt = None,
    version: VersionOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict/--allow-unattested",
            help="--strict (the default) fails a publication whose signed attestations cannot "
            "be re-checked; --allow-unattested inspects it anyway and says so in the output.",
        ),
    ] = True,
    log_key: LogKeyOpt = None,
    anchors: AnchorsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a published model: weights hash in the log, t attestations, card claims, and
    weights recomputed bit for bit from the attested aggregates by the published update rule.
    """
    pinned = None
    if log_key or anchors:
        try:
            pinned = load_anchors(anchors_file=anchors, log_key=log_key)
        except BundleFormatError as exc:
            problem = {"code": "input-unreadable", "where": "", "message": str(exc)}
            emit(
                {"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
                as_json=as_json,
                title=f"model {model_id}",
            )

    def body(bundle: dict[str, Any], model_dir: Path, v: str) -> ModelReport:
        return verify_model(bundle, model_dir, model_id, v, pinned)

    _run(model_id, export, portal, version, as_json, f"model {model_id}", body, strict)


def reproduce_eval_cmd(
    model_id: Annotated[str, typer.Argument(help="Published model id.")],
    export: ExportOpt = None,
    portal: PortalOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-run a published model's evaluation on its published evaluation set and compare."""

    def body(bundle: dict[str, Any], model_dir: Path, v: str) -> ModelReport:
        report = ModelReport(model_id, v)
        entries = bundle_entries(bundle)
        pub = find_publication(entries, report, v)
        reproduce_evaluation(model_dir, report)
        if pub is not None:
            report.entry_index = int(pub["index"])
            report.content_hash = str(entry_payload(pub).get("content_hash"))
            from open_models.errors import OpenModelsError
            from open_models.published import PublishedModel

            try:
                actual = PublishedModel.load(model_dir).content_hash
            except OpenModelsError:
                actual = None
            if actual is not None and actual != report.content_hash:
                report.fail(
                    "hash-not-logged",
                    f"entry {pub['index']}",
                    f"the files hash to {actual}, the log published {report.content_hash}",
                )
        return report

    _run(
        model_id,
        export,
        portal,
        version,
        as_json,
        f"evaluation of {model_id}",
        body,
        reproduced=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``verify-model`` and ``reproduce-eval`` to ``gcdt-audit`` (the app imports this module,
    never the reverse).
    """
    app.command("verify-model")(verify_model_cmd)
    app.command("reproduce-eval")(reproduce_eval_cmd)
