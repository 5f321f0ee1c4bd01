"""DP wrapper: the ledger charges what the accountant computes; refusal before any work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from opacus.accountants import RDPAccountant

from governance.privacy import (
    Budget,
    BudgetExceededError,
    DpSgd,
    InMemoryLedgerStore,
    LedgerAccount,
    PrivacyLedger,
)
from open_models.dp import DpSpec, DpTrainer
from open_models.training import TrainConfig, train_local
from trust_node.generate import generate

BUDGET = Budget(5.0, 1e-5)


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return generate(["DE"], records=160, seed=11).records


def _spec(ledger: PrivacyLedger, **kw: object) -> DpSpec:
    return DpSpec(LedgerAccount(ledger, "node-de", "2026", BUDGET), noise_seed=1, **kw)  # type: ignore[arg-type]


def test_epsilon_spent_equals_accountant(records: pd.DataFrame) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    config = TrainConfig(epochs=2, batch_size=16, seed=0)
    result = train_local(None, records, config, _spec(ledger, rounds_remaining=3))
    dp = result.dp
    assert dp is not None
    accountant = RDPAccountant()
    accountant.history = [(dp.noise_multiplier, dp.sample_rate, dp.steps)]
    expected = accountant.get_epsilon(delta=BUDGET.delta)
    assert result.epsilon_spent == pytest.approx(expected, rel=1e-12)
    assert ledger.spent("node-de", "facility_records", "2026", BUDGET.delta) == pytest.approx(
        expected, rel=1e-12
    )
    # One third of the budget per round, planned over three rounds (RDP: a bit more).
    assert 0 < result.epsilon_spent < BUDGET.epsilon
    batches = int(np.ceil(result.num_examples / 16))
    assert dp.steps == 2 * batches and dp.sample_rate == pytest.approx(1 / batches)
    # The remaining two rounds stay within budget; a further one is refused: what is left
    # could only be spent with more noise than the node's max_noise_multiplier.
    for remaining in (2, 1):
        last = train_local(None, records, config, _spec(ledger, rounds_remaining=remaining))
    assert BUDGET.epsilon - 0.2 <= last.epsilon_spent <= BUDGET.epsilon  # planning bound
    with pytest.raises(BudgetExceededError):
        train_local(
            None, records, config, _spec(ledger, rounds_remaining=1, max_noise_multiplier=2.0)
        )
    assert len(ledger.refusals("node-de", "facility_records", "2026")) == 1


def test_refused_before_any_work(records: pd.DataFrame) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    ledger.charge("node-de", "facility_records", "2026", DpSgd(0.8, 0.5, 50), (1e3, 1e-5), "x")
    assert ledger.spent("node-de", "facility_records", "2026", BUDGET.delta) > BUDGET.epsilon
    spent = ledger.spent("node-de", "facility_records", "2026", BUDGET.delta)
    calls: list[int] = []

    def work(*_args: object) -> None:
        calls.append(1)

    import torch
    from torch.utils.data import DataLoader, TensorDataset

    net = torch.nn.Linear(2, 1)
    loader = DataLoader(TensorDataset(torch.zeros(10, 2)), batch_size=5)
    with pytest.raises(BudgetExceededError):
        DpTrainer(_spec(ledger)).run(
            net, torch.optim.SGD(net.parameters(), lr=0.1), loader, 1, work, reason="round 9"
        )
    assert calls == []
    assert [r.reason for r in ledger.refusals("node-de", "facility_records", "2026")] == ["round 9"]
    assert ledger.spent("node-de", "facility_records", "2026", BUDGET.delta) == spent


def test_noise_seed_reproducible_and_update_clipped(records: pd.DataFrame) -> None:
    config = TrainConfig(epochs=1, batch_size=16, seed=0, update_clip_norm=0.05)

    def run(seed: int) -> np.ndarray:
        ledger = PrivacyLedger(InMemoryLedgerStore())
        spec = DpSpec(
            LedgerAccount(ledger, "n", "2026", BUDGET),
            rounds_remaining=5,
            noise_seed=seed,
        )
        result = train_local(None, records, config, spec)
        assert result.clipped and result.update_norm > 0.05
        assert np.linalg.norm(result.update) == pytest.approx(0.05)
        return result.update

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_plan_epsilon_leaves_the_rest_of_the_budget_to_other_releases(
    records: pd.DataFrame,
) -> None:
    """A node whose one account also pays for statistics plans training below its budget."""
    ledger = PrivacyLedger(InMemoryLedgerStore())
    config = TrainConfig(epochs=2, batch_size=16, seed=0)
    result = train_local(None, records, config, _spec(ledger, plan_epsilon=3.0))
    assert 3.0 - 0.2 <= result.epsilon_spent <= 3.0 < BUDGET.epsilon
