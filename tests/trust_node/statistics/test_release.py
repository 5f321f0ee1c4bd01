"""Node side of encrypted statistics: layout, clipping, ledger-before-work, noise scale."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from governance.ckks import CkksKey, add_all, decrypt
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from open_models.benchmark_cells import FIELDS, SECTOR_BOUNDS, SENSITIVITY, CellCatalogue
from open_models.benchmark_values import RoundTerms
from trust_node.generate import generate
from trust_node.statistics import (
    StatisticsBudgetRefusedError,
    StatisticsError,
    best_direct_emissions,
    contribution_vector,
    prepare_release,
)


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


def _record(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "record_id": "r1",
        "facility_id": "f1",
        "jurisdiction": "IN",
        "year": 2022,
        "sector": "cement",
        "product": "clinker",
        "route": "dry_kiln",
        "production_t": 1_000_000.0,
        "coal_tj": 3000.0,
        "coke_tj": 0.0,
        "natural_gas_tj": 0.0,
        "oil_tj": 0.0,
        "biomass_tj": 0.0,
        "electricity_mwh": 80_000.0,
        "clinker_ratio": np.nan,
        "scrap_share": np.nan,
        "anode_t": np.nan,
        "reported_direct_tco2e": np.nan,
        "verified_direct_tco2e": np.nan,
        "verification": "none",
    }
    base.update(over)
    return base


#: The ledger account every release is charged to under the default (facility) unit.
UNIT = "facility"


def _terms(key: CkksKey, *, z: float = 1.0, shares: int = 3) -> RoundTerms:
    return RoundTerms(7, (2022,), z, shares, key.key_id, 1.0, 1e-5, 3, 2)


def test_direct_emissions_prefers_verified_then_complete_tier1() -> None:
    frame = pd.DataFrame(
        [
            _record(record_id="a", verified_direct_tco2e=812_345.0),
            _record(record_id="b"),
            _record(record_id="c", coal_tj=np.nan),  # fuels unknown: Tier-1 incomplete
        ]
    )
    direct = best_direct_emissions(frame)
    assert direct.iloc[0] == 812_345.0
    assert direct.iloc[1] > 0 and math.isfinite(direct.iloc[1])
    assert math.isnan(direct.iloc[2])


def test_vector_layout_and_clipping_keeps_intensity() -> None:
    catalogue = CellCatalogue((2022,))
    bound = SECTOR_BOUNDS["cement"]
    big = 4 * bound.production_t
    frame = pd.DataFrame(
        [
            _record(record_id="a", facility_id="f1", verified_direct_tco2e=0.8 * 1e6),
            _record(
                record_id="b",
                facility_id="f2",
                production_t=big,
                verified_direct_tco2e=0.9 * big,
                coal_tj=0.0,
                electricity_mwh=0.0,
            ),
            _record(record_id="c", facility_id="f3", coal_tj=np.nan),  # left out
        ]
    )
    v = catalogue.unpack(contribution_vector(frame, catalogue))
    cell = v[("cement", "clinker", "dry_kiln", 2022)]
    assert cell["facilities"] == 2 and cell["nodes"] == 1
    # f2 is scaled down to the production bound, its intensity 0.9 unchanged.
    assert cell["production_t"] == pytest.approx(1e6 + bound.production_t)
    assert cell["direct_tco2e"] == pytest.approx(0.8e6 + 0.9 * bound.production_t)
    assert cell["hist_5"] == 1 and cell["hist_6"] == 1  # 0.8 and 0.9 in bins of width 0.15
    others = [c for k, c in v.items() if k[:3] != ("cement", "clinker", "dry_kiln")]
    assert all(value == 0 for c in others for value in c.values())


def test_each_facility_moves_each_field_by_at_most_one() -> None:
    records = generate(2, 200, seed=3).records
    catalogue = CellCatalogue.for_years(records["year"].unique())
    full = contribution_vector(records, catalogue)
    for facility in records["facility_id"].unique()[:25]:
        without = contribution_vector(records[records["facility_id"] != facility], catalogue)
        diff = np.abs(full - without)
        assert diff.max() <= 1.0 + 1e-12
        assert (
            np.linalg.norm(full - without)
            <= SENSITIVITY
            * math.sqrt(records.loc[records["facility_id"] == facility, "year"].nunique())
            + 1e-9
        )


def test_ledger_is_charged_before_records_are_read(key: CkksKey) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    reads: list[int] = []
    terms = _terms(key)

    def load() -> pd.DataFrame:
        reads.append(len(ledger.charges("n1", UNIT, "2026")))
        return pd.DataFrame([_record()])

    release = prepare_release(
        terms,
        key=key,
        ledger=ledger,
        node_id="n1",
        period="2026",
        budget=(50.0, 1e-5),
        load_records=load,
    )
    assert reads == [1]  # the charge existed when the records were read
    charge = ledger.charges("n1", UNIT, "2026")[0]
    assert charge.noise_multiplier == pytest.approx(terms.noise_multiplier)
    assert release.receipt.epsilon_after > 0
    assert release.vector.length == terms.catalogue.vector_length


def test_budget_refusal_happens_before_any_work_and_is_recorded(key: CkksKey) -> None:
    ledger = PrivacyLedger(InMemoryLedgerStore())

    def load() -> pd.DataFrame:
        raise AssertionError("records must not be read when the budget refuses")

    with pytest.raises(StatisticsBudgetRefusedError, match="privacy budget exceeded"):
        prepare_release(
            _terms(key, z=0.3),
            key=key,
            ledger=ledger,
            node_id="n1",
            period="2026",
            budget=(1.0, 1e-5),
            load_records=load,
        )
    refusals = ledger.refusals("n1", UNIT, "2026")
    assert len(refusals) == 1 and "statistics round 7" in refusals[0].reason
    assert ledger.charges("n1", UNIT, "2026") == []


def test_wrong_key_is_refused(key: CkksKey) -> None:
    other = RoundTerms(7, (2022,), 1.0, 3, "0" * 32, 1.0, 1e-5, 3, 2)
    with pytest.raises(StatisticsError, match="fetch the current keys"):
        prepare_release(
            other,
            key=key,
            ledger=PrivacyLedger(InMemoryLedgerStore()),
            node_id="n1",
            period="2026",
            budget=(50.0, 1e-5),
            load_records=pd.DataFrame,
        )


def test_noise_shares_sum_to_the_policy_sigma(key: CkksKey) -> None:
    """Three nodes with no data: any two shares (one curious node removed) carry sigma_total,
    so all three carry sigma_total * sqrt(3 / 2)."""
    terms = RoundTerms(1, (2021, 2022, 2023), 0.8, 3, key.key_id, 1.0, 1e-5, 3, 2)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    rng = np.random.default_rng(11)
    vectors = [
        prepare_release(
            terms,
            key=key,
            ledger=ledger,
            node_id=f"n{i}",
            period="2026",
            budget=(50.0, 1e-5),
            load_records=pd.DataFrame,
            rng=rng,
        ).vector
        for i in range(3)
    ]
    total = np.array(decrypt(key, add_all(key.public(), vectors)))
    assert total.size == terms.catalogue.vector_length == 3 * 14 * len(FIELDS)
    # sample sd of ~670 draws is within 10% of sigma_total with overwhelming probability
    assert np.std(total) == pytest.approx(terms.sigma_total * math.sqrt(1.5), rel=0.1)
    assert terms.sigma_node == pytest.approx(terms.sigma_total / math.sqrt(2))
