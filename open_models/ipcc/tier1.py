"""IPCC 2006 Tier-1 baseline for facility records: direct, indirect, embedded, CBAM default.

Why a baseline: it gives every record a transparent figure from public default factors, so a
model estimate or a declared figure can always be compared with something an auditor can
recompute by hand from ``factors.py``.

Boundary (no double counting): each fuel column of a record has exactly one role per route.
- *combustion*: counted as fuel TJ x Vol 2 default CO2 factor (tier1_combustion_tco2);
- *reductant/feedstock counted in process*: its carbon is oxidised in the process, counted once
  as TJ x the same Vol 2 factor (= carbon content x 44/12, COF 1) under tier1_process_tco2
  (ammonia Vol 3 Eq 3.1; DRI reductant; hydrogen mass balance);
- *covered by the process factor*: not counted at all, because the production-based Vol 3
  factor already contains it (coal/coke in BF-BOF: EF_BOF covers the BF reductant; coal/coke in
  scrap EAF and coke in DRI-EAF: EF_EAF covers charge carbon; coke at a smelter: anode carbon).
Biomass CO2 is a memo item (biomass_co2_memo_t), never in direct fossil CO2. CH4/N2O from
combustion and aluminium PFCs are outside this baseline (CO2 only); docs/tier1-method.md.

Unknown is never zero: a fuel cell that is NaN means "not known". A record with all four fossil
fuel columns known is computed fuel by fuel (tier1_method "fuel_based"). Otherwise the route's
production-based Tier-1 default gives the process part, combustion stays NaN and the method is
"production_default" (direct then covers the process only: tier1_direct_complete is False), or
"unavailable" when the Guidelines have no production default (hydrogen, coal-based ammonia):
direct is NaN. A column absent from the frame defaults to 0 for energy columns, as the contract
says; an absent non-energy optional column is unknown.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from open_models.contract import CELL_KEYS, PRODUCTS_BY_SECTOR, ROUTES_BY_SECTOR
from open_models.ipcc import factors as F
from open_models.ipcc.cbam import lookup
from open_models.ipcc.errors import Tier1InputError
from open_models.ipcc.grid import grid_factor

FOSSIL: Final = ("coal_tj", "coke_tj", "natural_gas_tj", "oil_tj")
_EF: Final = np.array([F.FUEL_FACTORS[c].value for c in FOSSIL])  # t CO2/TJ

# Role of each fossil fuel per (sector, route): C combustion, P counted in process, X covered.
_ROLES: Final[dict[tuple[str, str], str]] = {
    #                        coal coke gas oil
    ("iron_steel", "bf_bof"): "XXCC",
    ("iron_steel", "dri_eaf"): "PXPC",
    ("iron_steel", "scrap_eaf"): "XXCC",
    ("cement", "dry_kiln"): "CCCC",
    ("cement", "wet_kiln"): "CCCC",
    ("aluminium", "prebake"): "CXCC",
    ("aluminium", "soderberg"): "CXCC",
    ("fertilisers", "smr_gas"): "CCPC",
    ("fertilisers", "coal_gasification"): "PPCC",
    ("hydrogen", "smr_gas"): "CCPC",
    ("hydrogen", "coal_gasification"): "PPCC",
    ("hydrogen", "electrolysis"): "CCCC",
}
_KEYS: Final = list(_ROLES)
_W_COMB: Final = np.array([[r == "C" for r in _ROLES[k]] for k in _KEYS], dtype=float)
_W_PROC: Final = np.array([[r == "P" for r in _ROLES[k]] for k in _KEYS], dtype=float)

_NAN = float("nan")
# Production-based part added to the fuel-based process (t CO2/t product), and its label.
_PROD_FUELED: Final[dict[tuple[str, str], tuple[float, str]]] = {
    ("iron_steel", "bf_bof"): (F.EF_BOF_2006.value, "steel_bof_table4.1_2006"),
    ("iron_steel", "dri_eaf"): (F.EF_EAF_2006.value, "dri_reductant_fuels+eaf_table4.1_2006"),
    ("iron_steel", "scrap_eaf"): (F.EF_EAF_2006.value, "steel_eaf_table4.1_2006"),
    ("cement", "dry_kiln"): (0.0, "clinker_eq2.2_ckd"),
    ("cement", "wet_kiln"): (0.0, "clinker_eq2.2_ckd"),
    ("aluminium", "prebake"): (F.EF_ALU_PREBAKE.value, "aluminium_prebake_table4.10"),
    ("aluminium", "soderberg"): (F.EF_ALU_SODERBERG.value, "aluminium_soderberg_table4.10"),
    ("fertilisers", "smr_gas"): (0.0, "ammonia_eq3.1_record_fuels"),
    ("fertilisers", "coal_gasification"): (0.0, "ammonia_eq3.1_record_fuels"),
    ("hydrogen", "smr_gas"): (0.0, "hydrogen_mass_balance_fuels"),
    ("hydrogen", "coal_gasification"): (0.0, "hydrogen_mass_balance_fuels"),
    ("hydrogen", "electrolysis"): (0.0, "hydrogen_electrolysis_no_process_carbon"),
}
_FR_NH3_TCO2_PER_T: Final = (
    F.FR_AMMONIA_NG.value / 1000.0 * F.CC_NATURAL_GAS.value * F.COF_DEFAULT.value * F.CO2_PER_C
)
# Fallback when fuels are unknown (t CO2/t product; NaN = no Tier-1 default exists).
_PROD_FALLBACK: Final[dict[tuple[str, str], tuple[float, str]]] = {
    ("iron_steel", "bf_bof"): (F.EF_BOF_2006.value, "steel_bof_table4.1_2006"),
    ("iron_steel", "dri_eaf"): (F.EF_EAF_2006.value, "dri_table4.1+eaf_table4.1_2006"),
    ("iron_steel", "scrap_eaf"): (F.EF_EAF_2006.value, "steel_eaf_table4.1_2006"),
    ("cement", "dry_kiln"): (0.0, "clinker_eq2.2_ckd"),
    ("cement", "wet_kiln"): (0.0, "clinker_eq2.2_ckd"),
    ("aluminium", "prebake"): (F.EF_ALU_PREBAKE.value, "aluminium_prebake_table4.10"),
    ("aluminium", "soderberg"): (F.EF_ALU_SODERBERG.value, "aluminium_soderberg_table4.10"),
    ("fertilisers", "smr_gas"): (_FR_NH3_TCO2_PER_T, "ammonia_eq3.1_table3.1_fr"),
    ("fertilisers", "coal_gasification"): (_NAN, "none:no_2006_default_for_coal_ammonia"),
    ("hydrogen", "smr_gas"): (_NAN, "none:no_2006_tier1_for_hydrogen"),
    ("hydrogen", "coal_gasification"): (_NAN, "none:no_2006_tier1_for_hydrogen"),
    ("hydrogen", "electrolysis"): (0.0, "hydrogen_electrolysis_no_process_carbon"),
}
_COEF_FUELED: Final = np.array([_PROD_FUELED[k][0] for k in _KEYS])
_COEF_FALLBACK: Final = np.array([_PROD_FALLBACK[k][0] for k in _KEYS])
_ANODE_TCO2_PER_T: Final = (
    (100.0 - F.ANODE_SULPHUR.value - F.ANODE_ASH.value) / 100.0 * F.CO2_PER_C
)  # Vol 3 Eq 4.21
_CLINKER_TCO2_PER_T: Final = F.EF_CLINKER.value * F.CF_CKD.value  # Vol 3 Eq 2.2

REQUIRED: Final = (
    "record_id",
    "jurisdiction",
    "year",
    "sector",
    "product",
    "route",
    "production_t",
)


def _column(df: pd.DataFrame, name: str, absent: float) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), absent)
    try:
        values: np.ndarray = pd.to_numeric(df[name], errors="raise").to_numpy(
            dtype=float, na_value=np.nan
        )
        return values
    except (TypeError, ValueError) as exc:
        raise Tier1InputError(f"column {name!r} must be numeric: {exc}") from exc


def _route_codes(df: pd.DataFrame) -> np.ndarray:
    keys = pd.MultiIndex.from_arrays([df["sector"].astype(str), df["route"].astype(str)])
    codes: np.ndarray = pd.MultiIndex.from_tuples(_KEYS).get_indexer(keys)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        i = int(bad[0])
        raise Tier1InputError(
            f"row {i}: sector/route {df['sector'].iloc[i]!r}/{df['route'].iloc[i]!r} is not in the "
            f"contract ({len(bad)} such rows); routes: {dict(ROUTES_BY_SECTOR)}"
        )
    valid = [(sec, p) for sec, ps in PRODUCTS_BY_SECTOR.items() for p in ps]
    pairs = pd.MultiIndex.from_arrays([df["sector"].astype(str), df["product"].astype(str)])
    prod_ok = np.asarray(pairs.isin(valid), dtype=bool)
    if not prod_ok.all():
        i = int(np.flatnonzero(~prod_ok)[0])
        raise Tier1InputError(
            f"row {i}: product {df['product'].iloc[i]!r} does not belong to "
            f"sector {df['sector'].iloc[i]!r}"
        )
    return codes


def _grid(jurisdiction: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(jurisdiction.astype(str), sort=False)
    found = [grid_factor(u) for u in uniques]
    value = np.array([g.value_tco2e_per_mwh for g in found], dtype=float)[codes]
    year = np.array([_NAN if g.year is None else g.year for g in found], dtype=float)[codes]
    fallback = np.array([g.is_fallback for g in found], dtype=bool)[codes]
    return value, year, fallback


def _cbam(df: pd.DataFrame) -> pd.DataFrame:
    keys = pd.MultiIndex.from_arrays(
        [df["product"].astype(str), df["jurisdiction"].astype(str), df["year"].astype(int)]
    )
    uniq = keys.unique()
    rows = []
    for product, jurisdiction, year in uniq:
        found = lookup(product, jurisdiction, int(year))
        v = found.value
        rows.append(
            (
                _NAN if v is None else v.direct_with_markup,
                _NAN if v is None else v.total_with_markup,
                _NAN if v is None else v.markup_rate,
                found.reason,
            )
        )
    small = pd.DataFrame(
        rows,
        index=uniq,
        columns=[
            "cbam_default_direct_tco2e_per_t",
            "cbam_default_total_tco2e_per_t",
            "cbam_markup_rate",
            "cbam_note",
        ],
    )
    out = small.iloc[uniq.get_indexer(keys)]
    out.index = df.index
    return out


def compute_tier1(df: pd.DataFrame) -> pd.DataFrame:
    """Tier-1 figures for every record, indexed like ``df`` (vectorised; see module docstring)."""
    codes, production = _checked_input(df)
    fuels_known, combustion, process_fuels = _combustion(df, codes)
    process, label = _process(df, codes, production, fuels_known, process_fuels)
    process_known = ~np.isnan(process)
    method = np.where(
        ~process_known, "unavailable", np.where(fuels_known, "fuel_based", "production_default")
    )
    direct = np.where(fuels_known, combustion + process, process)

    electricity = _column(df, "electricity_mwh", 0.0)
    grid_value, grid_year, grid_fallback = _grid(df["jurisdiction"])
    indirect = electricity * grid_value
    embedded = direct + indirect
    biomass = _column(df, "biomass_tj", 0.0)

    out = pd.DataFrame(
        {
            "record_id": df["record_id"].to_numpy(),
            "tier1_combustion_tco2": combustion,
            "tier1_process_tco2": process,
            "tier1_direct_tco2e": direct,
            "tier1_direct_complete": fuels_known & process_known,
            "tier1_method": method,
            "tier1_process_method": label.astype(str),
            "biomass_co2_memo_t": biomass * F.EF_BIOMASS_MEMO.value,
            "grid_factor_tco2e_per_mwh": grid_value,
            "grid_factor_year": grid_year,
            "grid_factor_fallback": grid_fallback,
            "indirect_tco2e": indirect,
            "embedded_tco2e": embedded,
            "specific_embedded_tco2e_per_t": embedded / production,
        },
        index=df.index,
    )
    cbam = _cbam(df)
    out = pd.concat([out, cbam], axis=1)
    out["cbam_default_direct_tco2e"] = out["cbam_default_direct_tco2e_per_t"] * production
    return out


def _checked_input(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each record's route code and production, refusing a frame Tier-1 cannot take."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise Tier1InputError(f"records frame lacks required column(s) {missing}")
    codes = _route_codes(df)
    production = _column(df, "production_t", _NAN)
    if np.isnan(production).any() or (production <= 0).any():
        i = int(np.flatnonzero(~(production > 0))[0])
        raise Tier1InputError(f"row {i}: production_t must be > 0, got {production[i]}")
    return codes, production


def _combustion(df: pd.DataFrame, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether all fossil fuels are known, combustion CO2, and the fuels' process share.

    Each route gives each fossil fuel a role (``_ROLES``): its CO2 is combustion, process
    (a feedstock or reductant), or already covered by the route's process default.
    """
    fuels = np.column_stack([_column(df, c, 0.0) for c in FOSSIL])
    fuels_known = ~np.isnan(fuels).any(axis=1)
    co2_by_fuel = np.nan_to_num(fuels, nan=0.0) * _EF
    combustion = np.where(fuels_known, (co2_by_fuel * _W_COMB[codes]).sum(axis=1), np.nan)
    process_fuels = (co2_by_fuel * _W_PROC[codes]).sum(axis=1)
    return fuels_known, combustion, process_fuels


