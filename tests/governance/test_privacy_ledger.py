"""The ledger against every store: in memory, SQLite, and PostgreSQL when configured.

PostgreSQL runs on a fresh database from the shared ``postgres_url`` fixture
(``tests/conftest.py``: skipped locally without a server, a failure under CI).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opacus.accountants import RDPAccountant

from governance.privacy import (
    AccountantState,
    Budget,
    BudgetExceededError,
    ChargeRecord,
    DpSgd,
    GaussianRelease,
    InMemoryLedgerStore,
    LedgerConflictError,
    LedgerKey,
    LedgerStore,
    PrivacyError,
    PrivacyLedger,
)
from governance.privacy.sql_store import SqlLedgerStore
from governance.tables import migrate
from kernel.db import make_engine

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha")

DELTA = 1e-5
# opacus 1.6.0 RDPAccountant, history [(1.1, 0.01, 1000)] at delta 1e-5
EPS_1000_STEPS = 1.7117700912203435
# ... and [(1.1, 0.01, 1000), (2.0, 1.0, 1), (1.1, 0.01, 500)] at delta 1e-5
EPS_MIXED = 3.0610673156239274


class StoreFactory:
    """Builds a store, and re-opens the same persisted state as a new process would."""

    def __init__(self, open_store: Callable[[], LedgerStore]) -> None:
        self._open = open_store

    def __call__(self) -> LedgerStore:
        return self._open()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    if request.param == "memory":
        shared = InMemoryLedgerStore()
        yield StoreFactory(lambda: shared)
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    engines = []

    def _open() -> LedgerStore:
        engine = make_engine(url)
        engines.append(engine)
        migrate(engine)
        return SqlLedgerStore(engine)

    yield StoreFactory(_open)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def node() -> str:
    return f"node-{uuid.uuid4().hex[:8]}"


class TestLedger:
    def test_fresh_account_has_spent_nothing(self, open_store: StoreFactory, node: str) -> None:
        ledger = PrivacyLedger(open_store())
        assert ledger.spent(node, "facilities", "2025", DELTA) == 0.0
        assert ledger.state(node, "facilities", "2025") == AccountantState.empty()

    def test_single_charge_spends_the_reference_epsilon(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        receipt = ledger.charge(
            node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), (5.0, DELTA), "round 1"
        )
        assert receipt.epsilon_before == 0.0
        assert receipt.epsilon_after == pytest.approx(EPS_1000_STEPS, rel=1e-9)
        assert ledger.spent(node, "facilities", "2025", DELTA) == pytest.approx(
            EPS_1000_STEPS, rel=1e-9
        )

    def test_cumulative_epsilon_equals_the_accountants(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        budget = Budget(10.0, DELTA)
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 400), budget, "round 1")
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 600), budget, "round 2")
        ledger.charge(node, "facilities", "2025", GaussianRelease(3.0, 1.5), budget, "stats")
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 500), budget, "round 3")

        accountant = RDPAccountant()  # what a node's PrivacyEngine would have stepped
        for _ in range(1000):
            accountant.step(noise_multiplier=1.1, sample_rate=0.01)
        accountant.step(noise_multiplier=2.0, sample_rate=1.0)
        for _ in range(500):
            accountant.step(noise_multiplier=1.1, sample_rate=0.01)

        spent = ledger.spent(node, "facilities", "2025", DELTA)
        assert spent == pytest.approx(accountant.get_epsilon(delta=DELTA), rel=1e-9)
        assert spent == pytest.approx(EPS_MIXED, rel=1e-9)
        assert ledger.state(node, "facilities", "2025").state_dict() == accountant.state_dict()
        charges = ledger.charges(node, "facilities", "2025")
        assert [c.reason for c in charges] == ["round 1", "round 2", "stats", "round 3"]
        assert charges[-1].epsilon_after == pytest.approx(EPS_MIXED, rel=1e-9)
        assert [c.kind for c in charges] == ["dp_sgd", "dp_sgd", "gaussian", "dp_sgd"]

    def test_restore_and_continue_equals_uninterrupted(
        self, open_store: StoreFactory, node: str
    ) -> None:
        first = PrivacyLedger(open_store())
        first.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), (9.0, DELTA), "r1")
        first.charge(node, "facilities", "2025", GaussianRelease(2.0, 1.0), (9.0, DELTA), "s")
        reopened = PrivacyLedger(open_store())  # a new process on the same database
        reopened.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 500), (9.0, DELTA), "r2")
        assert reopened.spent(node, "facilities", "2025", DELTA) == pytest.approx(
            EPS_MIXED, rel=1e-9
        )

    def test_preview_stores_nothing(self, open_store: StoreFactory, node: str) -> None:
        ledger = PrivacyLedger(open_store())
        eps = ledger.preview(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), delta=DELTA)
        assert eps == pytest.approx(EPS_1000_STEPS, rel=1e-9)
        assert ledger.spent(node, "facilities", "2025", DELTA) == 0.0
        assert ledger.charges(node, "facilities", "2025") == []

    def test_over_budget_is_refused_before_work_and_recorded(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        budget = Budget(2.0, DELTA)
        assert (
            ledger.run_charged(
                node,
                "facilities",
                "2025",
                DpSgd(1.1, 0.01, 1000),
                budget,
                "round 1",
                lambda: "trained",
            )
            == "trained"
        )

        calls: list[str] = []
        with pytest.raises(BudgetExceededError) as info:
            ledger.run_charged(
                node,
                "facilities",
                "2025",
                DpSgd(1.1, 0.01, 1000),
                budget,
                "round 2",
                lambda: calls.append("work ran"),
            )
        assert calls == []
        err = info.value
        assert isinstance(err, PrivacyError)
        assert err.spent_epsilon == pytest.approx(EPS_1000_STEPS, rel=1e-9)
        assert err.would_be_epsilon > 2.0
        assert node in str(err) and "facilities" in str(err) and "round 2" in str(err)
        # Nothing was charged: the account is exactly as before.
        assert ledger.spent(node, "facilities", "2025", DELTA) == pytest.approx(
            EPS_1000_STEPS, rel=1e-9
        )
        refusals = PrivacyLedger(open_store()).refusals(node, "facilities", "2025")
        assert len(refusals) == 1
        refusal = refusals[0]
        assert refusal.key == LedgerKey(node, "facilities", "2025")
        assert (refusal.kind, refusal.reason, refusal.steps) == ("dp_sgd", "round 2", 1000)
        assert refusal.budget_epsilon == 2.0 and refusal.delta == DELTA
        assert refusal.would_be_epsilon == pytest.approx(err.would_be_epsilon, rel=1e-12)
        assert refusal.at.tzinfo is not None
        assert any(r.key.node_id == node for r in ledger.refusals())

    def test_a_refused_round_does_not_block_a_smaller_one(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        budget = Budget(2.0, DELTA)
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), budget, "r1")
        with pytest.raises(BudgetExceededError):
            ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), budget, "r2")
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 10), budget, "r2 small")
        assert len(ledger.charges(node, "facilities", "2025")) == 2

    def test_accounts_are_separate_per_dataset_and_period(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), (2.0, DELTA), "r")
        ledger.charge(node, "facilities", "2026", DpSgd(1.1, 0.01, 1000), (2.0, DELTA), "r")
        ledger.charge(node, "benchmarks", "2025", DpSgd(1.1, 0.01, 1000), (2.0, DELTA), "r")
        for dataset, period in [
            ("facilities", "2025"),
            ("facilities", "2026"),
            ("benchmarks", "2025"),
        ]:
            assert ledger.spent(node, dataset, period, DELTA) == pytest.approx(
                EPS_1000_STEPS, rel=1e-9
            )
        assert ledger.spent("someone-else", "facilities", "2025", DELTA) == 0.0

    def test_noise_picked_for_the_remaining_budget_is_accepted(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        budget = Budget(3.0, DELTA)
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), budget, "r1")
        sigma = ledger.noise_multiplier_for_round(
            node, "facilities", "2025", budget, sample_rate=0.01, steps=500
        )
        receipt = ledger.charge(node, "facilities", "2025", DpSgd(sigma, 0.01, 500), budget, "r2")
        assert 3.0 - 0.01 <= receipt.epsilon_after <= 3.0

    def test_gaussian_sigma_for_the_remaining_budget_is_accepted(
        self, open_store: StoreFactory, node: str
    ) -> None:
        ledger = PrivacyLedger(open_store())
        budget = Budget(3.0, DELTA)
        ledger.charge(node, "facilities", "2025", DpSgd(1.1, 0.01, 1000), budget, "r1")
        sigma = ledger.gaussian_sigma_for_release(
            node, "facilities", "2025", budget, sensitivity=250.0
        )
        receipt = ledger.charge(
            node, "facilities", "2025", GaussianRelease(sigma, 250.0), budget, "cell sums"
        )
        assert 3.0 - 0.01 <= receipt.epsilon_after <= 3.0
        with pytest.raises(BudgetExceededError):
            ledger.charge(
                node, "facilities", "2025", GaussianRelease(sigma, 250.0), budget, "again"
            )

    def test_stale_version_is_a_conflict(self, open_store: StoreFactory, node: str) -> None:
        store = open_store()
        key = LedgerKey(node, "facilities", "2025")
        state = AccountantState.empty().with_entry(DpSgd(1.1, 0.01, 10).entry())
        record = ChargeRecord(
            key, "dp_sgd", 1.1, 0.01, 10, "r", DELTA, 5.0, 0.0, 0.1, datetime.now(UTC)
        )
        assert store.commit_charge(key, state, 0, record) == 1
        with pytest.raises(LedgerConflictError):
            store.commit_charge(key, state, 0, record)
        with pytest.raises(LedgerConflictError):
            store.commit_charge(key, state, 5, record)
        assert store.commit_charge(key, state, 1, record) == 2
        assert len(store.charges(key)) == 2


def test_ledger_accepts_an_engine(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.sqlite'}")
    migrate(engine)
    ledger = PrivacyLedger(engine)
    ledger.charge("n1", "facilities", "2025", DpSgd(1.1, 0.01, 1000), (5.0, DELTA), "r1")
    assert isinstance(ledger.store, SqlLedgerStore)
    assert ledger.spent("n1", "facilities", "2025", DELTA) == pytest.approx(
        EPS_1000_STEPS, rel=1e-9
    )
    engine.dispose()


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201])
def test_bad_account_names_are_refused(bad: str) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    with pytest.raises(PrivacyError, match="node_id"):
        ledger.spent(bad, "facilities", "2025", DELTA)
