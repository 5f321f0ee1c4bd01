"""How good an estimate is, measured against a truth, overall and where it matters.

Errors are measured on intensity (tCO2e per tonne of product), not on tonnes, so a large
plant does not drown out a small one, and per (jurisdiction, route) with the worst/best
ratio, because a model that serves one bloc's facilities well and another's badly must
show it. Baselines are the IPCC Tier-1 figure and the CBAM default value
(``open_models.ipcc.tier1``): each method is scored on the records where it gives a
figure (Tier-1 has none for hydrogen, CBAM none for EU producers), and all methods are
also scored on the records where every one of them gives a figure (``common``), which is
the fair head-to-head comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from open_models.errors import OpenModelsError
from open_models.ipcc.tier1 import compute_tier1

#: Truth intensities below this (t/t) are left out of MAPE (electrolysis hydrogen emits ~0).
MAPE_FLOOR: Final = 0.05
#: A (jurisdiction, route) group needs this many records to enter the worst/best ratio.
MIN_GROUP: Final = 5


def mae(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over the records where both figures exist (NaN if none)."""
    ok = ~np.isnan(predicted) & ~np.isnan(truth)
    return float(np.mean(np.abs(predicted[ok] - truth[ok]))) if ok.any() else float("nan")


def mape(predicted: np.ndarray, truth: np.ndarray, floor: float = MAPE_FLOOR) -> float:
    """Mean absolute percentage error; truths below ``floor`` are left out, not divided by."""
    ok = ~np.isnan(predicted) & ~np.isnan(truth) & (np.abs(truth) >= floor)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(predicted[ok] - truth[ok]) / np.abs(truth[ok])))


def coverage(low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> float:
    """Share of records whose truth lies inside the interval (NaN if none can be checked)."""
    ok = ~np.isnan(low) & ~np.isnan(high) & ~np.isnan(truth)
    if not ok.any():
        return float("nan")
    return float(np.mean((low[ok] <= truth[ok]) & (truth[ok] <= high[ok])))


def baseline_estimates(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """Tier-1 direct and CBAM default direct emissions (tCO2e), NaN where none exists."""
    tier1 = compute_tier1(records.reset_index(drop=True))
    return {
        "cbam_default": tier1["cbam_default_direct_tco2e"].to_numpy(dtype=float),
        "tier1": tier1["tier1_direct_tco2e"].to_numpy(dtype=float),
    }


def _frame(records: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    if "record_id" not in truth or "true_direct_tco2e" not in truth:
        raise OpenModelsError("truth needs record_id and true_direct_tco2e")
    merged = records[["record_id", "jurisdiction", "sector", "route", "production_t"]].merge(
        truth[["record_id", "true_direct_tco2e"]], on="record_id", how="left", validate="1:1"
    )
    if merged["true_direct_tco2e"].isna().any():
        raise OpenModelsError("truth lacks some record_id of the records")
    merged.index = records.index
    return merged


def evaluate(
    records: pd.DataFrame,
    truth: pd.DataFrame,
    estimates: Mapping[str, np.ndarray],
    *,
    model: str | None = None,
    interval: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Scores of every method in ``estimates`` (tCO2e arrays aligned with ``records``).

    ``model`` names the method broken down per sector/route and per jurisdiction/route;
    ``interval`` (low, high tCO2e) of that method gives the coverage.
    """
    frame = _frame(records, truth)
    production = frame["production_t"].to_numpy(dtype=float)
    true_i = frame["true_direct_tco2e"].to_numpy(dtype=float) / production
    per_t = {name: np.asarray(v, dtype=float) / production for name, v in estimates.items()}
    common = np.logical_and.reduce([~np.isnan(v) for v in per_t.values()])
    overall = {
        name: {
            "records": int((~np.isnan(v)).sum()),
            "mae_tco2e_per_t": mae(v, true_i),
            "mape": mape(v, true_i),
            "common_records": int(common.sum()),
            "common_mae_tco2e_per_t": mae(np.where(common, v, np.nan), true_i),
            "common_mape": mape(np.where(common, v, np.nan), true_i),
        }
        for name, v in per_t.items()
    }
    out: dict[str, Any] = {"overall": overall}
    if model is None:
        return out
    pred = per_t[model]
    frame = frame.assign(_err=np.abs(pred - true_i), _pred=pred, _true=true_i)
    if interval is not None:
        low, high = (np.asarray(a, dtype=float) / production for a in interval)
        out["interval_coverage"] = coverage(low, high, true_i)
        frame = frame.assign(_cov=(low <= true_i) & (true_i <= high))
    out["by_sector_route"] = _groups(frame, ["sector", "route"], interval is not None)
    by_jr = _groups(frame, ["jurisdiction", "route"], interval is not None)
    out["by_jurisdiction_route"] = by_jr
    eligible = [g["mae_tco2e_per_t"] for g in by_jr if g["records"] >= MIN_GROUP]
    best = min(eligible) if eligible else float("nan")
    out["jurisdiction_route_worst_best_ratio"] = (
        max(eligible) / best if eligible and best > 0 else float("nan")
    )
    return out


def _groups(frame: pd.DataFrame, keys: list[str], with_cov: bool) -> list[dict[str, Any]]:
    rows = []
    for key, g in frame.groupby(keys, sort=True):
        ok = ~np.isnan(g["_pred"].to_numpy())
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["records"] = int(ok.sum())
        row["mae_tco2e_per_t"] = mae(g["_pred"].to_numpy(), g["_true"].to_numpy())
        row["mape"] = mape(g["_pred"].to_numpy(), g["_true"].to_numpy())
        if with_cov:
            row["interval_coverage"] = float(g["_cov"].mean())
        rows.append(row)
    return rows


__all__ = ["MAPE_FLOOR", "MIN_GROUP", "baseline_estimates", "coverage", "evaluate", "mae", "mape"]
