"""Worked examples computed by hand from the cited IPCC equations, one per route family.

Each expected value is written as the arithmetic of the equation with the table value typed in
(not imported from factors.py), so a wrong constant in the package makes the test fail.
"""

from __future__ import annotations

import json
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from open_models.ipcc.errors import Tier1InputError
from open_models.ipcc.tier1 import compute_tier1, summarise_cells

FUELS = ("coal_tj", "coke_tj", "natural_gas_tj", "oil_tj", "biomass_tj")


def _codecarbon_g_per_kwh(alpha3: str) -> float:
    path = resources.files("codecarbon").joinpath("data/private_infra/global_energy_mix.json")
    return float(json.loads(path.read_text(encoding="utf-8"))[alpha3]["carbon_intensity"])


def record(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "record_id": "r1",
        "facility_id": "f1",
        "jurisdiction": "CN",
        "year": 2024,
        "production_t": 1000.0,
        "electricity_mwh": 0.0,
        "clinker_ratio": np.nan,
        "scrap_share": np.nan,
        "anode_t": np.nan,
        **{f: 0.0 for f in FUELS},
    }
    base.update(kw)
    return base


def one(**kw: object) -> pd.Series:
    return compute_tier1(pd.DataFrame([record(**kw)])).iloc[0]


def test_clinker_dry_kiln_eq_2_2_with_ckd_and_coal_combustion() -> None:
    r = one(sector="cement", product="clinker", route="dry_kiln", coal_tj=3.2, electricity_mwh=100)
    # Vol 3 Ch 2 Eq 2.2: CO2 = Mcl x EFcl x CFckd, EFcl = 0.51 (Eq 2.4, 65 % CaO), CFckd = 1.02
    assert r.tier1_process_tco2 == pytest.approx(1000 * 0.51 * 1.02)  # 520.2
    # Vol 2 Table 2.3: other bituminous coal 94 600 kg CO2/TJ
    assert r.tier1_combustion_tco2 == pytest.approx(3.2 * 94.6)  # 302.72
    assert r.tier1_direct_tco2e == pytest.approx(520.2 + 302.72)
    assert r.tier1_method == "fuel_based" and r.tier1_direct_complete
    grid = _codecarbon_g_per_kwh("CHN") / 1000  # g/kWh -> t/MWh
    assert r.indirect_tco2e == pytest.approx(100 * grid)
    assert r.specific_embedded_tco2e_per_t == pytest.approx((822.92 + 100 * grid) / 1000)


def test_cement_uses_clinker_ratio_eq_2_1() -> None:
    r = one(sector="cement", product="cement", route="wet_kiln", clinker_ratio=0.7, oil_tj=1.0)
    # Eq 2.1: clinker = cement x clinker fraction; then Eq 2.2 defaults
    assert r.tier1_process_tco2 == pytest.approx(1000 * 0.7 * 0.51 * 1.02)
    assert r.tier1_combustion_tco2 == pytest.approx(1.0 * 77.4)  # residual fuel oil, Table 2.3


def test_cement_without_clinker_ratio_is_unavailable_not_zero() -> None:
    r = one(sector="cement", product="cement", route="dry_kiln", clinker_ratio=np.nan)
    assert math.isnan(r.tier1_process_tco2) and math.isnan(r.tier1_direct_tco2e)
    assert r.tier1_method == "unavailable"


def test_bf_bof_coal_and_coke_are_reductant_covered_by_table_4_1() -> None:
    r = one(
        sector="iron_steel",
        product="crude_steel",
        route="bf_bof",
        coal_tj=5.0,
        coke_tj=12.0,
        natural_gas_tj=1.0,
        oil_tj=0.5,
    )
    # Vol 3 Ch 4 Table 4.1 (2006): BOF 1.46 t CO2/t steel, includes the BF reductant
    assert r.tier1_process_tco2 == pytest.approx(1000 * 1.46)
    # only gas (56.1) and oil (77.4) burnt as fuel; coal/coke NOT counted again
    assert r.tier1_combustion_tco2 == pytest.approx(1.0 * 56.1 + 0.5 * 77.4)
    assert r.tier1_direct_tco2e == pytest.approx(1460 + 94.8)
    assert r.tier1_process_method == "steel_bof_table4.1_2006"


def test_scrap_eaf_with_electricity() -> None:
    r = one(
        sector="iron_steel",
        product="crude_steel",
        route="scrap_eaf",
        jurisdiction="IN",
        natural_gas_tj=0.8,
        coke_tj=0.3,
        electricity_mwh=450.0,
    )
    # Table 4.1 (2006): EAF 0.08 t CO2/t (electrodes + charge carbon, so coke is covered)
    assert r.tier1_process_tco2 == pytest.approx(1000 * 0.08)
    assert r.tier1_combustion_tco2 == pytest.approx(0.8 * 56.1)
    assert r.indirect_tco2e == pytest.approx(450 * _codecarbon_g_per_kwh("IND") / 1000)


