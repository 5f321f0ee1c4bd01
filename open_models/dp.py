"""Differential privacy as a wrapper around a plain training function.

``train_epochs`` (in ``open_models.training``) knows nothing of privacy. :class:`DpTrainer`
takes it, asks the node's privacy account (``open_models.accounting.PrivacyAccount``,
implemented by the node's ledger in ``governance.privacy``) for the history that decides the
noise multiplier keeping the account within budget over the rounds still planned, charges
the account *before* any gradient is computed (an over-budget round raises the account's
refusal error, ``governance.privacy.BudgetExceededError``, with the refusal already
recorded, and no work is done), then lets Opacus' ``PrivacyEngine`` turn model, optimizer
and data loader into their DP versions (Poisson sampling, per-sample clipping, Gaussian
noise) and runs the plain function on them.

Noise: Opacus runs with ``secure_mode=False`` (torchcsprng does not install with torch
2.13, see docs/threat-model.md), so the noise and the Poisson sampling draw from a
``torch.Generator`` seeded from the OS CSPRNG (``os.urandom``) on every round; a fixed
``noise_seed`` is for tests only.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import torch
from opacus import PrivacyEngine
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
from torch import nn
from torch.utils.data import DataLoader

from open_models.accounting import MAX_NOISE_MULTIPLIER, HistoryEntry, PrivacyAccount
from open_models.errors import TrainingError

T = TypeVar("T")

#: Beyond this noise multiplier a DP-SGD update of a model this size carries essentially
#: no signal at the batch sizes nodes have (modelling judgement, see bench/training.py).
DEFAULT_MAX_NOISE_MULTIPLIER: Final = 10.0


#: Planning searches the noise multiplier in [floor, cap] to this precision.
PLAN_SIGMA_FLOOR: Final = 0.3
PLAN_SIGMA_TOLERANCE: Final = 0.01
#: Integer Rényi orders used for planning only (the ledger charges with Opacus' full set).
PLAN_ORDERS: Final = tuple(range(2, 65))


def _integer_order_epsilon(history: Sequence[HistoryEntry], delta: float) -> float:
    """RDP epsilon over integer orders only: an upper bound on Opacus' value.

    Why: Opacus' fractional orders cost time growing with the noise multiplier squared
    (seconds per evaluation at the sample rates nodes use); a bound over a subset of
    orders is never below the full one, so a noise multiplier planned with it never makes
    the ledger's own charge exceed the budget. It spends at most a little less than allowed.
    """
    rdp = np.zeros(len(PLAN_ORDERS))
    for entry in history:
        rdp = rdp + compute_rdp(
            q=entry.sample_rate,
            noise_multiplier=entry.noise_multiplier,
            steps=entry.steps,
            orders=list(PLAN_ORDERS),
        )
    eps, _ = get_privacy_spent(orders=list(PLAN_ORDERS), rdp=rdp, delta=delta)
    return float(eps)


@dataclass(frozen=True)
class DpSpec:
    """Which account a round spends, and how many rounds must still fit into it.

    ``rounds_remaining`` (this round included) spreads what is left of the period's
    budget evenly over the rounds the federation still plans; the last round uses the rest.
    """

    account: PrivacyAccount
    rounds_remaining: int = 1
    max_grad_norm: float = 1.0
    #: A round that would need more noise than this to fit the budget is refused: it
    #: would spend budget on an update that is almost pure noise.
    max_noise_multiplier: float = DEFAULT_MAX_NOISE_MULTIPLIER
    noise_seed: int | None = None  # tests only: None seeds from os.urandom
    #: The epsilon the rounds still planned may bring the account to (None: its budget).
    #: A node whose account also pays for other releases (statistics) plans below the
    #: budget to leave them room; the charge itself is still checked against the budget.
    plan_epsilon: float | None = None

    def __post_init__(self) -> None:
        if self.plan_epsilon is not None and not self.plan_epsilon > 0:
            raise TrainingError(f"plan_epsilon must be > 0, got {self.plan_epsilon!r}")
        if isinstance(self.rounds_remaining, bool) or self.rounds_remaining < 1:
            raise TrainingError(f"rounds_remaining must be >= 1, got {self.rounds_remaining!r}")
        if not self.max_noise_multiplier > 0:
            raise TrainingError(
                f"max_noise_multiplier must be > 0, got {self.max_noise_multiplier!r}"
            )
        if not self.max_grad_norm > 0:
            raise TrainingError(f"max_grad_norm must be > 0, got {self.max_grad_norm!r}")


@dataclass(frozen=True)
class DpRound:
    """What one DP round spent (as charged in the ledger)."""

    noise_multiplier: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    epsilon_before: float
    epsilon_after: float
    delta: float


def noise_generator(seed: int | None) -> torch.Generator:
    """A generator seeded from the OS CSPRNG unless a (test) seed is given."""
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
    return torch.Generator().manual_seed(seed)


class DpTrainer:
    """Runs ``train(module, optimizer, loader, epochs)`` under DP-SGD, charged to the ledger."""

    def __init__(self, spec: DpSpec) -> None:
        self.spec = spec

    def plan(self, *, sample_rate: float, steps: int) -> float:
        """Noise multiplier for this round (nothing charged).

        When the budget left cannot take the round even at ``max_noise_multiplier``, the
        cap is returned: charging it makes the ledger refuse and record the refusal. The
        plan reserves ``rounds_remaining`` identical rounds (RDP adds per order).
        """
        s = self.spec
        cap = min(s.max_noise_multiplier, MAX_NOISE_MULTIPLIER)
        history = list(s.account.history())
        total_steps = steps * s.rounds_remaining
        budget = s.account.epsilon_budget
        if s.plan_epsilon is not None:
            budget = min(budget, s.plan_epsilon)

        def eps(sigma: float) -> float:
            return _integer_order_epsilon(
                [*history, HistoryEntry(sigma, sample_rate, total_steps)], s.account.delta
            )

        if eps(cap) > budget:
            return cap
        low, high = PLAN_SIGMA_FLOOR, cap
        if eps(low) <= budget:
            return low
        while high - low > PLAN_SIGMA_TOLERANCE:
            mid = (low + high) / 2
            if eps(mid) <= budget:
                high = mid
            else:
                low = mid
        return high

    def run(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        loader: DataLoader[tuple[torch.Tensor, ...]],
        epochs: int,
        train: Callable[
            [nn.Module, torch.optim.Optimizer, DataLoader[tuple[torch.Tensor, ...]], int], T
        ],
        *,
        reason: str,
    ) -> tuple[T, DpRound]:
        s = self.spec
        batches = len(loader)
        if batches < 1:
            raise TrainingError("no training batches: the node has no labelled records")
        sample_rate = 1.0 / batches
        steps = epochs * batches
        sigma = self.plan(sample_rate=sample_rate, steps=steps)
        # The account records the charge, or the refusal and raises, before any work.
        receipt = s.account.charge_dp_sgd(sigma, sample_rate, steps, reason)
        generator = noise_generator(s.noise_seed)
        loader.generator = generator  # Poisson sampling draws from it too
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            engine = PrivacyEngine(accountant="rdp", secure_mode=False)
        dp_module, dp_optimizer, dp_loader = engine.make_private(
            module=module,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=sigma,
            max_grad_norm=s.max_grad_norm,
            poisson_sampling=True,
            noise_generator=generator,
        )
        with warnings.catch_warnings():
            # Opacus warns on every round that secure_mode is off (documented above) and
            # torch that the input needs no grad (features are data): neither is news.
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            warnings.filterwarnings("ignore", message="Full backward hook is firing")
            result = train(dp_module, dp_optimizer, dp_loader, epochs)
        return result, DpRound(
            noise_multiplier=sigma,
            sample_rate=sample_rate,
            steps=steps,
            max_grad_norm=s.max_grad_norm,
            epsilon_before=receipt.epsilon_before,
            epsilon_after=receipt.epsilon_after,
            delta=s.account.delta,
        )


def with_dp(
    spec: DpSpec,
    train: Callable[
        [nn.Module, torch.optim.Optimizer, DataLoader[tuple[torch.Tensor, ...]], int], T
    ],
    *,
    reason: str = "federated training round",
) -> Callable[
    [nn.Module, torch.optim.Optimizer, DataLoader[tuple[torch.Tensor, ...]], int], tuple[T, DpRound]
]:
    """``train`` with the same signature, run under DP and charged to ``spec``'s account."""
    trainer = DpTrainer(spec)

    def wrapped(
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        loader: DataLoader[tuple[torch.Tensor, ...]],
        epochs: int,
    ) -> tuple[T, DpRound]:
        return trainer.run(module, optimizer, loader, epochs, train, reason=reason)

    return wrapped


__all__ = ["DpRound", "DpSpec", "DpTrainer", "noise_generator", "with_dp"]
