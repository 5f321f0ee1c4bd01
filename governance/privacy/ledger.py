"""The guard in front of every privacy-consuming release.

A round or a statistics release first asks the ledger to ``charge`` its mechanism. The
ledger computes, with Opacus' RDP accountant, the epsilon the account would reach; if
that exceeds the budget it records a refusal and raises :class:`BudgetExceededError`
*before* anything has been computed, so nothing was released and nothing needs undoing.
Otherwise the charge is committed first and the work runs after: if the work then fails
the charge stands, because the ledger cannot know whether a noised value already left —
over-counting is safe, under-counting is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine

from governance.privacy.accounting import (
    DEFAULT_EPSILON_TOLERANCE,
    Budget,
    Mechanism,
    gaussian_sigma_within_budget,
    noise_multiplier_within_budget,
)
from governance.privacy.errors import (
    BudgetExceededError,
    InvalidMechanismError,
    LedgerConflictError,
)
from governance.privacy.state import AccountantState
from governance.privacy.store import ChargeRecord, LedgerKey, LedgerStore, RefusalRecord

T = TypeVar("T")

# How often a charge re-reads an account that another charge changed under it.
MAX_CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class ChargeReceipt:
    key: LedgerKey
    mechanism: Mechanism
    budget: Budget
    epsilon_before: float
    epsilon_after: float
    version: int


class PrivacyLedger:
    """Cumulative epsilon per (node, dataset, period), enforced before work starts."""

    def __init__(
        self, store: LedgerStore | Engine, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        if isinstance(store, Engine):
            from governance.privacy.sql_store import SqlLedgerStore

            store = SqlLedgerStore(store)
        self.store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def state(self, node_id: str, dataset: str, period: str) -> AccountantState:
        """The saved accountant state (Opacus ``state_dict`` shape via ``.state_dict()``)."""
        return self.store.load(LedgerKey(node_id, dataset, period))[0]

    def spent(self, node_id: str, dataset: str, period: str, delta: float) -> float:
        return self.state(node_id, dataset, period).epsilon(delta)

    def preview(
        self, node_id: str, dataset: str, period: str, mechanism: Mechanism, *, delta: float
    ) -> float:
        """Epsilon the account would reach if ``mechanism`` were spent now (nothing stored)."""
        return self.state(node_id, dataset, period).with_entry(mechanism.entry()).epsilon(delta)

    def charge(
        self,
        node_id: str,
        dataset: str,
        period: str,
        mechanism: Mechanism,
        budget: Budget | tuple[float, float],
        reason: str,
    ) -> ChargeReceipt:
        """Record ``mechanism`` against the account, or refuse (recorded) if over budget."""
        key = LedgerKey(node_id, dataset, period)
        budget = Budget.of(budget)
        entry = mechanism.entry()
        for _ in range(MAX_CONFLICT_RETRIES):
            state, version = self.store.load(key)
            before = state.epsilon(budget.delta)
            after_state = state.with_entry(entry)
            after = after_state.epsilon(budget.delta)
            if after > budget.epsilon:
                self.store.record_refusal(
                    RefusalRecord(
                        key=key,
                        kind=mechanism.kind,
                        noise_multiplier=entry.noise_multiplier,
                        sample_rate=entry.sample_rate,
                        steps=entry.steps,
                        reason=reason,
                        delta=budget.delta,
                        budget_epsilon=budget.epsilon,
                        spent_epsilon=before,
                        would_be_epsilon=after,
                        at=self._clock(),
                    )
                )
                raise BudgetExceededError(
                    node_id=node_id,
                    dataset=dataset,
                    period=period,
                    mechanism=mechanism,
                    budget=budget,
                    spent_epsilon=before,
                    would_be_epsilon=after,
                    reason=reason,
                )
            record = ChargeRecord(
                key=key,
                kind=mechanism.kind,
                noise_multiplier=entry.noise_multiplier,
                sample_rate=entry.sample_rate,
                steps=entry.steps,
                reason=reason,
                delta=budget.delta,
                budget_epsilon=budget.epsilon,
                epsilon_before=before,
                epsilon_after=after,
                at=self._clock(),
            )
            try:
                new_version = self.store.commit_charge(key, after_state, version, record)
            except LedgerConflictError:
                continue
            return ChargeReceipt(key, mechanism, budget, before, after, new_version)
        raise LedgerConflictError(
            f"account {key} kept changing during {MAX_CONFLICT_RETRIES} attempts to charge it"
        )

    def run_charged(
        self,
        node_id: str,
        dataset: str,
        period: str,
        mechanism: Mechanism,
        budget: Budget | tuple[float, float],
        reason: str,
        work: Callable[[], T],
    ) -> T:
        """Charge, then run ``work``; over budget, ``work`` is never called."""
        self.charge(node_id, dataset, period, mechanism, budget, reason)
        return work()

    def noise_multiplier_for_round(
        self,
        node_id: str,
        dataset: str,
        period: str,
        budget: Budget | tuple[float, float],
        *,
        sample_rate: float,
        steps: int,
        epsilon_tolerance: float = DEFAULT_EPSILON_TOLERANCE,
    ) -> float:
        """DP-SGD noise multiplier that uses (up to tolerance) what is left of the budget."""
        return noise_multiplier_within_budget(
            self.state(node_id, dataset, period).history,
            Budget.of(budget),
            sample_rate=sample_rate,
            steps=steps,
            epsilon_tolerance=epsilon_tolerance,
        )

    def gaussian_sigma_for_release(
        self,
        node_id: str,
        dataset: str,
        period: str,
        budget: Budget | tuple[float, float],
        *,
        sensitivity: float,
        releases: int = 1,
        epsilon_tolerance: float = DEFAULT_EPSILON_TOLERANCE,
    ) -> float:
        """Noise standard deviation for a statistics release using what is left of the budget."""
        return gaussian_sigma_within_budget(
            self.state(node_id, dataset, period).history,
            Budget.of(budget),
            sensitivity=sensitivity,
            releases=releases,
            epsilon_tolerance=epsilon_tolerance,
        )

    def charges(self, node_id: str, dataset: str, period: str) -> list[ChargeRecord]:
        return self.store.charges(LedgerKey(node_id, dataset, period))

    def refusals(
        self, node_id: str | None = None, dataset: str | None = None, period: str | None = None
    ) -> list[RefusalRecord]:
        """Refusals of one account, or of all accounts when no account is named."""
        if node_id is None and dataset is None and period is None:
            return self.store.refusals(None)
        if node_id is None or dataset is None or period is None:
            raise InvalidMechanismError("name node_id, dataset and period together, or none")
        return self.store.refusals(LedgerKey(node_id, dataset, period))
