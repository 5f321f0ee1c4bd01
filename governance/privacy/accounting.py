"""The privacy math, free of state and storage: Opacus' RDP accountant over a history.

Why RDP and not PRV: Rényi-DP composition is additive per order, so a history of
heterogeneous releases (DP-SGD rounds at different noise and sample rates, plus Gaussian
statistics releases) composes exactly and cheaply in any order, and the bound is the one
Opacus reports by default, so a node's ``PrivacyEngine`` and this ledger agree number
for number. PRV is tighter (often 10-30% smaller epsilon) but numerical: its result
depends on discretisation parameters (``eps_error``, domain grids) and it is slower for
long mixed histories; a ledger that must give the same answer on every machine and after
every restore is better served by the closed-form RDP bound, which errs on the safe side.

A Gaussian release of a statistic with L2 sensitivity ``Δ`` and noise ``N(0, σ²)`` is
exactly one step of the subsampled Gaussian mechanism with sample rate 1 and noise
multiplier ``σ/Δ`` (Opacus' ``compute_rdp`` uses the closed form ``α/(2(σ/Δ)²)`` when
``q == 1``), so statistics and training are accounted in one history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from governance.privacy.errors import InvalidMechanismError
from open_models.accounting import MAX_NOISE_MULTIPLIER, HistoryEntry

# Opacus' default tolerance of get_noise_multiplier (opacus 1.6.0).
DEFAULT_EPSILON_TOLERANCE = 0.01


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InvalidMechanismError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _check_steps(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidMechanismError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def _check_sample_rate(value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or not 0 < value <= 1:
        raise InvalidMechanismError(f"sample_rate must be in (0, 1], got {value!r}")
    return value


def check_entry(entry: HistoryEntry) -> HistoryEntry:
    return HistoryEntry(
        _check_positive("noise_multiplier", entry.noise_multiplier),
        _check_sample_rate(entry.sample_rate),
        _check_steps("steps", entry.steps),
    )


@dataclass(frozen=True)
class Budget:
    """An (epsilon, delta) allowance for one node, dataset and accounting period."""

    epsilon: float
    delta: float

    def __post_init__(self) -> None:
        _check_positive("budget epsilon", self.epsilon)
        if not math.isfinite(self.delta) or not 0 < self.delta < 1:
            raise InvalidMechanismError(f"budget delta must be in (0, 1), got {self.delta!r}")

    @classmethod
    def of(cls, value: Budget | tuple[float, float]) -> Budget:
        return value if isinstance(value, Budget) else cls(float(value[0]), float(value[1]))


@dataclass(frozen=True)
class DpSgd:
    """``steps`` DP-SGD steps with Poisson sample rate ``sample_rate``."""

    noise_multiplier: float
    sample_rate: float
    steps: int

    kind = "dp_sgd"

    def __post_init__(self) -> None:
        check_entry(HistoryEntry(self.noise_multiplier, self.sample_rate, self.steps))

    def entry(self) -> HistoryEntry:
        return HistoryEntry(float(self.noise_multiplier), float(self.sample_rate), self.steps)

    def describe(self) -> str:
        return (
            f"DP-SGD (noise multiplier {self.noise_multiplier:.6g}, "
            f"sample rate {self.sample_rate:.6g}, {self.steps} steps)"
        )


@dataclass(frozen=True)
class GaussianRelease:
    """``releases`` releases of a statistic with L2 ``sensitivity`` plus N(0, sigma²) noise."""

    sigma: float
    sensitivity: float
    releases: int = 1

    kind = "gaussian"

    def __post_init__(self) -> None:
        _check_positive("sigma", self.sigma)
        _check_positive("sensitivity", self.sensitivity)
        _check_steps("releases", self.releases)

    def entry(self) -> HistoryEntry:
        # Gaussian mechanism = one full-batch step with noise multiplier sigma/sensitivity.
        return HistoryEntry(float(self.sigma) / float(self.sensitivity), 1.0, self.releases)

    def describe(self) -> str:
        return (
            f"Gaussian release (sigma {self.sigma:.6g}, sensitivity {self.sensitivity:.6g}, "
            f"{self.releases} release(s))"
        )


Mechanism = DpSgd | GaussianRelease


def epsilon_of(history: Sequence[HistoryEntry], delta: float) -> float:
    """Epsilon of a history at ``delta``, computed by Opacus' ``RDPAccountant``."""
    if not history:
        return 0.0
    accountant = RDPAccountant()
    accountant.history = [tuple(entry) for entry in history]
    return float(accountant.get_epsilon(delta=delta))


