"""Errors of the privacy-budget ledger.

::

    GovernanceError
    └── PrivacyError
        ├── InvalidMechanismError   a mechanism or budget with impossible parameters
        ├── AccountantStateError    a saved accountant state that cannot be restored
        ├── LedgerConflictError     the same account was changed concurrently too often
        └── BudgetExceededError     a charge would exceed the budget (refused, recorded)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from governance.errors import GovernanceError

if TYPE_CHECKING:
    from governance.privacy.accounting import Budget, Mechanism


class PrivacyError(GovernanceError):
    """Base of every privacy-ledger error."""


class InvalidMechanismError(PrivacyError, ValueError):
    """A mechanism or budget parameter is out of range (named in the message)."""


class AccountantStateError(PrivacyError, ValueError):
    """A saved accountant state is malformed or of another accounting mechanism."""


class LedgerConflictError(PrivacyError):
    """An account kept changing under a charge; retrying did not settle it."""


class BudgetExceededError(PrivacyError):
    """Spending ``mechanism`` would take the account past its budget.

    Raised before any work starts; the refusal is already recorded in the ledger's
    store when the caller sees this, so the caller only has to skip the round.
    """

    def __init__(
        self,
        *,
        node_id: str,
        dataset: str,
        period: str,
        mechanism: Mechanism,
        budget: Budget,
        spent_epsilon: float,
        would_be_epsilon: float,
        reason: str,
    ) -> None:
        self.node_id = node_id
        self.dataset = dataset
        self.period = period
        self.mechanism = mechanism
        self.budget = budget
        self.spent_epsilon = spent_epsilon
        self.would_be_epsilon = would_be_epsilon
        self.reason = reason
        super().__init__(
            f"privacy budget exceeded for node {node_id!r}, dataset {dataset!r}, "
            f"period {period!r}: {mechanism.describe()} for {reason!r} would bring epsilon "
            f"from {spent_epsilon:.6g} to {would_be_epsilon:.6g} > budget "
            f"{budget.epsilon:.6g} (delta {budget.delta:.3g}); refused before any work"
        )
