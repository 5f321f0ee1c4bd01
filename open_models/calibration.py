"""Interval calibration: a split-conformal scale on the model's own uncertainty.

The network's variance head is trained by Gaussian NLL under DP noise, which does not
guarantee that ``mean ± 1.645 sd`` covers 90 %. On held-out labelled records (verified
intensity) the normalised score ``|log1p(y) - mean| / sd`` is computed, and the scale is its
conformal quantile divided by z: multiplying every sd by it makes the nominal interval cover
at least the nominal share of exchangeable new records (Lei et al., "Distribution-free
predictive inference for regression", JASA 2018, split conformal). The scale goes into the
published model and its card.

Federated form: ``covered_counts`` gives, for a grid of scales, how many of a node's records
each scale covers; those counts are sums, so nodes can contribute them encrypted like any
aggregate and the coordinator picks the smallest scale whose summed coverage reaches the
nominal level (``scale_from_counts``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from open_models.errors import TrainingError
from open_models.features import FeatureSpec
from open_models.inference import NOMINAL_COVERAGE, raw_outputs, z_for
from open_models.training import labelled

SCALE_GRID: Final = tuple(round(0.5 + 0.05 * i, 2) for i in range(71))  # 0.5 .. 4.0


def _scores(
    weights: Mapping[str, np.ndarray], spec: FeatureSpec, records: pd.DataFrame
) -> np.ndarray:
    rows = labelled(records)
    if rows.empty:
        raise TrainingError("calibration needs records with verified_direct_tco2e")
    raw = raw_outputs(weights, spec, rows)
    target = np.log1p(
        np.maximum(
            rows["verified_direct_tco2e"].to_numpy(float) / rows["production_t"].to_numpy(float),
            0.0,
        )
    )
    scores: np.ndarray = np.abs(target - raw.mean) / raw.sd
    return scores


def conformal_scale(
    weights: Mapping[str, np.ndarray],
    spec: FeatureSpec,
    records: pd.DataFrame,
    nominal: float = NOMINAL_COVERAGE,
) -> float:
    """The split-conformal scale on one party's held-out records (the centralised form)."""
    scores = np.sort(_scores(weights, spec, records))
    n = len(scores)
    rank = min(n, math.ceil((n + 1) * nominal))
    return float(scores[rank - 1] / z_for(nominal))


def covered_counts(
    weights: Mapping[str, np.ndarray],
    spec: FeatureSpec,
    records: pd.DataFrame,
    scales: Sequence[float] = SCALE_GRID,
    nominal: float = NOMINAL_COVERAGE,
) -> tuple[np.ndarray, int]:
    """How many records each scale of the grid covers, and how many there were.

    Counts, not scores, leave a node: they are sums, so they aggregate encrypted.
    """
    scores = _scores(weights, spec, records)
    z = z_for(nominal)
    return np.array([(scores <= z * s).sum() for s in scales], dtype=float), len(scores)


def scale_from_counts(
    counts: np.ndarray,
    total: float,
    scales: Sequence[float] = SCALE_GRID,
    nominal: float = NOMINAL_COVERAGE,
) -> float:
    """The smallest grid scale whose summed coverage reaches ``nominal`` (else the largest)."""
    ok = np.flatnonzero(np.asarray(counts) >= nominal * total)
    return float(scales[int(ok[0])]) if ok.size else float(scales[-1])


__all__ = ["SCALE_GRID", "conformal_scale", "covered_counts", "scale_from_counts"]
