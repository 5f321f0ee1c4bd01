"""Applying weights to records: estimate, interval and bias-corrected figure in tCO2e.

Kept apart from the published format so training, evaluation and the bench apply a model
exactly the way a node's estimate service does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import torch

from open_models.features import FeatureSpec, encode, intensity
from open_models.network import build_network, set_weights, weight_layout

NOMINAL_COVERAGE: Final = 0.90
OUTPUT_COLUMNS: Final = (
    "estimate_direct_tco2e",
    "estimate_low_tco2e",
    "estimate_high_tco2e",
    "corrected_direct_tco2e",
)


def reported_feature(frame: pd.DataFrame) -> np.ndarray:
    """log1p of the self-declared intensity, 0 where there is none (the bias head's input)."""
    reported = intensity(frame, "reported_direct_tco2e")
    return np.where(np.isnan(reported), 0.0, np.log1p(np.maximum(reported, 0.0)))


def model_inputs(frame: pd.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The network's input matrix: encoded features, then the declared-intensity column."""
    return np.column_stack([encode(frame, spec), reported_feature(frame)])


@dataclass(frozen=True)
class RawOutputs:
    mean: np.ndarray  # log1p intensity
    sd: np.ndarray  # log1p scale
    correction: np.ndarray  # log1p(verified) - log1p(reported)


def raw_outputs(
    weights: Mapping[str, np.ndarray], spec: FeatureSpec, frame: pd.DataFrame
) -> RawOutputs:
    """The three heads on the log1p scale, before any conversion to tonnes.

    Calibration scores and intervals are computed on this scale, where the model's
    Gaussian assumption holds.
    """
    net = build_network(spec)
    set_weights(net, weights, weight_layout(spec))
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(model_inputs(frame, spec), dtype=torch.float32)).numpy()
    out = out.astype(np.float64)
    return RawOutputs(out[:, 0], np.exp(0.5 * out[:, 1]), out[:, 2])


def z_for(nominal: float) -> float:
    """Two-sided standard-normal quantile (torch's ndtri: the stdlib ``statistics`` module
    can be shadowed by a ``statistics.py`` beside a script, e.g. ``bench/statistics.py``)."""
    return float(torch.special.ndtri(torch.tensor(0.5 + nominal / 2.0, dtype=torch.float64)))


def predict_frame(
    weights: Mapping[str, np.ndarray],
    spec: FeatureSpec,
    frame: pd.DataFrame,
    *,
    interval_scale: float = 1.0,
    nominal: float = NOMINAL_COVERAGE,
) -> pd.DataFrame:
    """The four published output columns (tCO2e), indexed like ``frame``.

    The interval is ``mean ± z·scale·sd`` on the log1p-intensity scale, mapped back, so it
    is asymmetric in tonnes; ``interval_scale`` is the calibration factor (1 = raw model).
    """
    raw = raw_outputs(weights, spec, frame)
    production = pd.to_numeric(frame["production_t"]).to_numpy(dtype=float)
    half = z_for(nominal) * interval_scale * raw.sd
    reported = intensity(frame, "reported_direct_tco2e")
    corrected = np.expm1(np.log1p(np.maximum(reported, 0.0)) + raw.correction)

    def back(v: np.ndarray) -> np.ndarray:
        tonnes: np.ndarray = np.maximum(np.expm1(v), 0.0) * production
        return tonnes

    return pd.DataFrame(
        {
            "estimate_direct_tco2e": back(raw.mean),
            "estimate_low_tco2e": back(raw.mean - half),
            "estimate_high_tco2e": back(raw.mean + half),
            "corrected_direct_tco2e": np.where(
                np.isnan(reported), np.nan, np.maximum(corrected, 0.0) * production
            ),
        },
        index=frame.index,
    )


__all__ = [
    "NOMINAL_COVERAGE",
    "OUTPUT_COLUMNS",
    "RawOutputs",
    "model_inputs",
    "predict_frame",
    "raw_outputs",
    "reported_feature",
    "z_for",
]
