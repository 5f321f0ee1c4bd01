"""``reproduce-eval``: re-run a model card's evaluation on its published evaluation set.

The evaluation-set format is :mod:`open_models.evaluation_set`, the one definition the
node (which generates the set), the coordinator (which publishes it) and this check share.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Final

import pandas as pd

from governance.audit_models.report import ModelReport
from governance.audit_models.sources import ModelAuditInputError, load_model
from open_models.errors import EvaluationSetError
from open_models.evaluation_set import MODEL_METHOD, json_value, read_evaluation_set

#: Published evaluation numbers are floats computed by the same code: they must agree to
#: float round-off (JSON keeps 17 significant digits), so the tolerance is tight.
EVAL_RTOL: Final = 1e-9
EVAL_ATOL: Final = 1e-12


def _frames(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The set's frames; a set that is not in the format makes the audit input unreadable."""
    try:
        return read_evaluation_set(data)
    except EvaluationSetError as exc:
        raise ModelAuditInputError(str(exc)) from exc


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
    records, truth = _frames(data)
    method = str(dataset.get("method") or MODEL_METHOD)
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
        published, json.loads(json.dumps(recomputed, default=json_value)), "evaluation", report
    )
    return recomputed


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
