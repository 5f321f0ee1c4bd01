"""One account per node and privacy unit: training and statistics composed, pinned to Opacus.

Reference epsilons were computed once with opacus 1.6.0 on this machine:
``a = RDPAccountant(); a.history = [(1.1, 0.01, 1000), (z, 1.0, 1)]; a.get_epsilon(1e-5)``
with ``z`` the statistics release's sigma over its unit's sensitivity; they are literals
here so a change in Opacus, in the unit's sensitivity or in our accounting shows up.
"""

from __future__ import annotations

import math

import pytest

from governance.policy import default_node_policy
from governance.privacy import (
    DpSgd,
    GaussianRelease,
    InMemoryLedgerStore,
    PrivacyLedger,
    epsilon_of,
)
from open_models.benchmark_values import RoundTerms

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the")

TRAINING = DpSgd(1.1, 0.01, 1000)  # alone: 1.7117700912203435 (test_privacy_accounting)
#: A statistics round over two years at z = 3 (sigma = 3 * sqrt(7), normalised units).
TERMS = RoundTerms(1, (2022, 2023), 3.0, 3, "0" * 32, 1.0, 1e-5, 3, 2)

PINNED = [
    # (unit, epsilon of training + statistics composed in the unit's one account)
    ("facility", 2.686601443977779),  # statistics as z / sqrt(2) = 2.1213...
    ("record", 2.2240853298586996),  # statistics as z = 3
]


def test_the_default_unit_is_the_facility_with_the_policy_budget() -> None:
    unit, budget = default_node_policy("node-a", "IN").privacy_budget.unit_account()
    assert unit == "facility" and (budget.epsilon, budget.delta) == (8.0, 1e-5)


def test_a_facility_over_a_round_of_years_has_sqrt_years_times_the_cell_sensitivity() -> None:
    assert TERMS.sensitivity("facility") == pytest.approx(math.sqrt(7) * math.sqrt(2))
    assert TERMS.sensitivity("record") == pytest.approx(math.sqrt(7))


@pytest.mark.parametrize(("unit", "expected"), PINNED)
def test_training_and_statistics_compose_in_one_account(unit: str, expected: float) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    ledger.charge("n1", unit, "2026", TRAINING, (8.0, 1e-5), "training round 1")
    statistics = GaussianRelease(TERMS.sigma_total, TERMS.sensitivity(unit))
    receipt = ledger.charge("n1", unit, "2026", statistics, (8.0, 1e-5), "statistics round 1")
    assert receipt.epsilon_after == pytest.approx(expected, rel=1e-9)
    assert epsilon_of(ledger.state("n1", unit, "2026").history, 1e-5) == receipt.epsilon_after
    # charged once, composed: above either release alone, below their sum
    alone = epsilon_of([statistics.entry()], 1e-5)
    assert max(1.7117700912203435, alone) < receipt.epsilon_after < 1.7117700912203435 + alone


def test_noise_shares_leave_sigma_to_the_honest_remainder() -> None:
    """n = 3 shares, c = 1 curious: any two shares carry exactly sigma_total."""
    assert 2 * TERMS.sigma_node**2 == pytest.approx(TERMS.sigma_total**2)
