"""The node's ledger seen as one account: ``open_models.accounting.PrivacyAccount``.

Why a separate adapter: the DP training wrapper in ``open_models`` must not know how a
node keys, stores or audits its accounts. This binds one (node, dataset, period) key and
its budget to the ledger, so a round is charged (or refused and recorded) exactly as any
other release of the node is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from governance.privacy.accounting import Budget, DpSgd
from governance.privacy.ledger import PrivacyLedger
from open_models.accounting import HistoryEntry, Spend

#: The dataset an account is kept under when the caller names none (tests, benchmarks).
DEFAULT_DATASET: Final = "facility_records"


@dataclass(frozen=True)
class LedgerAccount:
    """One account of ``ledger``; implements ``open_models.accounting.PrivacyAccount``."""

    ledger: PrivacyLedger
    node_id: str
    period: str
    budget: Budget
    dataset: str = DEFAULT_DATASET

    @property
    def epsilon_budget(self) -> float:
        """The account's epsilon cap, from the node policy's budget."""
        return self.budget.epsilon

    @property
    def delta(self) -> float:
        """The delta the budget is stated at."""
        return self.budget.delta

    def history(self) -> Sequence[HistoryEntry]:
        """The saved accountant history of this account."""
        return self.ledger.state(self.node_id, self.dataset, self.period).history

    def charge_dp_sgd(
        self, noise_multiplier: float, sample_rate: float, steps: int, reason: str
    ) -> Spend:
        """Charge one DP-SGD round; over budget the ledger records the refusal and raises."""
        receipt = self.ledger.charge(
            self.node_id,
            self.dataset,
            self.period,
            DpSgd(noise_multiplier, sample_rate, steps),
            self.budget,
            reason,
        )
        return Spend(receipt.epsilon_before, receipt.epsilon_after)
