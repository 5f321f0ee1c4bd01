"""The network behind both open models, and its weights as a flat vector.

One small module holds two heads because a federated round carries one vector: the
emission-factor head predicts the mean and log-variance of ``log1p(direct intensity)``
(a heteroscedastic Gaussian, so records with less information, e.g. no fuel breakdown,
get wider intervals); the bias-correction head predicts
``log1p(verified intensity) - log1p(self-declared intensity)`` from the same features plus
the declared figure. Sizes are kept to ~1,500 parameters so the whole update fits in one
CKKS ciphertext of 4,096 slots (N=8192).

Weights travel as ``dict[str, np.ndarray]`` (the module's ``state_dict`` names, float64)
or as one float64 vector in :func:`weight_layout` order (what CKKS encrypts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import torch
from torch import nn

from open_models.errors import WeightShapeError
from open_models.features import FeatureSpec

EF_HIDDEN: Final = 24
BIAS_HIDDEN: Final = 8
#: log-variance is clamped to this range (log1p scale): sd between 0.7 % and ~4.5x.
LOGVAR_RANGE: Final = (-10.0, 3.0)

TIER1_PRIOR: Final = "log1p_tier1_direct_tco2e_per_t"
#: Output layers start at zero: the initial model is the Tier-1 prior with no correction.
ZERO_INIT: Final = ("ef_out.", "ef_linear.", "bias_out.")

Layout = tuple[tuple[str, tuple[int, ...]], ...]


class EmissionNet(nn.Module):
    """Emission-factor head (mean, log-variance) and bias-correction head."""

    prior_index: int

    def __init__(self, width: int, prior_index: int) -> None:
        super().__init__()
        self.prior_index = prior_index
        self.ef_hidden = nn.Linear(width, EF_HIDDEN)
        self.ef_out = nn.Linear(EF_HIDDEN, 2)
        self.ef_linear = nn.Linear(width, 2)
        self.bias_hidden = nn.Linear(width + 1, BIAS_HIDDEN)
        self.bias_out = nn.Linear(BIAS_HIDDEN, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` is features plus a last column ``log1p(reported intensity)`` (0 if none).

        Returns ``(batch, 3)``: mean and log-variance of log1p intensity, correction.
        """
        features = x[:, :-1]
        ef = self.ef_out(torch.tanh(self.ef_hidden(features))) + self.ef_linear(features)
        # Residual on the Tier-1 prior (log1p intensity, 0 where Tier-1 is incomplete): the
        # network learns the correction to a transparent physical figure.
        mean = features[:, self.prior_index : self.prior_index + 1] + ef[:, :1]
        logvar = torch.clamp(ef[:, 1:2], *LOGVAR_RANGE)
        correction = self.bias_out(torch.tanh(self.bias_hidden(x)))
        return torch.cat([mean, logvar, correction], dim=1)


def build_network(spec: FeatureSpec) -> EmissionNet:
    """A fresh network for ``spec`` in float32, the precision training and inference use."""
    return EmissionNet(spec.width, spec.names.index(TIER1_PRIOR)).to(torch.float32)


def weight_layout(spec: FeatureSpec) -> Layout:
    """Names and shapes of the weights, in flat-vector order."""
    net = build_network(spec)
    return tuple((name, tuple(t.shape)) for name, t in net.state_dict().items())


def parameter_count(spec: FeatureSpec) -> int:
    """Number of weights: what must fit in one CKKS ciphertext."""
    return sum(int(np.prod(shape)) for _, shape in weight_layout(spec))


def initial_weights(spec: FeatureSpec, seed: int = 0) -> dict[str, np.ndarray]:
    """The agreed starting point of a federation (same seed, same weights everywhere)."""
    generator = torch.Generator().manual_seed(seed)
    net = build_network(spec)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.startswith(ZERO_INIT):
                param.zero_()
                continue
            bound = 1.0 / np.sqrt(param.shape[-1]) if param.dim() > 1 else 0.05
            param.copy_(torch.empty_like(param).uniform_(-bound, bound, generator=generator))
    return get_weights(net)


def get_weights(net: nn.Module) -> dict[str, np.ndarray]:
    """The weights as float64 arrays, the form that is summed, hashed and published."""
    return {k: v.detach().cpu().numpy().astype(np.float64) for k, v in net.state_dict().items()}


def set_weights(net: nn.Module, weights: Mapping[str, np.ndarray], layout: Layout) -> None:
    """Load ``weights`` after checking them against ``layout``, so a wrong shape names itself."""
    check_weights(weights, layout)
    net.load_state_dict(
        {
            name: torch.as_tensor(np.asarray(weights[name]), dtype=torch.float32)
            for name, _ in layout
        }
    )


def check_weights(weights: Mapping[str, np.ndarray], layout: Layout) -> None:
    """Refuse weights whose names or shapes differ from ``layout`` (WeightShapeError)."""
    expected = {name for name, _ in layout}
    if set(weights) != expected:
        raise WeightShapeError(
            f"weights have names {sorted(weights)}, the model needs {sorted(expected)}"
        )
    for name, shape in layout:
        array = np.asarray(weights[name])
        if array.shape != shape:
            raise WeightShapeError(f"weight {name!r} has shape {array.shape}, expected {shape}")
        if not np.isfinite(array).all():
            raise WeightShapeError(f"weight {name!r} holds non-finite values")


def flatten(weights: Mapping[str, np.ndarray], layout: Layout) -> np.ndarray:
    """One float64 vector in layout order (what a round encrypts)."""
    check_weights(weights, layout)
    return np.concatenate(
        [np.asarray(weights[name], dtype=np.float64).ravel() for name, _ in layout]
    )


def unflatten(vector: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """The named weights from one flat vector in layout order (the inverse of ``flatten``)."""
    vector = np.asarray(vector, dtype=np.float64)
    total = sum(int(np.prod(shape)) for _, shape in layout)
    if vector.ndim != 1 or vector.size != total:
        raise WeightShapeError(f"flat vector has shape {vector.shape}, expected ({total},)")
    out, start = {}, 0
    for name, shape in layout:
        size = int(np.prod(shape))
        out[name] = vector[start : start + size].reshape(shape).copy()
        start += size
    return out


__all__ = [
    "EmissionNet",
    "Layout",
    "build_network",
    "check_weights",
    "flatten",
    "get_weights",
    "initial_weights",
    "parameter_count",
    "set_weights",
    "unflatten",
    "weight_layout",
]
