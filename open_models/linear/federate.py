"""The two-release fit in one process: the plaintext reference an encrypted run must equal.

Round 1: every node releases its noised statistics; their sum is fitted (``model.fit``).
Round 2: every node scores that fitted model on its labelled records and releases the
noised histogram; the sum calibrates the intervals (``model.calibrate``). The bench and
the tests run it over real privacy accounts; in a federation the two sums are the
attested decryptions of the encrypted vectors, and the coordinator runs the same
``fit``/``calibrate`` on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from open_models.accounting import PrivacyAccount
from open_models.errors import TrainingError
from open_models.linear.basis import Basis
from open_models.linear.model import DEFAULT_RIDGE, LinearModel, calibrate, fit
from open_models.linear.release import RELEASES, Release, release
from open_models.linear.statistics import PrivacyUnit


@dataclass(frozen=True)
class FederatedFit:
    model: LinearModel
    statistics: np.ndarray  # the summed statistics vector (what key holders attest)
    histogram: np.ndarray  # the summed calibration histogram
    releases: dict[str, tuple[Release, Release]]  # node -> (statistics, calibration)


def _loader(frame: pd.DataFrame) -> Callable[[], pd.DataFrame]:
    return lambda: frame


def federate(
    nodes: Mapping[str, pd.DataFrame],
    accounts: Mapping[str, PrivacyAccount],
    basis: Basis,
    *,
    rng: np.random.Generator,
    ridge: float = DEFAULT_RIDGE,
    unit: PrivacyUnit = "facility",
) -> FederatedFit:
    """Both rounds over ``nodes`` (records per node), each charged to its own account."""
    if not nodes or set(nodes) != set(accounts):
        raise TrainingError("need one privacy account per node, and at least one node")
    shares = len(nodes)
    first = {
        code: release(
            "statistics",
            _loader(frame),
            basis,
            accounts[code],
            releases_remaining=RELEASES,
            shares=shares,
            rng=rng,
            unit=unit,
        )
        for code, frame in nodes.items()
    }
    statistics = np.sum([r.vector for r in first.values()], axis=0)
    model = fit(statistics, basis, ridge)
    second = {
        code: release(
            "calibration",
            _loader(frame),
            basis,
            accounts[code],
            releases_remaining=RELEASES - 1,
            shares=shares,
            rng=rng,
            model=model,
            unit=unit,
        )
        for code, frame in nodes.items()
    }
    histogram = np.sum([r.vector for r in second.values()], axis=0)
    return FederatedFit(
        calibrate(model, histogram),
        statistics,
        histogram,
        {code: (first[code], second[code]) for code in nodes},
    )


__all__ = ["FederatedFit", "federate"]