def test_dri_eaf_fallback_uses_scrap_share_and_table_4_1() -> None:
    r = one(
        sector="iron_steel", product="crude_steel", route="dri_eaf", scrap_share=0.3, coal_tj=np.nan
    )
    # fuels unknown: DRI = 1000 x (1 - 0.3) t x 0.70 (Table 4.1 DRI) + 1000 x 0.08 (EAF)
    assert r.tier1_process_tco2 == pytest.approx(700 * 0.70 + 1000 * 0.08)
    assert r.tier1_method == "production_default"
    assert math.isnan(r.tier1_combustion_tco2)


def test_dri_eaf_with_fuels_counts_gas_as_reductant_once() -> None:
    r = one(sector="iron_steel", product="crude_steel", route="dri_eaf", natural_gas_tj=10.0)
    # reductant gas carbon -> CO2 (56.1 t/TJ) in process, plus EAF 0.08; none in combustion
    assert r.tier1_process_tco2 == pytest.approx(10 * 56.1 + 1000 * 0.08)
    assert r.tier1_combustion_tco2 == pytest.approx(0.0)


def test_prebake_aluminium_with_and_without_anode() -> None:
    with_anode = one(
        sector="aluminium", product="primary_aluminium", route="prebake", anode_t=420.0
    )
    # Vol 3 Ch 4 Eq 4.21: CO2 = NAC x MP x (100 - S_a - Ash_a)/100 x 44/12, S_a 2 %, Ash_a 0.4 %
    assert with_anode.tier1_process_tco2 == pytest.approx(420 * (100 - 2 - 0.4) / 100 * 44 / 12)
    assert with_anode.tier1_process_method == "aluminium_prebake_eq4.21_anode"
    without = one(sector="aluminium", product="primary_aluminium", route="prebake")
    # Table 4.10: prebake 1.6 t CO2/t Al (Eq 4.20)
    assert without.tier1_process_tco2 == pytest.approx(1000 * 1.6)
    soderberg = one(sector="aluminium", product="primary_aluminium", route="soderberg")
    assert soderberg.tier1_process_tco2 == pytest.approx(1000 * 1.7)


def test_smr_ammonia_eq_3_1_gas_is_fuel_and_feedstock_counted_once() -> None:
    r = one(sector="fertilisers", product="ammonia", route="smr_gas", natural_gas_tj=32.0)
    # Vol 3 Ch 3 Eq 3.1: E = AP x FR x CCF x COF x 44/12; FR x AP = 32 TJ, CCF 15.3 t C/TJ, COF 1
    assert r.tier1_process_tco2 == pytest.approx(32 * 15.3 * 1 * 44 / 12)
    assert r.tier1_combustion_tco2 == pytest.approx(0.0)


def test_smr_ammonia_unknown_fuels_falls_back_to_table_3_1() -> None:
    r = one(sector="fertilisers", product="ammonia", route="smr_gas", natural_gas_tj=np.nan)
    # Table 3.1 average plant mix, conventional reforming: FR 37.5 GJ/t NH3
    assert r.tier1_process_tco2 == pytest.approx(1000 * 37.5 / 1000 * 15.3 * 44 / 12)
    assert r.tier1_method == "production_default"
    assert r.tier1_process_method == "ammonia_eq3.1_table3.1_fr"
    assert not r.tier1_direct_complete


def test_coal_gasification_hydrogen_mass_balance() -> None:
    r = one(
        sector="hydrogen",
        product="hydrogen",
        route="coal_gasification",
        production_t=100.0,
        coal_tj=25.0,
        natural_gas_tj=0.5,
    )
    # no 2006 Tier-1 factor: carbon of the coal feedstock -> CO2 (Table 1.3 25.8 t C/TJ x 44/12)
    assert r.tier1_process_tco2 == pytest.approx(25 * 25.8 * 44 / 12, rel=1e-3)
    assert r.tier1_combustion_tco2 == pytest.approx(0.5 * 56.1)
    assert r.tier1_process_method == "hydrogen_mass_balance_fuels"


def test_electrolysis_hydrogen_has_only_indirect() -> None:
    r = one(
        sector="hydrogen",
        product="hydrogen",
        route="electrolysis",
        jurisdiction="BR",
        production_t=100.0,
        electricity_mwh=5500.0,
    )
    assert r.tier1_direct_tco2e == 0.0
    assert r.indirect_tco2e == pytest.approx(5500 * _codecarbon_g_per_kwh("BRA") / 1000)
    assert r.specific_embedded_tco2e_per_t == pytest.approx(r.indirect_tco2e / 100)


def test_unknown_fuels_fall_back_and_are_flagged() -> None:
    r = one(sector="iron_steel", product="crude_steel", route="bf_bof", coal_tj=np.nan)
    assert r.tier1_method == "production_default"
    assert math.isnan(r.tier1_combustion_tco2)
    assert r.tier1_process_tco2 == pytest.approx(1460.0)
    assert r.tier1_direct_tco2e == pytest.approx(1460.0)
    assert not r.tier1_direct_complete


