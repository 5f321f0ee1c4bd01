"""Factor table, codecarbon grid factors and the CBAM default table with its mark-up schedule."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from open_models.ipcc import cbam
from open_models.ipcc.errors import CbamDataError, GridFactorError
from open_models.ipcc.factors import all_factors
from open_models.ipcc.grid import grid_factor


def test_every_factor_has_value_unit_and_edition_sourced() -> None:
    found = all_factors()
    names = [f.name for f in found]
    assert len(names) == len(set(names)) and len(found) >= 20
    for f in found:
        assert f.unit and f.value >= 0
        assert "2006" in f.source or "2019 Refinement" in f.source or "codecarbon" in f.source, f
    # BOF/EAF differ between editions; both are listed, each naming its edition
    by_name = {f.name: f for f in found}
    assert by_name["ef_co2_steel_bof_2006"].value == 1.46
    assert by_name["ef_co2_steel_bof_2019"].value == 1.58
    assert "2019 Refinement" in by_name["ef_co2_steel_eaf_2019"].source


@pytest.mark.parametrize(("alpha2", "alpha3"), [("CN", "CHN"), ("DE", "DEU"), ("ZA", "ZAF")])
def test_grid_factor_matches_codecarbon_file(alpha2: str, alpha3: str) -> None:
    path = resources.files("codecarbon").joinpath("data/private_infra/global_energy_mix.json")
    row = json.loads(path.read_text(encoding="utf-8"))[alpha3]
    g = grid_factor(alpha2)
    assert g.value_tco2e_per_mwh == pytest.approx(row["carbon_intensity"] / 1000)
    assert g.year == row["year"] and not g.is_fallback
    assert alpha3 in g.source and "codecarbon" in g.source


def test_grid_factor_missing_country_falls_back_flagged() -> None:
    g = grid_factor("AQ")  # Antarctica: a valid code codecarbon has no data for
    assert g.is_fallback and g.value_tco2e_per_mwh == 0.475 and g.year is None
    assert "FALLBACK" in g.source
    with pytest.raises(GridFactorError):
        grid_factor("QQ")


def test_cbam_defaults_match_constants_and_markup_schedule() -> None:
    # IR 2025/2621 Annex I, China, grey clinker (2523 10 00): direct 1.35, indirect 0.04, total 1.39
    for year, rate, published in ((2026, 0.10, 1.529), (2027, 0.20, 1.668), (2030, 0.30, 1.807)):
        v = cbam.default_value("clinker", "CN", year)
        assert v is not None
        assert (v.direct, v.indirect, v.total) == (1.35, 0.04, 1.39)
        assert v.markup_rate == pytest.approx(rate)
        assert v.total_with_markup == pytest.approx(published)
        assert v.total_with_markup == pytest.approx(round(1.39 * (1 + rate), 3))
        assert v.direct_with_markup == pytest.approx(1.35 * (1 + rate))
    # India, anhydrous ammonia 2814 10 00: fertilisers carry a flat 1 % mark-up
    nh3 = cbam.default_value("ammonia", "IN", 2028)
    assert nh3 is not None and (nh3.direct, nh3.indirect, nh3.total) == (3.06, 0.22, 3.28)
    assert nh3.total_with_markup == pytest.approx(3.313) and nh3.markup_rate == pytest.approx(0.01)
    # steel has no indirect default ("NA" in the regulation), never a zero
    steel = cbam.default_value("crude_steel", "UA", 2026)
    assert steel is not None and steel.indirect is None and steel.direct == 2.397


def test_cbam_fallbacks_and_exclusions() -> None:
    tr = cbam.lookup("clinker", "TR", 2026)  # Türkiye is listed with "-" for grey clinker
    assert tr.value is not None and tr.value.from_other_countries
    other = cbam.default_value("clinker", "XK", 2026)  # not listed at all
    assert other is not None and other.direct == tr.value.direct == 1.37
    assert cbam.default_value("clinker", "DE", 2026) is None
    assert "EU producer" in cbam.lookup("clinker", "DE", 2026).reason
    assert cbam.default_value("crude_steel", "NO", 2026) is None
    before = cbam.default_value("clinker", "CN", 2024)
    assert before is not None and before.markup_rate == 0 and before.total_with_markup == 1.39
    with pytest.raises(CbamDataError):
        cbam.default_value("steel", "CN", 2026)


def test_cbam_table_consistency_flags_only_known_anomalies() -> None:
    notes = cbam.check_table()
    markup_notes = [n for n in notes if "transcribed marked-up" in n]
    # Angola/Argentina cement & clinker compound the mark-up in the transcription (2027, 2028)
    assert {n.split(" ")[0] for n in markup_notes} == {
        "AO/cement",
        "AO/clinker",
        "AR/cement",
        "AR/clinker",
    }
    ar = cbam.lookup("clinker", "AR", 2027)
    assert ar.value is not None and ar.value.total_with_markup == pytest.approx(0.9 * 1.2)
    assert "unverified" in ar.reason
