"""The published-model format: what the registry stores and a node loads and applies.

A directory with two files: ``weights.safetensors`` (tensors only, no code: loading never
unpickles anything) and ``model.json`` (id, version, feature-encoding spec, weight layout,
interval calibration, model card, content hash). The content hash is SHA-256 over
canonical bytes: RFC 8785 JSON of the metadata (without the hash) and, per tensor in layout
order, its name, dtype, shape and the SHA-256 of its little-endian float64 bytes. It does
not depend on how safetensors lays out its file, and any change to a weight, the encoding
spec, the calibration or the card changes it. ``load`` recomputes it and refuses a mismatch.
The evaluation set a card's evaluation ran on, published beside these files, has its format
in :mod:`open_models.evaluation_set`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import rfc8785
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from open_models.errors import ModelIntegrityError, PublishedModelError, WeightShapeError
from open_models.features import FeatureSpec
from open_models.inference import NOMINAL_COVERAGE, predict_frame
from open_models.network import Layout, check_weights, weight_layout

FORMAT: Final = "gcdt-published-model/1"
WEIGHTS_FILE: Final = "weights.safetensors"
METADATA_FILE: Final = "model.json"


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become None (RFC 8785 has no NaN), numpy scalars plain."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def content_hash(
    metadata: Mapping[str, Any], weights: Mapping[str, np.ndarray], layout: Layout
) -> str:
    """The model's content hash (see the module docstring for what it covers and why)."""
    tensors = []
    for name, shape in layout:
        data = np.ascontiguousarray(np.asarray(weights[name], dtype="<f8"))
        tensors.append([name, "float64", list(shape), hashlib.sha256(data.tobytes()).hexdigest()])
    document: Any = {"metadata": _clean(dict(metadata)), "tensors": tensors}
    canonical = rfc8785.dumps(document)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, eq=False)
class PublishedModel:
    """Weights, encoding spec, calibration and card under one content hash."""

    model_id: str
    version: str
    weights: Mapping[str, np.ndarray] = field(repr=False)
    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    interval_scale: float = 1.0
    nominal_coverage: float = NOMINAL_COVERAGE
    card: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in ("model_id", "version"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > 128:
                raise PublishedModelError(f"{name} must be a non-empty string, got {value!r}")
        if not (math.isfinite(self.interval_scale) and self.interval_scale > 0):
            raise PublishedModelError(f"interval_scale must be > 0, got {self.interval_scale}")
        if not 0 < self.nominal_coverage < 1:
            raise PublishedModelError(
                f"nominal_coverage must be in (0, 1): {self.nominal_coverage}"
            )
        try:
            check_weights(self.weights, self.layout)
        except WeightShapeError as exc:
            raise PublishedModelError(f"weights do not fit the feature spec: {exc}") from exc
        object.__setattr__(self, "card", _clean(dict(self.card)))
        object.__setattr__(
            self, "weights", {k: np.asarray(v, dtype=np.float64) for k, v in self.weights.items()}
        )

    @property
    def layout(self) -> Layout:
        return weight_layout(self.feature_spec)

    def metadata(self) -> dict[str, Any]:
        """Everything but the weights and the hash (what ``model.json`` holds besides it)."""
        return {
            "format": FORMAT,
            "model_id": self.model_id,
            "version": self.version,
            "feature_spec": self.feature_spec.to_dict(),
            "layout": [[name, list(shape)] for name, shape in self.layout],
            "interval": {"nominal": self.nominal_coverage, "scale": self.interval_scale},
            "card": dict(self.card),
        }

    @property
    def content_hash(self) -> str:
        return content_hash(self.metadata(), self.weights, self.layout)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``estimate_direct_tco2e, estimate_low_tco2e, estimate_high_tco2e,
        corrected_direct_tco2e`` (tCO2e), indexed like ``frame``."""
        return predict_frame(
            self.weights,
            self.feature_spec,
            frame,
            interval_scale=self.interval_scale,
            nominal=self.nominal_coverage,
        )

    def save(self, directory: Path | str) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: np.ascontiguousarray(v) for k, v in self.weights.items()},
            str(directory / WEIGHTS_FILE),
        )
        document = {**self.metadata(), "content_hash": self.content_hash}
        (directory / METADATA_FILE).write_text(
            json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
        )
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> PublishedModel:
        directory = Path(directory)
        meta_path, weights_path = directory / METADATA_FILE, directory / WEIGHTS_FILE
        for path in (meta_path, weights_path):
            if not path.is_file():
                raise PublishedModelError(f"{path}: missing (not a published model directory)")
        try:
            document = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PublishedModelError(f"{meta_path}: not valid JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise PublishedModelError(f"{meta_path}: format is not {FORMAT!r}")
        try:
            weights = load_file(str(weights_path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelIntegrityError(f"{weights_path}: unreadable safetensors: {exc}") from exc
        try:
            interval = document["interval"]
            model = cls(
                model_id=document["model_id"],
                version=document["version"],
                weights=weights,
                feature_spec=FeatureSpec.from_dict(document["feature_spec"]),
                interval_scale=float(interval["scale"]),
                nominal_coverage=float(interval["nominal"]),
                card=document.get("card") or {},
            )
            recorded = document["content_hash"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PublishedModelError(f"{meta_path}: malformed metadata: {exc!r}") from exc
        stored_layout = [[n, list(s)] for n, s in model.layout]
        if document.get("layout") != stored_layout:
            raise ModelIntegrityError(f"{meta_path}: layout does not match the feature spec")
        actual = model.content_hash
        if actual != recorded:
            raise ModelIntegrityError(
                f"{directory}: content hash mismatch: recorded {recorded}, content is {actual}"
            )
        return model


__all__ = ["FORMAT", "METADATA_FILE", "WEIGHTS_FILE", "PublishedModel", "content_hash"]
