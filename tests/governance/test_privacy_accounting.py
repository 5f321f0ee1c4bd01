"""Pure accounting math and accountant state, pinned to Opacus' own numbers.

Reference epsilons were computed once with opacus 1.6.0 on this machine:
``a = RDPAccountant(); a.history = [...]; a.get_epsilon(delta=...)`` and
``get_noise_multiplier(target_epsilon=5.0, target_delta=1e-5, sample_rate=0.01,
steps=1000)``; they are literals here so a change in Opacus or in our code shows up.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from governance.errors import GovernanceError
from governance.privacy import (
    AccountantState,
    AccountantStateError,
    Budget,
    DpSgd,
    GaussianRelease,
    HistoryEntry,
    InvalidMechanismError,
    PrivacyError,
    epsilon_of,
    gaussian_sigma_within_budget,
    noise_multiplier_for,
    noise_multiplier_within_budget,
)

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha")

REFERENCES = [
    # (history, delta, epsilon from opacus 1.6.0 RDPAccountant)
    ([(1.1, 0.01, 1000)], 1e-5, 1.7117700912203435),
    ([(0.8, 0.004, 2500)], 1e-5, 2.333175910866927),
    ([(2.0, 1.0, 1)], 1e-5, 2.1657156590294435),
    ([(5.0, 1.0, 1)], 1e-6, 0.8999385041732184),
    ([(1.1, 0.01, 1000), (2.0, 1.0, 1), (1.1, 0.01, 500)], 1e-5, 3.0610673156239274),
]


@pytest.mark.parametrize(("history", "delta", "expected"), REFERENCES)
def test_epsilon_matches_opacus_reference(
    history: list[tuple[float, float, int]], delta: float, expected: float
) -> None:
    entries = [HistoryEntry(*h) for h in history]
    assert epsilon_of(entries, delta) == pytest.approx(expected, rel=1e-9)


def test_empty_history_spends_nothing() -> None:
    assert epsilon_of([], 1e-5) == 0.0


def test_gaussian_release_is_one_full_batch_step_with_sigma_over_sensitivity() -> None:
    release = GaussianRelease(sigma=6.0, sensitivity=3.0)
    assert release.entry() == HistoryEntry(2.0, 1.0, 1)
    assert epsilon_of([release.entry()], 1e-5) == pytest.approx(2.1657156590294435, rel=1e-9)


def test_noise_multiplier_for_matches_opacus_reference() -> None:
    sigma = noise_multiplier_for(target_epsilon=5.0, delta=1e-5, sample_rate=0.01, steps=1000)
    assert sigma == pytest.approx(0.7196044921875, rel=1e-9)
    eps = epsilon_of([HistoryEntry(sigma, 0.01, 1000)], 1e-5)
    assert 5.0 - 0.01 <= eps <= 5.0


def test_within_budget_on_fresh_account_equals_opacus_search() -> None:
    ours = noise_multiplier_within_budget([], Budget(5.0, 1e-5), sample_rate=0.01, steps=1000)
    theirs = get_noise_multiplier(
        target_epsilon=5.0, target_delta=1e-5, sample_rate=0.01, steps=1000
    )
    assert ours == theirs


def test_within_budget_accounts_for_what_was_spent() -> None:
    history = [HistoryEntry(1.1, 0.01, 1000)]  # 1.7118 at 1e-5
    budget = Budget(3.0, 1e-5)
    sigma = noise_multiplier_within_budget(history, budget, sample_rate=0.01, steps=500)
    total = epsilon_of([*history, HistoryEntry(sigma, 0.01, 500)], 1e-5)
    assert budget.epsilon - 0.01 <= total <= budget.epsilon
    # A fresh-account choice for "the remaining 1.29" would overspend or underspend:
    # RDP composes per order, not in epsilon. Ours is exactly at the budget.
    naive = noise_multiplier_for(
        target_epsilon=3.0 - 1.7117700912203435, delta=1e-5, sample_rate=0.01, steps=500
    )
    assert naive != pytest.approx(sigma, rel=1e-3)


def test_gaussian_sigma_within_budget_scales_with_sensitivity() -> None:
    budget = Budget(1.0, 1e-5)
    s1 = gaussian_sigma_within_budget([], budget, sensitivity=1.0)
    s10 = gaussian_sigma_within_budget([], budget, sensitivity=10.0)
    assert s10 == pytest.approx(10 * s1, rel=1e-12)
    eps = epsilon_of([GaussianRelease(s10, 10.0).entry()], 1e-5)
    assert 0.99 <= eps <= 1.0


def test_nothing_left_is_refused() -> None:
    with pytest.raises(InvalidMechanismError, match="no budget left"):
        noise_multiplier_within_budget(
            [HistoryEntry(0.8, 0.004, 2500)], Budget(2.0, 1e-5), sample_rate=0.01, steps=1
        )


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: DpSgd(0.0, 0.01, 10), "noise_multiplier"),
        (lambda: DpSgd(float("nan"), 0.01, 10), "noise_multiplier"),
        (lambda: DpSgd(1.0, 1.5, 10), "sample_rate"),
        (lambda: DpSgd(1.0, 0.01, 0), "steps"),
        (lambda: GaussianRelease(1.0, 0.0), "sensitivity"),
        (lambda: GaussianRelease(-1.0, 1.0), "sigma"),
        (lambda: Budget(0.0, 1e-5), "epsilon"),
        (lambda: Budget(1.0, 1.0), "delta"),
    ],
)
def test_bad_parameters_are_named(make: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidMechanismError, match=field) as info:
        make()
    assert isinstance(info.value, PrivacyError)
    assert isinstance(info.value, GovernanceError)


def test_state_dict_is_loadable_by_opacus_and_back() -> None:
    state = AccountantState.empty().with_entry(HistoryEntry(1.1, 0.01, 1000))
    state = state.with_entry(HistoryEntry(2.0, 1.0, 1))
    accountant = RDPAccountant()
    accountant.load_state_dict(state.state_dict())
    assert accountant.get_epsilon(delta=1e-5) == state.epsilon(1e-5)
    accountant.step(noise_multiplier=2.0, sample_rate=1.0)
    back = AccountantState.from_accountant(accountant)
    assert back.history == (HistoryEntry(1.1, 0.01, 1000), HistoryEntry(2.0, 1.0, 2))


def test_state_merges_runs_like_opacus_stepping() -> None:
    accountant = RDPAccountant()
    for _ in range(300):
        accountant.step(noise_multiplier=1.1, sample_rate=0.01)
    state = AccountantState.empty()
    for steps in (100, 150, 50):
        state = state.with_entry(HistoryEntry(1.1, 0.01, steps))
    assert state.state_dict() == accountant.state_dict()
    assert state.epsilon(1e-5) == pytest.approx(accountant.get_epsilon(delta=1e-5), rel=1e-12)


def test_save_restore_continue_equals_uninterrupted_run() -> None:
    runs = [HistoryEntry(1.1, 0.01, 400), HistoryEntry(3.0, 1.0, 1), HistoryEntry(0.9, 0.02, 50)]
    uninterrupted = AccountantState.empty()
    for run in runs:
        uninterrupted = uninterrupted.with_entry(run)
    saved = AccountantState.empty().with_entry(runs[0]).to_json()
    restored = AccountantState.from_json(saved)
    for run in runs[1:]:
        restored = restored.with_entry(run)
    assert restored == uninterrupted
    assert restored.epsilon(1e-5) == uninterrupted.epsilon(1e-5)


def test_json_is_exact_for_awkward_floats() -> None:
    state = AccountantState.empty().with_entry(HistoryEntry(0.1 + 0.2, 1 / 3, 7))
    assert AccountantState.from_json(state.to_json()) == state


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"history": [], "mechanism": "prv"}', "mechanism"),
        ('{"history": [[1.0, 0.5]], "mechanism": "rdp"}', r"history\[0\]"),
        ('{"history": [[1.0, 0.5, 3], [1.0, 2.0, 3]], "mechanism": "rdp"}', r"history\[1\]"),
        ('{"history": "x", "mechanism": "rdp"}', "must be a list"),
        ("not json", "not valid JSON"),
    ],
)
def test_malformed_state_is_refused_with_its_place(raw: str, message: str) -> None:
    with pytest.raises(AccountantStateError, match=message):
        AccountantState.from_json(raw)
