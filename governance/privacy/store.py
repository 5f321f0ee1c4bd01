"""Where accountant states live: one abstract store, an in-memory and a SQL implementation.

A store keeps, per (node, dataset, period), the accountant state with a version number
(for optimistic concurrency: two charges racing on one account cannot both pass the
budget check), an append-only list of charges, and an append-only list of refusals.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from governance.privacy.errors import InvalidMechanismError, LedgerConflictError
from governance.privacy.state import AccountantState

MAX_KEY_PART = 200  # column width of node_id / dataset / period in the SQL tables


@dataclass(frozen=True, order=True)
class LedgerKey:
    """One account: a node's dataset in one accounting period."""

    node_id: str
    dataset: str
    period: str

    def __post_init__(self) -> None:
        for name in ("node_id", "dataset", "period"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_PART:
                raise InvalidMechanismError(
                    f"ledger {name} must be a non-empty string of at most {MAX_KEY_PART} "
                    f"characters, got {value!r}"
                )


@dataclass(frozen=True)
class ChargeRecord:
    """A charge that was accepted: what was spent, why, and the epsilon before and after."""

    key: LedgerKey
    kind: str
    noise_multiplier: float
    sample_rate: float
    steps: int
    reason: str
    delta: float
    budget_epsilon: float
    epsilon_before: float
    epsilon_after: float
    at: datetime


@dataclass(frozen=True)
class RefusalRecord:
    """A charge that was refused because it would have exceeded the budget."""

    key: LedgerKey
    kind: str
    noise_multiplier: float
    sample_rate: float
    steps: int
    reason: str
    delta: float
    budget_epsilon: float
    spent_epsilon: float
    would_be_epsilon: float
    at: datetime


class LedgerStore(ABC):
    """Persistence of accountant states, charges and refusals."""

    @abstractmethod
    def load(self, key: LedgerKey) -> tuple[AccountantState, int]:
        """The account's state and version; ``(empty, 0)`` for an account never charged."""

    @abstractmethod
    def commit_charge(
        self, key: LedgerKey, state: AccountantState, expected_version: int, record: ChargeRecord
    ) -> int:
        """Store ``state`` and ``record`` atomically if the version is still ``expected_version``.

        Returns the new version; raises :class:`LedgerConflictError` when another charge
        got there first (the caller reloads and re-checks the budget).
        """

    @abstractmethod
    def record_refusal(self, record: RefusalRecord) -> None: ...

    @abstractmethod
    def charges(self, key: LedgerKey) -> list[ChargeRecord]:
        """Accepted charges of one account, oldest first."""

    @abstractmethod
    def refusals(self, key: LedgerKey | None = None) -> list[RefusalRecord]:
        """Refusals of one account (or of all accounts), oldest first."""


class InMemoryLedgerStore(LedgerStore):
    """A process-local store: for tests and for tools that need no persistence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[LedgerKey, tuple[AccountantState, int]] = {}
        self._charges: list[ChargeRecord] = []
        self._refusals: list[RefusalRecord] = []

    def load(self, key: LedgerKey) -> tuple[AccountantState, int]:
        with self._lock:
            return self._states.get(key, (AccountantState.empty(), 0))

    def commit_charge(
        self, key: LedgerKey, state: AccountantState, expected_version: int, record: ChargeRecord
    ) -> int:
        with self._lock:
            _, version = self._states.get(key, (AccountantState.empty(), 0))
            if version != expected_version:
                raise LedgerConflictError(
                    f"account {key} changed concurrently (version {version}, "
                    f"expected {expected_version})"
                )
            self._states[key] = (state, version + 1)
            self._charges.append(record)
            return version + 1

    def record_refusal(self, record: RefusalRecord) -> None:
        with self._lock:
            self._refusals.append(record)

    def charges(self, key: LedgerKey) -> list[ChargeRecord]:
        with self._lock:
            return [c for c in self._charges if c.key == key]

    def refusals(self, key: LedgerKey | None = None) -> list[RefusalRecord]:
        with self._lock:
            return [r for r in self._refusals if key is None or r.key == key]
