"""Attack: training and statistics each spending a full budget on the same facility.

A real node (``gcdt-node init`` home, generated records, its SQLite ledger), its real DP
training round (Opacus) and its real statistics release (TenSEAL). Before issue 14 the two
kinds charged separate accounts, each given the whole policy epsilon, so a facility in
both reached about twice the stated budget. Now both charge the node's one privacy-unit
account (the facility), composed under RDP, and a statistics release that would take the
facility past the budget is refused before any record is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from opacus.accountants import RDPAccountant

from governance.ckks import CkksKey
from governance.policy import write_policy
from open_models.benchmark_values import RoundTerms
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.trust_setup import settings_for
from trust_node.context import NodeContext
from trust_node.federation.training import LocalUpdate, local_round
from trust_node.generate import generate
from trust_node.node_setup import init_node
from trust_node.statistics import StatisticsBudgetRefusedError, prepare_release
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository
from trust_node.tenants import consented_records

BUDGET = 4.0
DELTA = 1e-5
YEARS = (2022, 2023)


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def node(tmp_path: Path) -> NodeContext:
    settings = settings_for(tmp_path / "node")
    init_node(settings, "node-p", "IN")
    ctx = NodeContext.open(settings.home_dir)
    policy = ctx.node_policy
    budget = policy.privacy_budget.model_copy(update={"epsilon": BUDGET, "delta": DELTA})
    write_policy(
        policy.model_copy(update={"privacy_budget": budget}), ctx.layout.node_policy, ctx.identity
    )
    data = generate(["IN"], records=60, seed=3, start_year=YEARS[0], end_year=YEARS[-1])
    repo = SqlRecordRepository.from_url(settings.database_url)
    repo.add_batch(OPERATOR_TENANT, data.records, source="test", sha256="0" * 64)
    repo.engine.dispose()
    return NodeContext.open(settings.home_dir)


def _train(node: NodeContext, rounds_remaining: int) -> LocalUpdate:
    spec = FeatureSpec()
    flat = flatten(initial_weights(spec), weight_layout(spec))
    update = local_round(
        node, flat, run="composed", round_no=1, clip_norm=1.0, rounds_remaining=rounds_remaining
    )
    assert isinstance(update, LocalUpdate), update
    return update


def _terms(key: CkksKey, z: float) -> RoundTerms:
    return RoundTerms(1, YEARS, z, 3, key.key_id, 1.0, DELTA, 3, 2)


def _release(node: NodeContext, key: CkksKey, terms: RoundTerms, reads: list[int]) -> float:
    """The node's statistics release exactly as ``gcdt-node submit-statistics`` makes it."""
    unit, budget = node.node_policy.privacy_budget.unit_account()

    def load() -> pd.DataFrame:
        reads.append(1)
        return consented_records(node.repository, "statistics", policy=node.node_policy)

    release = prepare_release(
        terms,
        key=key,
        ledger=node.ledger,
        node_id=node.node_id,
        period=node.node_policy.privacy_budget.accounting_period,
        budget=(budget.epsilon, budget.delta),
        load_records=load,
        unit=unit,
    )
    return release.receipt.epsilon_after


def test_training_and_statistics_compose_in_one_facility_account(
    node: NodeContext, key: CkksKey
) -> None:
    update = _train(node, rounds_remaining=4)  # plans a quarter of the budget's rounds
    reads: list[int] = []
    terms = _terms(key, z=3.0)
    after = _release(node, key, terms, reads)
    assert reads == [1]
    period = node.node_policy.privacy_budget.accounting_period
    charges = node.ledger.charges(node.node_id, "facility", period)
    assert [c.kind for c in charges] == ["dp_sgd", "gaussian"]
    for separate in ("training", "statistics"):
        assert node.ledger.charges(node.node_id, separate, period) == []
    # Opacus' accountant stepped through both releases gives the account's epsilon.
    accountant = RDPAccountant()
    train = charges[0]
    accountant.history = [
        (train.noise_multiplier, train.sample_rate, train.steps),
        (terms.sigma_total / terms.sensitivity("facility"), 1.0, 1),
    ]
    assert after == pytest.approx(accountant.get_epsilon(DELTA), rel=1e-9)
    assert update.epsilon_after < after <= BUDGET
    # the facility's sensitivity over two years is sqrt(2) times one cell's
    assert charges[1].noise_multiplier == pytest.approx(3.0 / np.sqrt(2))


def test_a_statistics_release_past_the_facility_budget_is_refused_before_reading(
    node: NodeContext, key: CkksKey
) -> None:
    # training plans to bring the facility to TRAINING_SHARE of its budget in one round
    _train(node, rounds_remaining=1)
    reads: list[int] = []
    terms = _terms(key, z=2.0)  # alone within budget: epsilon 3.19 < 4
    with pytest.raises(StatisticsBudgetRefusedError, match="privacy budget exceeded"):
        _release(node, key, terms, reads)
    assert reads == []  # refused before any record was read
    period = node.node_policy.privacy_budget.accounting_period
    [refusal] = node.ledger.refusals(node.node_id, "facility", period)
    assert refusal.kind == "gaussian" and refusal.would_be_epsilon > BUDGET
