"""The published evaluation-set format: the one definition its writers and its auditor share.

A model card's evaluation must be recomputable by anyone and never touch node data, so it
runs on a synthetic set published beside the model. Three parties handle the same bytes:
the node generates them from a seed (``gcdt-node evaluation-set``), the coordinator pins
them in the card and publishes them, the auditor re-runs the evaluation on them
(``gcdt-audit reproduce-eval``). A byte of difference between their ideas of the format
would make an honest card fail its audit, so the format lives here, in the one package
all three may import (layers: kernel < open_models < governance < parties).

The file (:data:`EVALUATION_SET_FILE`) is RFC 8785 canonical JSON
``{"format", "seed", "generator", "records", "truth"}`` (:func:`evaluation_set_bytes`);
the card pins it as ``card["evaluation"]["dataset"] = {"file", "sha256", "seed",
"generator", "method", "description"}`` (:meth:`EvaluationSet.dataset`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import rfc8785

from open_models.contract import FLOAT_COLUMNS
from open_models.errors import EvaluationSetError

EVALUATION_SET_FORMAT: Final = "gcdt-evaluation-set/1"
EVALUATION_SET_FILE: Final = "evaluation_set.json"
#: The method name a card's evaluation gives the published model (and the auditor assumes
#: when the card names none).
MODEL_METHOD: Final = "model"


def evaluation_set_bytes(
    records: pd.DataFrame, truth: pd.DataFrame, *, seed: int | None, generator: str
) -> bytes:
    """Canonical bytes of a synthetic evaluation set (records + the generator's truth)."""

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {str(k): json_value(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]

    document = {
        "format": EVALUATION_SET_FORMAT,
        "seed": seed,
        "generator": generator,
        "records": rows(records.reset_index(drop=True)),
        "truth": rows(truth[["record_id", "true_direct_tco2e"]].reset_index(drop=True)),
    }
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EvaluationSetError(f"evaluation set is not canonicalisable JSON: {exc}") from exc


def json_value(value: Any) -> Any:
    """A cell as JSON has it: numpy scalars plain, NaN/inf and pandas' missing as None
    (RFC 8785 has no NaN, and an auditor compares the JSON, not the frame)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def read_evaluation_set(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, truth) of :func:`evaluation_set_bytes` output, with float columns as floats."""
    doc = _document(data)
    records = pd.DataFrame.from_records(doc.get("records") or [])
    truth = pd.DataFrame.from_records(doc.get("truth") or [])
    for column in FLOAT_COLUMNS:
        if column in records:
            records[column] = pd.to_numeric(records[column], errors="coerce").astype(float)
    if "true_direct_tco2e" in truth:
        truth["true_direct_tco2e"] = truth["true_direct_tco2e"].astype(float)
    return records, truth


def _document(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvaluationSetError(f"evaluation set is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != EVALUATION_SET_FORMAT:
        raise EvaluationSetError(f"evaluation set format is not {EVALUATION_SET_FORMAT!r}")
    return doc


@dataclass(frozen=True)
class EvaluationSet:
    """A published synthetic evaluation set: its bytes and what the card says about it."""

    data: bytes
    seed: int | None
    generator: str

    @classmethod
    def read(cls, path: Path) -> EvaluationSet:
        """The set in ``path``, refused whole if unreadable or not in this format."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EvaluationSetError(f"evaluation set {path}: cannot read: {exc}") from exc
        return cls.from_bytes(data, path)

    @classmethod
    def from_bytes(cls, data: bytes, where: Path | str = "evaluation set") -> EvaluationSet:
        try:
            read_evaluation_set(data)  # refuse now what the evaluation could not run on
            doc = _document(data)
        except ValueError as exc:  # EvaluationSetError, or a frame pandas cannot build
            raise EvaluationSetError(f"evaluation set {where}: {exc}") from exc
        seed = doc.get("seed")
        return cls(data, seed if isinstance(seed, int) else None, str(doc.get("generator")))

    def dataset(self) -> dict[str, Any]:
        """The card's ``evaluation.dataset``: what pins these bytes and says how to remake them."""
        return {
            "file": EVALUATION_SET_FILE,
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "seed": self.seed,
            "generator": self.generator,
            "method": MODEL_METHOD,
            "description": "synthetic facilities from the node data generator, never node "
            "data; regenerate from the seed to check the bytes",
        }


__all__ = [
    "EVALUATION_SET_FILE",
    "EVALUATION_SET_FORMAT",
    "MODEL_METHOD",
    "EvaluationSet",
    "evaluation_set_bytes",
    "json_value",
    "read_evaluation_set",
]