def noise_multiplier_for(
    *,
    target_epsilon: float,
    delta: float,
    sample_rate: float,
    steps: int,
    epsilon_tolerance: float = DEFAULT_EPSILON_TOLERANCE,
) -> float:
    """Noise multiplier that makes a fresh run of ``steps`` steps cost ``target_epsilon``.

    Delegates to Opacus' ``get_noise_multiplier`` (RDP), so it matches what Opacus'
    ``make_private_with_epsilon`` would pick.
    """
    return float(
        get_noise_multiplier(
            target_epsilon=_check_positive("target_epsilon", target_epsilon),
            target_delta=delta,
            sample_rate=_check_sample_rate(sample_rate),
            steps=_check_steps("steps", steps),
            accountant="rdp",
            epsilon_tolerance=epsilon_tolerance,
        )
    )


def noise_multiplier_within_budget(
    history: Sequence[HistoryEntry],
    budget: Budget,
    *,
    sample_rate: float,
    steps: int,
    epsilon_tolerance: float = DEFAULT_EPSILON_TOLERANCE,
) -> float:
    """Smallest noise multiplier (to ``epsilon_tolerance``) that keeps the account in budget.

    Unlike :func:`noise_multiplier_for` it accounts for what ``history`` already spent:
    RDP composes per order, not in epsilon, so the remaining allowance is not simply
    ``budget - spent``. Same bisection as Opacus' ``get_noise_multiplier``. Raises
    :class:`InvalidMechanismError` when nothing is left to spend.
    """
    sample_rate = _check_sample_rate(sample_rate)
    steps = _check_steps("steps", steps)

    def total(sigma: float) -> float:
        return epsilon_of([*history, HistoryEntry(sigma, sample_rate, steps)], budget.delta)

    spent = epsilon_of(history, budget.delta)
    if spent >= budget.epsilon:
        raise InvalidMechanismError(
            f"no budget left: epsilon already spent {spent:.6g} >= budget {budget.epsilon:.6g}"
        )
    sigma_low, sigma_high, eps_high = 0.0, 10.0, math.inf
    while eps_high > budget.epsilon:
        sigma_high *= 2
        if sigma_high > MAX_NOISE_MULTIPLIER:
            raise InvalidMechanismError(
                f"remaining budget too small: even noise multiplier {MAX_NOISE_MULTIPLIER:g} "
                f"exceeds epsilon {budget.epsilon:.6g} (spent {spent:.6g})"
            )
        eps_high = total(sigma_high)
    while budget.epsilon - eps_high > epsilon_tolerance and sigma_high - sigma_low > 1e-9:
        sigma = (sigma_low + sigma_high) / 2
        eps = total(sigma)
        if eps < budget.epsilon:
            sigma_high, eps_high = sigma, eps
        else:
            sigma_low = sigma
    return sigma_high


def gaussian_sigma_within_budget(
    history: Sequence[HistoryEntry],
    budget: Budget,
    *,
    sensitivity: float,
    releases: int = 1,
    epsilon_tolerance: float = DEFAULT_EPSILON_TOLERANCE,
) -> float:
    """Noise standard deviation for a Gaussian statistics release that stays in budget."""
    sensitivity = _check_positive("sensitivity", sensitivity)
    return sensitivity * noise_multiplier_within_budget(
        history,
        budget,
        sample_rate=1.0,
        steps=releases,
        epsilon_tolerance=epsilon_tolerance,
    )


__all__ = [
    "DEFAULT_EPSILON_TOLERANCE",
    "MAX_NOISE_MULTIPLIER",
    "Budget",
    "DpSgd",
    "GaussianRelease",
    "HistoryEntry",
    "Mechanism",
    "epsilon_of",
    "gaussian_sigma_within_budget",
    "noise_multiplier_for",
    "noise_multiplier_within_budget",
]
