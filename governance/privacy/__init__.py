"""Privacy-budget ledger: how much epsilon each node has spent per dataset and period.

``accounting`` is the pure math (Opacus' RDP accountant), ``state`` the accountant's
saveable history, ``store``/``sql_store`` its persistence and ``ledger`` the guard that
charges a release or refuses it before any work starts.
"""

from governance.privacy.account import DEFAULT_DATASET, LedgerAccount
from governance.privacy.accounting import (
    DEFAULT_EPSILON_TOLERANCE,
    Budget,
    DpSgd,
    GaussianRelease,
    Mechanism,
    epsilon_of,
    gaussian_sigma_within_budget,
    noise_multiplier_for,
    noise_multiplier_within_budget,
)
from governance.privacy.errors import (
    AccountantStateError,
    BudgetExceededError,
    InvalidMechanismError,
    LedgerConflictError,
    PrivacyError,
)
from governance.privacy.ledger import ChargeReceipt, PrivacyLedger
from governance.privacy.state import AccountantState
from governance.privacy.store import (
    ChargeRecord,
    InMemoryLedgerStore,
    LedgerKey,
    LedgerStore,
    RefusalRecord,
)
from open_models.accounting import HistoryEntry

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_EPSILON_TOLERANCE",
    "AccountantState",
    "AccountantStateError",
    "Budget",
    "BudgetExceededError",
    "ChargeReceipt",
    "ChargeRecord",
    "DpSgd",
    "GaussianRelease",
    "HistoryEntry",
    "InMemoryLedgerStore",
    "InvalidMechanismError",
    "LedgerAccount",
    "LedgerConflictError",
    "LedgerKey",
    "LedgerStore",
    "Mechanism",
    "PrivacyError",
    "PrivacyLedger",
    "RefusalRecord",
    "epsilon_of",
    "gaussian_sigma_within_budget",
    "noise_multiplier_for",
    "noise_multiplier_within_budget",
]
