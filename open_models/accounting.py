"""The privacy-accounting interface the DP training wrapper needs, and nothing more.

Why here: as Opacus keeps ``IAccountant`` inside the library that trains, the library
that trains the open models states what it needs of an account (its history, its budget,
a charge that refuses before any work is done) and ``governance.privacy`` implements it
with the node's persistent, audited ledger. ``open_models`` therefore never imports
``governance``; the layers run kernel < open_models < governance < parties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

#: Opacus' own search bound (``opacus.accountants.utils.MAX_SIGMA``, opacus 1.6.0): beyond
#: it the budget is deemed too small for any useful release.
MAX_NOISE_MULTIPLIER: Final = 1e6


class HistoryEntry(NamedTuple):
    """One run of identical steps, exactly Opacus' accountant history tuple."""

    noise_multiplier: float
    sample_rate: float
    steps: int


@dataclass(frozen=True)
class Spend:
    """What one charge moved the account from and to (epsilon at the account's delta)."""

    epsilon_before: float
    epsilon_after: float


class PrivacyAccount(Protocol):
    """One (node, dataset, period) account that DP-SGD rounds are charged to.

    ``charge_dp_sgd`` must record the charge, or record the refusal and raise, *before*
    the caller computes any gradient: the wrapper relies on that ordering.
    """

    @property
    def epsilon_budget(self) -> float:
        """The epsilon the account may reach at most."""
        ...

    @property
    def delta(self) -> float:
        """The delta every epsilon of this account is stated at."""
        ...

    def history(self) -> Sequence[HistoryEntry]:
        """Every charge so far, in order (what planning composes with)."""
        ...

    def charge_dp_sgd(
        self, noise_multiplier: float, sample_rate: float, steps: int, reason: str
    ) -> Spend:
        """Record one DP-SGD round, or record a refusal and raise if it would exceed budget."""
        ...
