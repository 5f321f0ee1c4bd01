"""The sufficient-statistics model: fitted from attested sums, applied record by record.

Fit (a deterministic function of the attested aggregate, so an auditor recomputes the
published coefficients from it): per block, the noisy ``X^T X`` is symmetrised and
projected onto the PSD cone (noise can make it indefinite), and the ridge solution
``(X^T X + lambda I)^-1 X^T r`` shrinks the correction toward the physical prior (0). A
block whose noisy weight is below ``MIN_BLOCK_WEIGHT`` keeps the prior alone.

Intervals: split-conformal on the relative score (``statistics.SCORE_EDGES``): the
coordinator reads, per (sector, fuel status), the smallest histogram edge whose noisy
upper tail holds at most ``1 - nominal`` of the noisy total (with the finite-sample
``(n + 1) / n`` correction of split conformal, Lei et al., JASA 2018); a cell whose noisy
weight is below ``MIN_CALIBRATION_WEIGHT`` uses its fuel status's quantile pooled over
sectors. Scores are measured on the published model's own training labels (in-sample,
not a held-out split: labels are scarce), which the bench measures against truth on
fresh records; the verified labels' own noise is not deconvolved (it widens intervals
slightly, i.e. errs toward over-coverage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from open_models.contract import SECTORS
from open_models.errors import TrainingError
from open_models.linear.basis import INTERCEPT, STATUSES, Basis, Encoded, encode
from open_models.linear.statistics import (
    SCORE_EDGES,
    SCORE_FLOOR,
    block_offsets,
    calibration_length,
    statistics_length,
)

MODEL_KIND: Final = "gcdt-linear-sufficient-statistics/1"
NOMINAL: Final = 0.90
#: Default ridge (in units of the facility-weighted sums), chosen on a validation split
#: by ``bench/linear.py`` (never the test split): 16 on 6 of 9 seeds of three data sets,
#: 8 and 32 on the rest; the bench prints the choice per seed.
DEFAULT_RIDGE: Final = 16.0
#: Below this noisy weight (facilities) a block's correction is noise: keep the prior.
MIN_BLOCK_WEIGHT: Final = 5.0
#: Below this noisy weight (facilities) a (sector, status) histogram is too noisy for its
#: own 90 % quantile (its 10 % tail would be ~3 facilities against per-bin noise sd ~2 at
#: epsilon 5): the status's pooled histogram is used (modelling choice, bench-measured).
MIN_CALIBRATION_WEIGHT: Final = 30.0
#: Half-width multiplier used before calibration, and when a status has no scores: the
#: widest histogram edge (an honest "we do not know").
UNCALIBRATED: Final = SCORE_EDGES[-1]


@dataclass(frozen=True)
class LinearModel:
    basis: Basis
    ridge: float
    theta: tuple[np.ndarray, ...]  # one coefficient vector per block, basis.blocks order
    #: per (sector, status), sectors outer (``open_models.contract.SECTORS``)
    quantiles: tuple[float, ...] = field(default=(UNCALIBRATED,) * (len(SECTORS) * len(STATUSES)))
    kind: str = MODEL_KIND

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "basis": self.basis.to_dict(),
            "ridge": self.ridge,
            "theta": [[float(v) for v in t] for t in self.theta],
            "quantiles": list(self.quantiles),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        try:
            basis = Basis.from_dict(data["basis"])
            theta = tuple(np.asarray(t, dtype=float) for t in data["theta"])
            model = cls(basis, float(data["ridge"]), theta, tuple(data["quantiles"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainingError(f"malformed linear model: {exc!r}") from exc
        if model.kind != data.get("kind"):
            raise TrainingError(f"model kind {data.get('kind')!r} is not {MODEL_KIND!r}")
        for (_, status), t in zip(basis.blocks, theta, strict=True):
            if t.shape != (basis.width(status),):
                raise TrainingError(f"coefficients of a {status} block have shape {t.shape}")
        return model


def _block_solution(segment: np.ndarray, d: int, ridge: float) -> np.ndarray:
    xty = segment[:d]
    upper = np.triu_indices(d)
    xtx = np.zeros((d, d))
    xtx[upper] = segment[d:]
    if xtx[0, 0] < MIN_BLOCK_WEIGHT * INTERCEPT**2:  # the intercept's diagonal counts rows
        return np.zeros(d)
    xtx = xtx + np.triu(xtx, 1).T
    values, vectors = np.linalg.eigh(xtx)
    psd = (vectors * np.maximum(values, 0.0)) @ vectors.T
    solution: np.ndarray = np.linalg.solve(psd + ridge * np.eye(d), xty)
    return solution


def fit(aggregate: np.ndarray, basis: Basis, ridge: float = DEFAULT_RIDGE) -> LinearModel:
    """The model from the summed (noised) statistics vector: deterministic, no data needed."""
    aggregate = np.asarray(aggregate, dtype=float)
    if aggregate.shape != (statistics_length(basis),):
        raise TrainingError(
            f"statistics vector has shape {aggregate.shape}, the basis needs "
            f"({statistics_length(basis)},)"
        )
    if not np.isfinite(aggregate).all() or not ridge > 0:
        raise TrainingError("statistics must be finite and the ridge > 0")
    offsets = block_offsets(basis)
    theta = tuple(
        _block_solution(aggregate[offsets[b] : offsets[b + 1]], basis.width(status), ridge)
        for b, (_, status) in enumerate(basis.blocks)
    )
    return LinearModel(basis, float(ridge), theta)


def _quantile(histogram: np.ndarray, nominal: float, minimum: float) -> float:
    # Raw noisy counts, never clipped bin by bin: clipping each bin at 0 biases every tail
    # sum upward (many empty bins add positive noise) and inflates the intervals.
    counts = histogram
    total = float(counts.sum())
    if total < minimum:
        return UNCALIBRATED
    allowed = max(0.0, 1.0 - nominal * (total + 1.0) / total) * total
    tail = np.cumsum(counts[::-1])[::-1]  # tail[i]: weight in bins i.. (scores >= edge i-1)
    edges = np.asarray(SCORE_EDGES)
    for i, edge in enumerate(edges):
        if tail[i + 1] <= allowed:
            return float(edge)
    return UNCALIBRATED


def calibrate(model: LinearModel, histogram: np.ndarray, nominal: float = NOMINAL) -> LinearModel:
    """``model`` with one conformal quantile per fuel status from the summed histogram."""
    histogram = np.asarray(histogram, dtype=float)
    if histogram.shape != (calibration_length(),) or not np.isfinite(histogram).all():
        raise TrainingError(f"calibration histogram must be ({calibration_length()},) finite")
    cells = histogram.reshape(len(SECTORS), len(STATUSES), len(SCORE_EDGES) + 1)
    pooled = [_quantile(cells[:, s].sum(axis=0), nominal, MIN_BLOCK_WEIGHT) for s in (0, 1)]
    quantiles = []
    for sector in range(len(SECTORS)):
        for s in range(len(STATUSES)):
            own = _quantile(cells[sector, s], nominal, MIN_CALIBRATION_WEIGHT)
            quantiles.append(pooled[s] if own == UNCALIBRATED else own)
    return LinearModel(model.basis, model.ridge, model.theta, tuple(quantiles))


def _per_unit(model: LinearModel, enc: Encoded, masked: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimate per modelling unit and the status index (0 fuels known, 1 no fuel)."""
    n = len(enc.route)
    known = enc.fuels_known & (not masked)
    estimate = np.empty(n)
    blocks = {key: i for i, key in enumerate(model.basis.blocks)}
    for route in np.unique(enc.route):
        for s, status in enumerate(STATUSES):
            take = (enc.route == route) & (known if s == 0 else ~known)
            if not take.any():
                continue
            theta = model.theta[blocks[(int(route), status)]]
            if s == 0:
                x, base, bound = enc.x_known, enc.prior_known, enc.bound_known
            else:
                x, base, bound = enc.x_no_fuel, enc.prior_no_fuel, enc.bound
            estimate[take] = base[take] + bound[take] * (x[take] @ theta)
    return np.maximum(estimate, 0.0), np.where(known, 0, 1)