def _process(
    df: pd.DataFrame,
    codes: np.ndarray,
    production: np.ndarray,
    fuels_known: np.ndarray,
    process_fuels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Process CO2 per record and the method label naming how it was computed.

    The route's production-based default first, then the refinements that replace it
    where a record carries what they need (DRI charge, clinker, anode consumption).
    """
    # Fuel-based records and fallback records differ only in the production-based part.
    process = np.where(
        fuels_known,
        process_fuels + _COEF_FUELED[codes] * production,
        _COEF_FALLBACK[codes] * production,
    )
    label = np.where(
        fuels_known,
        np.array([_PROD_FUELED[k][1] for k in _KEYS], dtype=object)[codes],
        np.array([_PROD_FALLBACK[k][1] for k in _KEYS], dtype=object)[codes],
    )
    route = df["route"].astype(str).to_numpy()
    process, label = _dri_charge(df, route, production, fuels_known, process, label)
    process, label = _clinker(df, production, process, label)
    return _prebake_anodes(df, route, process, label)


def _dri_charge(
    df: pd.DataFrame,
    route: np.ndarray,
    production: np.ndarray,
    fuels_known: np.ndarray,
    process: np.ndarray,
    label: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """DRI-EAF without fuels: DRI charge = production x (1 - scrap_share), Table 4.1 EF_DRI."""
    scrap = _column(df, "scrap_share", _NAN)
    dri_fb = (route == "dri_eaf") & ~fuels_known
    scrap_unknown = dri_fb & np.isnan(scrap)
    dri_charge = production * (1.0 - np.where(np.isnan(scrap), 0.0, scrap))
    process = np.where(dri_fb, process + dri_charge * F.EF_DRI_2006.value, process)
    label = np.where(scrap_unknown, label + ":scrap_share_unknown_assumed_0", label)
    return process, label


def _clinker(
    df: pd.DataFrame, production: np.ndarray, process: np.ndarray, label: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cement: clinker mass (product clinker = production; cement = production x ratio)."""
    is_cement = df["sector"].astype(str).to_numpy() == "cement"
    product = df["product"].astype(str).to_numpy()
    ratio = _column(df, "clinker_ratio", _NAN)
    clinker_t = np.where(product == "clinker", production, production * ratio)
    process = np.where(is_cement, clinker_t * _CLINKER_TCO2_PER_T, process)
    label = np.where(is_cement & np.isnan(clinker_t), "none:clinker_ratio_unknown", label)
    return process, label


def _prebake_anodes(
    df: pd.DataFrame, route: np.ndarray, process: np.ndarray, label: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Prebake aluminium with net anode consumption known: Vol 3 Eq 4.21 replaces Table 4.10."""
    anode = _column(df, "anode_t", _NAN)
    use_anode = (route == "prebake") & ~np.isnan(anode)
    process = np.where(use_anode, anode * _ANODE_TCO2_PER_T, process)
    label = np.where(use_anode, "aluminium_prebake_eq4.21_anode", label)
    return process, label


def summarise_cells(result: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark cell (CELL_KEYS): counts, totals and production-weighted intensity.

    Sums skip NaN (pandas default), so each total also reports how many records it covers
    (``*_records``); the weighted intensity uses only records whose embedded figure is known.
    """
    missing = [c for c in (*CELL_KEYS, "production_t") if c not in records.columns]
    if missing:
        raise Tier1InputError(f"records frame lacks column(s) {missing}")
    if not result.index.equals(records.index):
        raise Tier1InputError(
            "result and records must share the same index (use compute_tier1's output)"
        )
    frame = pd.concat(
        [
            records[list(CELL_KEYS)],
            records["production_t"].astype(float),
            result[
                [
                    "tier1_direct_tco2e",
                    "indirect_tco2e",
                    "embedded_tco2e",
                    "cbam_default_direct_tco2e_per_t",
                ]
            ],
        ],
        axis=1,
    )
    known = frame["embedded_tco2e"].notna()
    frame["_prod_known"] = frame["production_t"].where(known)
    frame["_emb_known"] = frame["embedded_tco2e"].where(known)
    g = frame.groupby(list(CELL_KEYS), observed=True, sort=True)
    out = pd.DataFrame(
        {
            "records": g.size(),
            "production_t": g["production_t"].sum(),
            "direct_tco2e": g["tier1_direct_tco2e"].sum(),
            "direct_records": g["tier1_direct_tco2e"].count(),
            "indirect_tco2e": g["indirect_tco2e"].sum(),
            "indirect_records": g["indirect_tco2e"].count(),
            "embedded_records": g["embedded_tco2e"].count(),
            "specific_embedded_tco2e_per_t": g["_emb_known"].sum() / g["_prod_known"].sum(),
            "cbam_default_direct_tco2e_per_t_mean": g["cbam_default_direct_tco2e_per_t"].mean(),
        }
    )
    return out.reset_index()


__all__ = ["compute_tier1", "summarise_cells"]