def test_hydrogen_smr_without_fuels_is_unavailable() -> None:
    r = one(sector="hydrogen", product="hydrogen", route="smr_gas", natural_gas_tj=np.nan)
    assert r.tier1_method == "unavailable"
    assert math.isnan(r.tier1_direct_tco2e) and math.isnan(r.embedded_tco2e)


def test_nan_is_never_turned_into_zero() -> None:
    r = one(
        sector="cement",
        product="clinker",
        route="dry_kiln",
        electricity_mwh=np.nan,
        biomass_tj=np.nan,
    )
    assert math.isnan(r.indirect_tco2e)
    assert math.isnan(r.embedded_tco2e) and math.isnan(r.specific_embedded_tco2e_per_t)
    assert math.isnan(r.biomass_co2_memo_t)
    assert r.tier1_direct_tco2e == pytest.approx(520.2)  # direct is known


def test_biomass_is_memo_only() -> None:
    r = one(sector="cement", product="clinker", route="dry_kiln", biomass_tj=2.0)
    assert r.biomass_co2_memo_t == pytest.approx(2 * 112.0)  # Table 2.3 wood/wood waste
    assert r.tier1_combustion_tco2 == 0.0


def test_absent_energy_columns_default_to_zero_per_contract() -> None:
    rec = record(sector="iron_steel", product="crude_steel", route="scrap_eaf")
    for c in (*FUELS, "electricity_mwh"):
        rec.pop(c)
    r = compute_tier1(pd.DataFrame([rec])).iloc[0]
    assert r.tier1_method == "fuel_based"
    assert r.tier1_direct_tco2e == pytest.approx(80.0)
    assert r.indirect_tco2e == 0.0


def test_cbam_default_beside_the_figure() -> None:
    r = one(sector="cement", product="clinker", route="dry_kiln", jurisdiction="CN", year=2027)
    # IR 2025/2621: China grey clinker direct 1.35, mark-up 20 % in 2027
    assert r.cbam_default_direct_tco2e_per_t == pytest.approx(1.35 * 1.2)
    assert r.cbam_default_direct_tco2e == pytest.approx(1.35 * 1.2 * 1000)
    eu = one(sector="cement", product="clinker", route="dry_kiln", jurisdiction="DE")
    assert math.isnan(eu.cbam_default_direct_tco2e_per_t)
    assert "EU producer" in eu.cbam_note


def test_bad_input_is_named() -> None:
    with pytest.raises(Tier1InputError, match="sector/route"):
        one(sector="cement", product="clinker", route="bf_bof")
    with pytest.raises(Tier1InputError, match="does not belong"):
        one(sector="cement", product="ammonia", route="dry_kiln")
    with pytest.raises(Tier1InputError, match="production_t"):
        one(sector="cement", product="clinker", route="dry_kiln", production_t=0.0)
    with pytest.raises(Tier1InputError, match="required column"):
        compute_tier1(pd.DataFrame([record(sector="cement", product="clinker")]))


def test_vectorised_frame_matches_single_rows_and_keeps_index() -> None:
    rows = [
        record(record_id="a", sector="cement", product="clinker", route="dry_kiln", coal_tj=1.0),
        record(record_id="b", sector="iron_steel", product="crude_steel", route="bf_bof"),
        record(
            record_id="c",
            sector="hydrogen",
            product="hydrogen",
            route="smr_gas",
            natural_gas_tj=np.nan,
        ),
    ]
    df = pd.DataFrame(rows, index=[10, 20, 30])
    out = compute_tier1(df)
    assert list(out.index) == [10, 20, 30]
    assert list(out.record_id) == ["a", "b", "c"]
    for i, rec in zip(df.index, rows, strict=True):
        single = compute_tier1(pd.DataFrame([rec])).iloc[0]
        pd.testing.assert_series_equal(out.loc[i], single, check_names=False)


def test_summarise_cells_totals_and_weighted_intensity() -> None:
    rows = [
        record(
            record_id="a",
            sector="iron_steel",
            product="crude_steel",
            route="scrap_eaf",
            production_t=1000.0,
        ),
        record(
            record_id="b",
            sector="iron_steel",
            product="crude_steel",
            route="scrap_eaf",
            production_t=3000.0,
        ),
        record(
            record_id="c",
            sector="iron_steel",
            product="crude_steel",
            route="scrap_eaf",
            production_t=500.0,
            electricity_mwh=np.nan,
        ),
    ]
    df = pd.DataFrame(rows)
    cells = summarise_cells(compute_tier1(df), df)
    assert len(cells) == 1
    c = cells.iloc[0]
    assert c.records == 3 and c.production_t == 4500.0
    assert c.direct_tco2e == pytest.approx(4500 * 0.08)
    assert c.embedded_records == 2  # record c has unknown electricity
    # (80 + 240) / (1000 + 3000): only records with a known embedded figure are weighted
    assert c.specific_embedded_tco2e_per_t == pytest.approx(0.08)