def predict(model: LinearModel, records: pd.DataFrame, *, masked: bool = False) -> pd.DataFrame:
    """Direct intensity (t CO2/t product) with its interval; ``masked`` ignores fuel data."""
    enc = encode(records, model.basis)
    per_unit, status = _per_unit(model, enc, masked)
    sector = pd.Index(SECTORS).get_indexer(records["sector"].astype(str).to_numpy())
    cell = sector * len(STATUSES) + status
    half = np.asarray(model.quantiles)[cell] * (per_unit + SCORE_FLOOR)
    unit = enc.unit
    return pd.DataFrame(
        {
            "estimate_tco2e_per_t": per_unit * unit,
            "low_tco2e_per_t": np.maximum(per_unit - half, 0.0) * unit,
            "high_tco2e_per_t": (per_unit + half) * unit,
            "fuel_status": np.asarray(STATUSES)[status],
        },
        index=records.index,
    )


def scores(model: LinearModel, records: pd.DataFrame, targets: np.ndarray) -> list[np.ndarray]:
    """Per status, each labelled record's score (NaN where the record is not in it)."""
    enc = encode(records, model.basis)
    out = []
    for s, masked in enumerate((False, True)):
        per_unit, status = _per_unit(model, enc, masked)
        score = np.abs(targets - per_unit) / (per_unit + SCORE_FLOOR)
        out.append(np.where(status == s, score, np.nan))
    return out


__all__ = [
    "DEFAULT_RIDGE",
    "MODEL_KIND",
    "NOMINAL",
    "LinearModel",
    "calibrate",
    "fit",
    "predict",
    "scores",
]
