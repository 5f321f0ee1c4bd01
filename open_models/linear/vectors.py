"""The linear model's two vectors on the federated path: what nodes send, what they receive.

Why fixed shapes: the coordinator checks every ciphertext against one length per run, so
both releases travel at ``release_length`` (the statistics, or the calibration histogram
zero-padded), plus one last slot holding 1 (each node counts itself, so the attested sum's
last slot is the number of contributors, and is positive exactly when someone
contributed). Both are noised on the node before the padding, so padding carries no data.

The open model travels as one flat vector too (``model_vector``): every block's
coefficients in ``basis.blocks`` order, then the quantiles. The coordinator's weights
after each round are ``model_vector(fit(...))`` / ``model_vector(calibrate(...))`` of the
attested sums: a deterministic function of attested aggregates an auditor recomputes.
"""

from __future__ import annotations

import numpy as np

from open_models.contract import SECTORS
from open_models.errors import WeightShapeError
from open_models.linear.basis import STATUSES, Basis
from open_models.linear.model import LinearModel
from open_models.linear.statistics import calibration_length, statistics_length

QUANTILES = len(SECTORS) * len(STATUSES)


def release_length(basis: Basis) -> int:
    """Slots of every node vector of a linear run (payload, padding, the count slot)."""
    return max(statistics_length(basis), calibration_length()) + 1


def pack_release(noised: np.ndarray, basis: Basis) -> np.ndarray:
    """A noised release, zero-padded to the run's length, with the count slot set to 1."""
    out = np.zeros(release_length(basis))
    if noised.ndim != 1 or noised.size >= out.size:
        raise WeightShapeError(f"release of shape {noised.shape} does not fit {out.size} slots")
    out[: noised.size] = noised
    out[-1] = 1.0
    return out


def unpack_sum(summed: np.ndarray, basis: Basis, kind: str) -> tuple[np.ndarray, float]:
    """The attested sum's payload of ``kind`` and its contributor count."""
    summed = np.asarray(summed, dtype=float)
    if summed.shape != (release_length(basis),):
        raise WeightShapeError(f"sum of shape {summed.shape}, expected ({release_length(basis)},)")
    size = statistics_length(basis) if kind == "statistics" else calibration_length()
    return summed[:size], float(summed[-1])


def model_length(basis: Basis) -> int:
    """Slots of the open model as one vector: coefficients, then quantiles."""
    return sum(basis.width(status) for _, status in basis.blocks) + QUANTILES


def model_vector(model: LinearModel) -> np.ndarray:
    """The model as the flat vector a round sends and the coordinator keeps."""
    return np.concatenate([*model.theta, np.asarray(model.quantiles, dtype=float)])


def model_from_vector(vector: np.ndarray, basis: Basis, ridge: float) -> LinearModel:
    """The inverse of ``model_vector``, refusing a wrong length or a non-finite value."""
    vector = np.asarray(vector, dtype=float)
    if vector.shape != (model_length(basis),) or not np.isfinite(vector).all():
        raise WeightShapeError(
            f"linear model vector of shape {vector.shape}, expected ({model_length(basis)},)"
        )
    theta, start = [], 0
    for _, status in basis.blocks:
        d = basis.width(status)
        theta.append(vector[start : start + d].copy())
        start += d
    return LinearModel(basis, ridge, tuple(theta), tuple(float(q) for q in vector[start:]))


__all__ = [
    "model_from_vector",
    "model_length",
    "model_vector",
    "pack_release",
    "release_length",
    "unpack_sum",
]
