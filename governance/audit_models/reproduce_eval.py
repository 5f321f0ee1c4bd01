"""``reproduce-eval`` and the published evaluation-set format it runs on.

**Evaluation-set format** (what a publisher writes beside ``model.json``; the card pins it):
``card["evaluation"]["dataset"] = {"file": "evaluation_set.json", "sha256": <hex>, "seed",
"generator", "description", "method"}`` and the file is :func:`evaluation_set_bytes`.
Publishers (the coordinator, ``gcdt-node evaluation-set``) import the format from here, so
writer and auditor share one definition.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from governance.audit_models.report import ModelReport
from governance.audit_models.sources import ModelAuditInputError, load_model
from governance.translog.records import canonical

EVALUATION_SET_FORMAT: Final = "gcdt-evaluation-set/1"
EVALUATION_SET_FILE: Final = "evaluation_set.json"
#: Published evaluation numbers are floats computed by the same code: they must agree to
#: float round-off (JSON keeps 17 significant digits), so the tolerance is tight.
EVAL_RTOL: Final = 1e-9
EVAL_ATOL: Final = 1e-12


def evaluation_set_bytes(
    records: pd.DataFrame, truth: pd.DataFrame, *, seed: int | None, generator: str
) -> bytes:
    """Canonical bytes of a synthetic evaluation set (records + the generator's truth)."""

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = []
        for row in frame.to_dict(orient="records"):
            out.append({str(k): _plain(v) for k, v in row.items()})
        return out

    return canonical(
        {
            "format": EVALUATION_SET_FORMAT,
            "seed": seed,
            "generator": generator,
            "records": rows(records.reset_index(drop=True)),
            "truth": rows(truth[["record_id", "true_direct_tco2e"]].reset_index(drop=True)),
        },
        "evaluation set",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def read_evaluation_set(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, truth) of :func:`evaluation_set_bytes` output, with float columns as floats."""
    from open_models.contract import FLOAT_COLUMNS

    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelAuditInputError(f"evaluation set is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != EVALUATION_SET_FORMAT:
        raise ModelAuditInputError(f"evaluation set format is not {EVALUATION_SET_FORMAT!r}")
    records = pd.DataFrame.from_records(doc.get("records") or [])
    truth = pd.DataFrame.from_records(doc.get("truth") or [])
    for column in FLOAT_COLUMNS:
        if column in records:
            records[column] = pd.to_numeric(records[column], errors="coerce").astype(float)
    if "true_direct_tco2e" in truth:
        truth["true_direct_tco2e"] = truth["true_direct_tco2e"].astype(float)
    return records, truth


def reproduce_evaluation(model_dir: Path, report: ModelReport) -> dict[str, Any] | None:
    """Re-run the card's evaluation on its published evaluation set; problems into report."""
    from open_models.evaluation import baseline_estimates, evaluate

    model, _ = load_model(model_dir, report)
    if model is None:
        return None
    evaluation = model.card.get("evaluation")
    dataset = evaluation.get("dataset") if isinstance(evaluation, dict) else None
    if not isinstance(dataset, dict) or not isinstance(dataset.get("file"), str):
        report.fail(
            "no-evaluation-set",
            "card.evaluation.dataset",
            "the card names no published evaluation set",
        )
        return None
    name = dataset["file"]
    path = model_dir / name
    if Path(name).name != name or not path.is_file():
        report.fail("no-evaluation-set", name, "the evaluation set file is not published")
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != dataset.get("sha256"):
        report.fail(
            "evaluation-set-hash",
            name,
            f"file hashes to {digest}, the card pins {dataset.get('sha256')}",
        )
        return None
    records, truth = read_evaluation_set(data)
    method = str(dataset.get("method") or "model")
    predicted = model.predict(records)
    estimates = {
        method: predicted["estimate_direct_tco2e"].to_numpy(dtype=float),
        **baseline_estimates(records),
    }
    interval = (
        predicted["estimate_low_tco2e"].to_numpy(dtype=float),
        predicted["estimate_high_tco2e"].to_numpy(dtype=float),
    )
    recomputed = evaluate(records, truth, estimates, model=method, interval=interval)
    published = {k: v for k, v in evaluation.items() if k != "dataset"}
    _compare(
        published, json.loads(json.dumps(recomputed, default=_plain_json)), "evaluation", report
    )
    return recomputed


def _plain_json(value: Any) -> Any:
    return _plain(value)


def _compare(published: Any, recomputed: Any, where: str, report: ModelReport) -> None:
    if isinstance(published, dict):
        if not isinstance(recomputed, dict):
            report.fail("evaluation-mismatch", where, "published an object, recomputed a value")
            return
        for key, value in published.items():
            if key not in recomputed:
                report.fail(
                    "evaluation-unreproducible",
                    f"{where}.{key}",
                    "published but not produced by the evaluation",
                )
                continue
            _compare(value, recomputed[key], f"{where}.{key}", report)
        return
    if isinstance(published, list):
        if not isinstance(recomputed, list) or len(published) != len(recomputed):
            report.fail("evaluation-mismatch", where, "lists differ in length")
            return
        for i, (a, b) in enumerate(zip(published, recomputed, strict=True)):
            _compare(a, b, f"{where}[{i}]", report)
        return
    a, b = _as_number(published), _as_number(recomputed)
    if a is not None or b is not None:
        same = (a is None and b is None) or (
            a is not None
            and b is not None
            and (
                (math.isnan(a) and math.isnan(b))
                or math.isclose(a, b, rel_tol=EVAL_RTOL, abs_tol=EVAL_ATOL)
            )
        )
        if not same:
            report.fail(
                "evaluation-mismatch", where, f"published {published!r}, recomputed {recomputed!r}"
            )
    elif published != recomputed:
        report.fail(
            "evaluation-mismatch", where, f"published {published!r}, recomputed {recomputed!r}"
        )


def _as_number(value: Any) -> float | None:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
