"""The linear model's card: what it is, what was spent, and what it does not claim.

Why a card of its own: the network's card (``open_models.card``) describes DP-SGD rounds;
this family's privacy is two Gaussian releases with stated sensitivities, and its limits
are different (no bias correction yet, in-sample calibration). Every sentence here must
be true of the code; measured quality is not stated here but in ``bench/linear.py``
output, which names the command that printed it.
"""

from __future__ import annotations

from typing import Any

from open_models.linear.basis import BOUND_FLOOR, BOUND_SHARE, KNOWN_BOUND_SHARE, REFERENCE
from open_models.linear.model import MIN_BLOCK_WEIGHT, MIN_CALIBRATION_WEIGHT, NOMINAL, LinearModel
from open_models.linear.statistics import CALIBRATION_SENSITIVITY, STATISTICS_SENSITIVITY


def linear_card(
    model: LinearModel, *, noise_multipliers: dict[str, float] | None = None
) -> dict[str, Any]:
    """The card published beside the model (``noise_multipliers``: per release, if known)."""
    return {
        "family": "sufficient statistics (linear in a fixed basis around a physical prior)",
        "blocks": "per (sector, route) x {fuels known, no fuel data}",
        "priors": {
            "fuels_known": "IPCC 2006 Tier-1 direct figure of the record (open_models.ipcc)",
            "no_fuel": {
                f"{s}/{r}": {"value": v, "source": src} for (s, r), (v, src) in REFERENCE.items()
            },
        },
        "ridge": model.ridge,
        "residual_bound": {
            "no_fuel": f"max({BOUND_FLOOR}, {BOUND_SHARE} x reference) t/t",
            "fuels_known": f"{KNOWN_BOUND_SHARE} x the no-fuel bound",
        },
        "privacy": {
            "unit": "facility (each facility's records weighted 1/n, weights sum to 1)",
            "releases": {
                "statistics": {"l2_sensitivity": STATISTICS_SENSITIVITY},
                "calibration": {"l2_sensitivity": CALIBRATION_SENSITIVITY},
            },
            "mechanism": "Gaussian, charged as one DP-SGD step at sample rate 1 in the "
            "node's training account (Opacus RDP accountant)",
            "noise_multipliers": noise_multipliers or "not reported",
        },
        "intervals": {
            "nominal": NOMINAL,
            "method": "split conformal on |y - y_hat| / (y_hat + floor), one quantile per "
            "(sector, fuel status) from a noised histogram, pooled over sectors below "
            f"{MIN_CALIBRATION_WEIGHT} facilities",
            "quantiles": list(model.quantiles),
        },
        "limits": [
            "calibration scores the training labels themselves (in-sample): coverage is "
            "measured against truth only in bench/linear.py, on synthetic data",
            "the no-fuel blocks learn from fuel-known records with fuels masked: valid "
            "only if not filing fuels is unrelated to the residual (bench reports the gap)",
            f"a block with less than {MIN_BLOCK_WEIGHT} facilities' weight keeps its prior",
            "no bias correction of declared figures: this family estimates from activity data only",
            "quality figures are from synthetic generators, never from real facilities",
        ],
    }


__all__ = ["linear_card"]
