"""A node's release for the sufficient-statistics model: plan, charge, compute, noise.

Why through ``PrivacyAccount.charge_dp_sgd``: a Gaussian release of a vector with L2
sensitivity S and noise ``z * S`` is exactly one DP-SGD step at sample rate 1 and noise
multiplier z (Opacus' RDP of the sampled Gaussian at q = 1 is the Gaussian mechanism's
``alpha / (2 z^2)``), so it composes in the same account, with the same accountant, as
every DP-SGD round and every other release the node's ledger holds. The charge is made
*before* any record is read; over budget the account records the refusal and raises.

The noise multiplier is planned so that the release and the ``releases_remaining - 1``
still planned (the calibration histogram) fit what is left of the budget; the sum over
``shares`` nodes carries ``z * S`` (each node adds its share, ``statistics.add_noise``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd

from open_models.accounting import HistoryEntry, PrivacyAccount
from open_models.contract import SECTORS
from open_models.dp import DEFAULT_MAX_NOISE_MULTIPLIER, _integer_order_epsilon
from open_models.errors import TrainingError
from open_models.linear.basis import Basis, encode
from open_models.linear.model import LinearModel, scores
from open_models.linear.statistics import (
    CALIBRATION_SENSITIVITY,
    STATISTICS_SENSITIVITY,
    PrivacyUnit,
    add_noise,
    calibration_length,
    labelled,
    local_statistics,
    score_histogram,
    targets,
    weights,
)

Kind = Literal["statistics", "calibration"]
#: Releases of one fit: the statistics, then the calibration histogram.
RELEASES: Final = 2
#: Bisection floor and precision for the noise multiplier (below 0.3 a single Gaussian
#: release is already past any budget a policy would set).
Z_FLOOR: Final = 0.3
Z_TOLERANCE: Final = 1e-3


@dataclass(frozen=True)
class Release:
    kind: Kind
    vector: np.ndarray  # this node's noised vector (its noise share added)
    noise_multiplier: float
    sensitivity: float
    epsilon_before: float
    epsilon_after: float
    labelled_records: int


def plan_noise_multiplier(
    account: PrivacyAccount,
    releases_remaining: int,
    cap: float = DEFAULT_MAX_NOISE_MULTIPLIER,
) -> float:
    """Smallest z (to 1e-3) such that ``releases_remaining`` Gaussian releases fit.

    Past ``cap`` a release would be almost pure noise: the cap is returned, and charging
    it makes the account refuse (and record the refusal), as for DP-SGD rounds. So a
    coordinator asking again and again gets ever noisier releases that all fit the budget
    together, then refusals; never more than the account's epsilon.
    """
    if releases_remaining < 1:
        raise TrainingError(f"releases_remaining must be >= 1, got {releases_remaining}")
    history = list(account.history())

    def fits(z: float) -> bool:
        entry = HistoryEntry(z, 1.0, releases_remaining)
        return _integer_order_epsilon([*history, entry], account.delta) <= account.epsilon_budget

    low, high = Z_FLOOR, cap
    if fits(low):
        return low
    if not fits(high):
        return high  # charging it makes the account refuse and record the refusal
    while high - low > Z_TOLERANCE:
        mid = (low + high) / 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def release(
    kind: Kind,
    load_records: Callable[[], pd.DataFrame],
    basis: Basis,
    account: PrivacyAccount,
    *,
    releases_remaining: int,
    shares: int,
    rng: np.random.Generator,
    model: LinearModel | None = None,
    unit: PrivacyUnit = "facility",
) -> Release:
    """Charge the account, then compute and noise this node's vector of ``kind``.

    ``load_records`` is called only after the charge was accepted. ``model`` (the
    published fit) is required for the calibration release.
    """
    if kind == "calibration" and model is None:
        raise TrainingError("the calibration release scores a published model: none given")
    z = plan_noise_multiplier(account, releases_remaining)
    spend = account.charge_dp_sgd(z, 1.0, 1, f"linear model {kind} release")
    rows = labelled(load_records())
    if kind == "statistics":
        sensitivity, vector = STATISTICS_SENSITIVITY, local_statistics(rows, basis, unit)
    else:
        assert model is not None
        sensitivity = CALIBRATION_SENSITIVITY
        vector = local_calibration(rows, model, unit)
    noised = add_noise(vector, z * sensitivity, shares, rng)
    return Release(
        kind, noised, z, sensitivity, spend.epsilon_before, spend.epsilon_after, len(rows)
    )


def local_calibration(
    records: pd.DataFrame, model: LinearModel, unit: PrivacyUnit = "facility"
) -> np.ndarray:
    """The noiseless score histogram of ``model`` on the node's labelled records."""
    rows = labelled(records)
    if rows.empty:
        return np.zeros(calibration_length())
    y = targets(rows, encode(rows, model.basis))
    sector = pd.Index(SECTORS).get_indexer(rows["sector"].astype(str).to_numpy())
    return score_histogram(scores(model, rows, y), weights(rows, unit), sector)


__all__ = ["RELEASES", "Release", "local_calibration", "plan_noise_multiplier", "release"]
