"""What a node releases for the sufficient-statistics model, and its L2 sensitivity.

Two releases, each one vector that travels like a model update (noised on the node, summed
encrypted, decrypted only as a sum):

1. **Statistics**: per block, ``[X^T W r, upper triangle of X^T W X]``
   over the node's labelled records (verified figure; never the truth). Every labelled
   record enters its own block (fuels known or not) and, with its fuels masked, its route's
   no-fuel block: the no-fuel model learns from every label (valid only if "fuels unknown"
   is independent of the residual; the bench checks and reports it).
2. **Calibration**: per (sector, fuel status), a histogram of the score ``|y - y_hat| /
   (|y_hat| + floor)`` of the published model on the same records, from which the
   coordinator reads one conformal quantile per cell.

Sensitivity (``privacy_unit="facility"``): each record is weighted ``w = 1 / n_f``, n_f
being the labelled records of its facility in the release, so a facility's weights sum
to 1. With ``||x|| <= 1`` and ``|r| <= 1`` (``basis.py``) one record's part of one block
has norm ``<= w * sqrt(1 + 1) = sqrt(2) w`` (``|x r| <= 1``, ``||x x^T||_F <= 1``); its two
blocks are disjoint coordinates, so ``2 w``; summed over a facility (triangle inequality)
``<= 2``. In
the histogram each record adds ``w`` to one bin of each status: ``sqrt(2) * w`` per
record, ``sqrt(2)`` per facility. ``privacy_unit="record"`` sets every ``w = 1`` and gives
the same bounds per record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import pandas as pd

from open_models.contract import SECTORS
from open_models.errors import TrainingError
from open_models.linear.basis import STATUSES, Basis, Encoded, encode

PrivacyUnit = Literal["facility", "record"]
STATISTICS_SENSITIVITY: Final = 2.0
CALIBRATION_SENSITIVITY: Final = math.sqrt(2.0)
#: Score histogram edges: geometric from 0.2 % to 300 % relative error, one open last bin
#: (modelling choice: intervals narrower than 0.2 % or wider than 3x are not useful).
SCORE_EDGES: Final = tuple(float(e) for e in np.geomspace(0.002, 3.0, 40))
#: Added to |y_hat| in the score's denominator (t/t): keeps near-zero routes (electrolysis)
#: from dividing by ~0; the order of the smallest residual bound (basis.BOUND_FLOOR / 4).
SCORE_FLOOR: Final = 0.05


def block_width(basis: Basis, status: str) -> int:
    d = basis.width(status)
    return d + d * (d + 1) // 2


def block_offsets(basis: Basis) -> tuple[int, ...]:
    """Start of every block in the statistics vector (``basis.blocks`` order), then its end."""
    out = [0]
    for _, status in basis.blocks:
        out.append(out[-1] + block_width(basis, status))
    return tuple(out)


def statistics_length(basis: Basis) -> int:
    """Slots of the statistics release (fits one 4,096-slot CKKS ciphertext at 5 codes)."""
    return block_offsets(basis)[-1]


def calibration_length() -> int:
    """One score histogram per (sector, fuel status), sectors outer."""
    return len(SECTORS) * len(STATUSES) * (len(SCORE_EDGES) + 1)


def labelled(records: pd.DataFrame) -> pd.DataFrame:
    """Records with a verified figure, the only labels a node has."""
    if "verified_direct_tco2e" not in records.columns:
        return records.iloc[0:0]
    verified = pd.to_numeric(records["verified_direct_tco2e"], errors="coerce")
    return records.loc[verified.notna().to_numpy()].reset_index(drop=True)


def weights(records: pd.DataFrame, unit: PrivacyUnit) -> np.ndarray:
    """Per-record weight: ``1 / records of its facility`` (facility unit) or 1 (record unit)."""
    if unit == "record":
        return np.ones(len(records))
    if unit != "facility":
        raise TrainingError(f"privacy unit must be 'facility' or 'record', got {unit!r}")
    counts = records.groupby("facility_id")["facility_id"].transform("size")
    out: np.ndarray = 1.0 / counts.to_numpy(dtype=float)
    return out


def targets(records: pd.DataFrame, encoded: Encoded) -> np.ndarray:
    """Verified direct intensity per modelling unit (cement: per t clinker)."""
    verified = pd.to_numeric(records["verified_direct_tco2e"], errors="coerce").to_numpy(float)
    production = pd.to_numeric(records["production_t"]).to_numpy(float)
    out: np.ndarray = verified / (production * encoded.unit)
    return out


def _add_block(vector: np.ndarray, start: int, x: np.ndarray, r: np.ndarray, w: np.ndarray) -> None:
    d = x.shape[1]
    upper = np.triu_indices(d)
    xw = x * w[:, None]
    vector[start : start + d] += xw.T @ r
    vector[start + d : start + d + len(upper[0])] += (xw.T @ x)[upper]


def local_statistics(
    records: pd.DataFrame, basis: Basis, unit: PrivacyUnit = "facility"
) -> np.ndarray:
    """The node's noiseless statistics vector over its labelled records."""
    rows = labelled(records)
    vector = np.zeros(statistics_length(basis))
    if rows.empty:
        return vector
    enc = encode(rows, basis)
    y = targets(rows, enc)
    w = weights(rows, unit)
    offsets = block_offsets(basis)
    for b, (route, status) in enumerate(basis.blocks):
        if status == STATUSES[0]:
            take = (enc.route == route) & enc.fuels_known
            x, prior, bound = enc.x_known, enc.prior_known, enc.bound_known
        else:
            take = enc.route == route
            x, prior, bound = enc.x_no_fuel, enc.prior_no_fuel, enc.bound
        if not take.any():
            continue
        r = np.clip((y[take] - prior[take]) / bound[take], -1.0, 1.0)
        _add_block(vector, offsets[b], x[take], r, w[take])
    return vector


def score_histogram(
    scores_by_status: Sequence[np.ndarray], w: np.ndarray, sector: np.ndarray
) -> np.ndarray:
    """Weighted histogram of scores (NaN = not scored) per (sector, status), on ``SCORE_EDGES``.

    ``sector`` is each record's index into the contract's ``SECTORS``.
    """
    edges = np.asarray(SCORE_EDGES)
    parts = []
    for s in range(len(SECTORS)):
        for scores in scores_by_status:
            ok = ~np.isnan(scores) & (sector == s)
            bins = np.searchsorted(edges, scores[ok], side="right")
            parts.append(np.bincount(bins, weights=w[ok], minlength=len(edges) + 1))
    return np.concatenate(parts)


def add_noise(
    vector: np.ndarray, sigma_total: float, shares: int, rng: np.random.Generator
) -> np.ndarray:
    """This node's noise share: the sum of ``shares`` nodes' vectors carries ``sigma_total``."""
    if shares < 1:
        raise TrainingError(f"noise shares must be >= 1, got {shares}")
    noised: np.ndarray = vector + rng.normal(0.0, sigma_total / math.sqrt(shares), vector.shape)
    return noised


__all__ = [
    "CALIBRATION_SENSITIVITY",
    "SCORE_EDGES",
    "SCORE_FLOOR",
    "STATISTICS_SENSITIVITY",
    "PrivacyUnit",
    "add_noise",
    "block_offsets",
    "calibration_length",
    "labelled",
    "local_statistics",
    "score_histogram",
    "statistics_length",
    "targets",
    "weights",
]
