"""Seeded synthetic facility records with a hidden ground truth.

Federated emission-factor and bias-correction models are trained on this data and
evaluated against the truth, so the generator has three jobs: look like real node data
(contract-valid, heterogeneous across jurisdictions, gaps where real data has gaps), hide a
truth that no Tier-1 calculation reproduces exactly, and be fast enough to produce a million
rows for the ingest benchmark. Everything is drawn from numpy arrays, one draw per quantity
for all records of a jurisdiction: there is no Python loop over records.

Determinism: each jurisdiction draws from its own stream, seeded by ``(seed, crc32(code))``,
so a jurisdiction's records do not change when others are added to or removed from the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from open_models.contract import (
    ALL_COLUMNS,
    FUEL_COLUMNS,
    PLAUSIBLE_INTENSITY_RANGE,
    PRODUCTS,
    PRODUCTS_BY_SECTOR,
    SECTORS,
    VERIFICATION_LEVELS,
    YEAR_RANGE,
)
from trust_node.generate import process_model as pm
from trust_node.generate.errors import GenerateError
from trust_node.generate.jurisdictions import (
    FLEXIBLE_FUELS,
    JurisdictionProfile,
    code_key,
    resolve_jurisdictions,
)

#: Facility-years drawn per record kept: the surplus is dropped at random, so facilities
#: have gaps (a year not reported, a plant opened late) as real registers do.
POOL_FACTOR: Final = 1.25
#: Capacity utilisation per record: mean, sd, bounds (modelling assumption).
UTILISATION: Final = (0.85, 0.07, 0.5, 1.0)
#: Log-sd of the facility energy-efficiency multiplier and of the record-level noise.
FACILITY_EFFICIENCY_SIGMA: Final = 0.07
RECORD_ENERGY_SIGMA: Final = 0.03
#: Log-sd of metering error between true fuel use and the fuel figures a facility files.
FUEL_METERING_SIGMA: Final = 0.01
#: Log-sd of emissions no activity column explains (flaring, start-ups, leaks).
UNEXPLAINED_SIGMA: Final = 0.02
#: Log-sd of verified figures around the truth: third-party verification vs CEMS.
THIRD_PARTY_SIGMA: Final = 0.025
MEASURED_SIGMA: Final = 0.01
#: Chance a facility-year is verified inside / outside a verification regime, and that it
#: self-declares inside / outside a self-declaring population (modelling assumptions).
VERIFIED_IN_REGIME: Final = 0.92
VERIFIED_OUTSIDE: Final = 0.03
DECLARED_IN_POPULATION: Final = 0.95
DECLARED_OUTSIDE: Final = 0.10
#: Extra under-reporting by sector on top of the jurisdiction's: what self-declarations
#: typically leave out (cement process CO2 on estimated CaO, aluminium PFCs, hydrogen flaring;
#: fertilisers over-deduct urea). Modelling assumptions, fraction of the truth.
SECTOR_UNDERREPORTING: Final = {
    "iron_steel": 0.0,
    "cement": 0.02,
    "aluminium": 0.06,
    "fertilisers": 0.02,
    "hydrogen": 0.03,
}
#: Log-sd of a facility's persistent reporting offset.
FACILITY_BIAS_SIGMA: Final = 0.04
#: Share of steel (aluminium) facilities that state their scrap share (anode consumption).
SCRAP_SHARE_KNOWN: Final = 0.85
#: Share of facilities that state their main fuel (modelling assumption: most producers
#: that cannot file a breakdown know it, issue 16), and the seed stream it is drawn from.
MAIN_FUEL_KNOWN: Final = 0.85
MAIN_FUEL_STREAM: Final = 16
ANODE_KNOWN: Final = 0.85

_SECTOR_OF_KIND: Final = np.array([SECTORS.index(s) for s, _ in pm.KINDS])
_ROUTE_NAMES: Final = np.array([r for _, r in pm.KINDS], dtype=object)
_SECTOR_NAMES: Final = np.array(SECTORS, dtype=object)
_PRODUCT_NAMES: Final = np.array(PRODUCTS, dtype=object)
_LEVEL_NAMES: Final = np.array(VERIFICATION_LEVELS, dtype=object)
_CEMENT: Final = SECTORS.index("cement")
_STEEL: Final = SECTORS.index("iron_steel")
_ALUMINIUM: Final = SECTORS.index("aluminium")
_FERTILISERS: Final = SECTORS.index("fertilisers")
_PRODUCT_CEMENT: Final = PRODUCTS.index("cement")
_PRODUCT_CLINKER: Final = PRODUCTS.index("clinker")
_DEFAULT_PRODUCT_OF_KIND: Final = np.array(
    [PRODUCTS.index(PRODUCTS_BY_SECTOR[s][0]) for s, _ in pm.KINDS]
)
_BF_BOF: Final = pm.KIND_INDEX[("iron_steel", "bf_bof")]
_DRI_EAF: Final = pm.KIND_INDEX[("iron_steel", "dri_eaf")]
_PREBAKE: Final = pm.KIND_INDEX[("aluminium", "prebake")]
_REFERENCE_SCRAP: Final = np.zeros(len(pm.KINDS))
_REFERENCE_SCRAP[_BF_BOF] = pm.BF_BOF_REFERENCE_SCRAP_SHARE
_REFERENCE_SCRAP[_DRI_EAF] = pm.DRI_EAF_REFERENCE_SCRAP_SHARE
_LEVEL = {name: i for i, name in enumerate(VERIFICATION_LEVELS)}

TRUTH_COLUMNS: Final = ("record_id", "true_direct_tco2e", "true_intensity_tco2e_per_t")


@dataclass(frozen=True)
class GeneratedData:
    """Contract-valid records and, separately, the truth behind them.

    ``records`` has exactly the contract columns in contract order (ready to write and
    ingest); ``truth`` (``record_id``, ``true_direct_tco2e``, ``true_intensity_tco2e_per_t``)
    is what a model should recover and must never be ingested. ``profiles`` are the
    jurisdiction profiles used, in output order.
    """

    records: pd.DataFrame
    truth: pd.DataFrame
    profiles: tuple[JurisdictionProfile, ...]
    seed: int


def generate(
    jurisdictions: Sequence[str] | int = 4,
    records: int = 500,
    seed: int = 0,
    start_year: int = 2019,
    end_year: int = 2024,
) -> GeneratedData:
    """Generate ``records`` rows for each jurisdiction (a count or ISO alpha-2 codes)."""
    _check_arguments(records, seed, start_year, end_year)
    profiles = resolve_jurisdictions(jurisdictions, seed)
    years = np.arange(start_year, end_year + 1)
    parts = [_simulate(p, records, seed, years) for p in profiles]
    cols = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    facility_id = pd.Series(cols.pop("facility_id"), dtype="str")
    year_text = pd.Series(years.astype(str).astype(object)[cols.pop("year_index")], dtype="str")
    product = pd.Series(_PRODUCT_NAMES[cols.pop("product")], dtype="str")
    record_id = facility_id + "-" + year_text + "-" + product

    frame = pd.DataFrame(
        {
            "record_id": record_id,
            "facility_id": facility_id,
            "jurisdiction": pd.Series(cols.pop("jurisdiction"), dtype="str"),
            "year": cols.pop("year").astype(np.int64),
            "sector": pd.Series(_SECTOR_NAMES[cols.pop("sector")], dtype="str"),
            "product": product,
            "route": pd.Series(_ROUTE_NAMES[cols.pop("kind")], dtype="str"),
            "verification": pd.Series(_LEVEL_NAMES[cols.pop("verification")], dtype="str"),
            **{k: v for k, v in cols.items() if k in ALL_COLUMNS},
        }
    )[list(ALL_COLUMNS)]
    truth = pd.DataFrame(
        {
            "record_id": record_id,
            "true_direct_tco2e": cols["true_direct_tco2e"],
            "true_intensity_tco2e_per_t": cols["true_direct_tco2e"] / cols["production_t"],
        }
    )
    return GeneratedData(records=frame, truth=truth, profiles=profiles, seed=seed)


def _check_arguments(records: int, seed: int, start_year: int, end_year: int) -> None:
    if isinstance(records, bool) or not isinstance(records, int) or records < 1:
        raise GenerateError(f"records: need a whole number >= 1 per jurisdiction, got {records!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise GenerateError(f"seed: need a whole number >= 0, got {seed!r}")
    low, high = YEAR_RANGE
    for name, year in (("start_year", start_year), ("end_year", end_year)):
        if isinstance(year, bool) or not isinstance(year, int) or not low <= year <= high:
            raise GenerateError(f"{name}: need a year between {low} and {high}, got {year!r}")
    if start_year > end_year:
        raise GenerateError(f"start_year {start_year} is after end_year {end_year}")


def _lognormal(
    rng: np.random.Generator, sigma: float | np.ndarray, size: int, clip_sd: float = 3.0
) -> np.ndarray:
    """exp(N(0, sigma)) truncated at ``clip_sd`` standard deviations."""
    z = np.clip(rng.standard_normal(size), -clip_sd, clip_sd)
    return np.exp(z * sigma)


@dataclass(frozen=True)
class _Sample:
    """The facility-years kept, and what every later step reads of each record."""

    f: np.ndarray  # the record's facility (index into the facility arrays)
    year_index: np.ndarray
    kind: np.ndarray
    sector: np.ndarray
    product: np.ndarray

    @property
    def n(self) -> int:
        return len(self.f)

    @property
    def is_cement_product(self) -> np.ndarray:
        cement: np.ndarray = self.product == _PRODUCT_CEMENT
        return cement


# Every step below draws from the jurisdiction's one stream, so the order in which
# _simulate calls them is part of the output: reordering the calls changes the data.


def _simulate(
    profile: JurisdictionProfile, n: int, seed: int, years: np.ndarray
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, code_key(profile.code)])
    n_fac = max(1, math.ceil(n * POOL_FACTOR / len(years)))
    fac = _facilities(profile, rng, n_fac)
    sample = _sample(rng, fac, n, n_fac, len(years))
    production, multiplier = _activity(profile, rng, fac, sample)
    scrap, ore = _steel_scrap(rng, fac, sample)
    clinker_ratio, clinker_per_t = _cement_clinker(rng, fac, sample)
    fuel_tj = _fuel_tj(fac, sample, ore, clinker_ratio, clinker_per_t, production * multiplier)
    electricity = _electricity(rng, sample, clinker_ratio, production, multiplier)
    true_direct, anode_true = _true_direct(
        rng, fac, sample, fuel_tj, production, ore, clinker_per_t
    )
    out = _filed(rng, fac, sample, fuel_tj, electricity, clinker_ratio, scrap, anode_true)
    verification, reported, verified = _declarations(
        profile, rng, fac, sample.f, sample.sector, true_direct, production
    )
    out["reported_direct_tco2e"] = reported
    out["verified_direct_tco2e"] = verified
    out["main_fuel"] = _main_fuel(seed, profile.code, fac, sample, fuel_tj, electricity)
    return {
        "facility_id": fac["label"][sample.f],
        "jurisdiction": np.full(n, profile.code, dtype=object),
        "year": years[sample.year_index],
        "year_index": sample.year_index,
        "sector": sample.sector,
        "product": sample.product,
        "kind": sample.kind,
        "production_t": production,
        **out,
        "verification": verification,
        "true_direct_tco2e": true_direct,
    }


def _main_fuel(
    seed: int,
    code: str,
    fac: dict[str, np.ndarray],
    s: _Sample,
    fuel_tj: dict[str, np.ndarray],
    electricity: np.ndarray,
) -> np.ndarray:
    """The carrier with the most energy (electricity at its heat value), or empty where the
    facility does not state it (``MAIN_FUEL_KNOWN`` of facilities do).

    Drawn from its own stream, so adding the column changed no other generated value.
    """
    rng = np.random.default_rng([seed, code_key(code), MAIN_FUEL_STREAM])
    known = rng.random(len(fac["label"])) < MAIN_FUEL_KNOWN
    energy = np.column_stack([*(fuel_tj[c] for c in FUEL_COLUMNS), electricity * 0.0036])
    names = np.array([*(c.removesuffix("_tj") for c in FUEL_COLUMNS), "electricity"], dtype=object)
    main: np.ndarray = names[np.argmax(energy, axis=1)]
    return np.where(known[s.f], main, np.array(None, dtype=object))


def _sample(
    rng: np.random.Generator, fac: dict[str, np.ndarray], n: int, n_fac: int, n_years: int
) -> _Sample:
    """Draw a surplus pool of facility-years and keep ``n`` at random, in facility/year order."""
    pick = np.sort(rng.choice(n_fac * n_years, size=n, replace=False))
    f = pick // n_years
    kind = fac["kind"][f]
    return _Sample(
        f=f,
        year_index=pick % n_years,
        kind=kind,
        sector=_SECTOR_OF_KIND[kind],
        product=fac["product"][f],
    )


def _activity(
    profile: JurisdictionProfile,
    rng: np.random.Generator,
    fac: dict[str, np.ndarray],
    s: _Sample,
) -> tuple[np.ndarray, np.ndarray]:
    """Production (t) and the energy multiplier: utilisation, efficiency and its trend."""
    low_u, sd_u, min_u, max_u = UTILISATION
    utilisation = np.clip(rng.normal(low_u, sd_u, s.n), min_u, max_u)
    production = np.maximum(1.0, np.round(fac["capacity"][s.f] * utilisation))
    lo, hi = pm.ENERGY_MULTIPLIER_BOUNDS
    multiplier = np.clip(
        fac["efficiency"][s.f]
        * (1.0 - profile.efficiency_trend) ** s.year_index
        * _lognormal(rng, RECORD_ENERGY_SIGMA, s.n),
        lo,
        hi,
    )
    return production, multiplier


def _steel_scrap(
    rng: np.random.Generator, fac: dict[str, np.ndarray], s: _Sample
) -> tuple[np.ndarray, np.ndarray]:
    """Scrap share per record around the facility's; ore-based energy scales with it."""
    spec = pm.SPEC_ARRAYS
    scrap = np.clip(
        fac["scrap"][s.f] + rng.normal(0.0, 0.015, s.n),
        spec["scrap_low"][s.kind],
        spec["scrap_high"][s.kind],
    )
    ore = np.where(
        spec["ore_scaled"][s.kind] > 0, (1.0 - scrap) / (1.0 - _REFERENCE_SCRAP[s.kind]), 1.0
    )
    return scrap, ore


def _cement_clinker(
    rng: np.random.Generator, fac: dict[str, np.ndarray], s: _Sample
) -> tuple[np.ndarray, np.ndarray]:
    """The clinker ratio, and the clinker tonnes behind each tonne of product."""
    clinker_ratio = np.clip(fac["clinker_ratio"][s.f] + rng.normal(0.0, 0.01, s.n), 0.3, 1.0)
    return clinker_ratio, np.where(s.is_cement_product, clinker_ratio, 1.0)


def _fuel_tj(
    fac: dict[str, np.ndarray],
    s: _Sample,
    ore: np.ndarray,
    clinker_ratio: np.ndarray,
    clinker_per_t: np.ndarray,
    energy_scale: np.ndarray,
) -> dict[str, np.ndarray]:
    """True fuel use (TJ) by carrier: the route's GJ per tonne, the plant's habits, scaled.

    ``energy_scale`` is production times the energy multiplier (GJ per tonne -> GJ).
    """
    spec = pm.SPEC_ARRAYS
    kind = s.kind
    coke = spec["coke_gj"][kind] * ore
    coal = spec["coal_gj"][kind] * ore
    gas = spec["gas_gj"][kind] * ore
    oil = spec["oil_gj"][kind].copy()
    biomass = np.zeros(s.n)
    dri_coal = fac["dri_coal"][s.f]
    coal = coal + np.where(dri_coal, pm.DRI_COAL_GJ_PER_T * ore, 0.0)
    gas = np.where(dri_coal, gas * 0.05, gas)
    charcoal = fac["charcoal"][s.f]
    biomass = biomass + np.where(charcoal, 1.1 * (coke + coal), 0.0)
    coke = np.where(charcoal, 0.0, coke)
    coal = np.where(charcoal, 0.0, coal)
    flexible = spec["flexible_gj"][kind] * clinker_per_t + np.where(
        s.is_cement_product, pm.CEMENT_ADDITIVE_DRYING_GJ_PER_T * (1.0 - clinker_ratio), 0.0
    )
    mix = fac["fuel_mix"][s.f]
    coal = coal + flexible * mix[:, 0]
    gas = gas + flexible * mix[:, 1]
    oil = oil + flexible * mix[:, 2]
    biomass = biomass + flexible * mix[:, 3]
    to_tj = energy_scale / 1000.0
    return {
        "coal_tj": coal * to_tj,
        "coke_tj": coke * to_tj,
        "natural_gas_tj": gas * to_tj,
        "oil_tj": oil * to_tj,
        "biomass_tj": biomass * to_tj,
    }


def _electricity(
    rng: np.random.Generator,
    s: _Sample,
    clinker_ratio: np.ndarray,
    production: np.ndarray,
    multiplier: np.ndarray,
) -> np.ndarray:
    """Electricity (MWh); cement adds grinding, and drive power scales sub-linearly."""
    spec = pm.SPEC_ARRAYS
    electricity_per_t = np.where(
        s.is_cement_product,
        pm.CEMENT_GRINDING_MWH_PER_T + spec["electricity_mwh"][s.kind] * clinker_ratio,
        spec["electricity_mwh"][s.kind],
    )
    mwh: np.ndarray = (
        production * electricity_per_t * np.sqrt(multiplier) * _lognormal(rng, 0.02, s.n)
    )
    return mwh


def _true_direct(
    rng: np.random.Generator,
    fac: dict[str, np.ndarray],
    s: _Sample,
    fuel_tj: dict[str, np.ndarray],
    production: np.ndarray,
    ore: np.ndarray,
    clinker_per_t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """True direct emissions (t CO2), and the anode tonnes aluminium consumed.

    Combustion uses the facility's own fuel carbon and oxidation; process emissions
    depend on the sector.
    """
    f, n = s.f, s.n
    solid_ox = fac["oxidation_solid"][f]
    fluid_ox = fac["oxidation_fluid"][f]
    combustion = (
        fuel_tj["coal_tj"] * fac["coal_factor"][f] * solid_ox
        + fuel_tj["coke_tj"] * fac["coke_factor"][f] * solid_ox
        + fuel_tj["natural_gas_tj"] * fac["gas_factor"][f] * fluid_ox
        + fuel_tj["oil_tj"] * fac["oil_factor"][f] * fluid_ox
        + fuel_tj["biomass_tj"] * pm.BIOGENIC_CO2_COUNTED_T_PER_TJ
    )
    steel_process = production * fac["steel_process"][f] * ore
    clinker_ef = pm.CO2_PER_CAO * fac["cao"][f] * fac["ckd"][f] + fac["raw_meal_toc"][f]
    cement_process = production * clinker_per_t * clinker_ef
    anode_true = production * fac["anode_rate"][f] * _lognormal(rng, 0.02, n)
    aluminium_process = anode_true * fac["anode_carbon"][f] * pm.CO2_PER_C + production * fac[
        "pfc"
    ][f] * _lognormal(rng, 0.2, n)
    urea_recovered = combustion * fac["urea_recovery"][f]
    process = np.select(
        [s.sector == _STEEL, s.sector == _CEMENT, s.sector == _ALUMINIUM, s.sector == _FERTILISERS],
        [steel_process, cement_process, aluminium_process, -urea_recovered],
        0.0,
    )
    true_direct = np.maximum(0.0, (combustion + process) * _lognormal(rng, UNEXPLAINED_SIGMA, n))
    return np.minimum(true_direct, pm.MAX_TRUE_INTENSITY * production), anode_true


def _filed(
    rng: np.random.Generator,
    fac: dict[str, np.ndarray],
    s: _Sample,
    fuel_tj: dict[str, np.ndarray],
    electricity: np.ndarray,
    clinker_ratio: np.ndarray,
    scrap: np.ndarray,
    anode_true: np.ndarray,
) -> dict[str, np.ndarray]:
    """The activity figures the facility files: metered, rounded, gaps where unknown."""
    f, n = s.f, s.n
    fuel_known = ~fac["fuel_unknown"][f]
    out: dict[str, np.ndarray] = {}
    for column in FUEL_COLUMNS:
        filed = np.round(fuel_tj[column] * _lognormal(rng, FUEL_METERING_SIGMA, n), 4)
        out[column] = np.where(fuel_known, filed, np.nan)
    out["electricity_mwh"] = np.round(electricity, 1)
    out["clinker_ratio"] = np.where(s.is_cement_product, np.round(clinker_ratio, 3), np.nan)
    is_steel = s.sector == _STEEL
    out["scrap_share"] = np.where(is_steel & fac["scrap_known"][f], np.round(scrap, 3), np.nan)
    filed_anode = np.round(anode_true * _lognormal(rng, 0.01, n), 1)
    is_aluminium = s.sector == _ALUMINIUM
    out["anode_t"] = np.where(is_aluminium & fac["anode_known"][f], filed_anode, np.nan)
    return out


def _declarations(
    profile: JurisdictionProfile,
    rng: np.random.Generator,
    fac: dict[str, np.ndarray],
    f: np.ndarray,
    sector: np.ndarray,
    true_direct: np.ndarray,
    production: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who declares and who is verified, and the figures they give.

    Self-declared figures under-state the truth by the jurisdiction's and sector's typical
    fraction plus a persistent facility offset and record noise; verified figures scatter
    tightly around the truth (CEMS tighter than third-party verification).
    """
    n = len(f)
    is_verified = np.where(
        fac["verified_regime"][f],
        rng.random(n) < VERIFIED_IN_REGIME,
        rng.random(n) < VERIFIED_OUTSIDE,
    )
    is_reported = np.where(
        fac["self_declares"][f],
        rng.random(n) < DECLARED_IN_POPULATION,
        rng.random(n) < DECLARED_OUTSIDE,
    )
    measured = fac["measured"][f]
    level = np.select(
        [is_verified & measured, is_verified, is_reported],
        [_LEVEL["measured"], _LEVEL["third_party"], _LEVEL["self_declared"]],
        _LEVEL["none"],
    )
    sigma = np.where(measured, MEASURED_SIGMA, THIRD_PARTY_SIGMA)
    ceiling = (PLAUSIBLE_INTENSITY_RANGE[1] - 0.1) * production
    verified_value = np.round(np.minimum(true_direct * _lognormal(rng, sigma, n), ceiling), 1)
    sector_bias = np.array([SECTOR_UNDERREPORTING[s] for s in SECTORS])[sector]
    ratio = np.maximum(
        0.3,
        (1.0 - profile.underreporting - sector_bias + fac["reporting_offset"][f])
        * _lognormal(rng, profile.reporting_noise, n),
    )
    reported_value = np.round(true_direct * ratio, 1)
    return (
        level,
        np.where(is_reported, reported_value, np.nan),
        np.where(is_verified, verified_value, np.nan),
    )


def _facilities(
    profile: JurisdictionProfile, rng: np.random.Generator, n_fac: int
) -> dict[str, np.ndarray]:
    """Persistent facility attributes: route, size, efficiency, fuel chemistry, habits.

    Like the records, the attributes are drawn in a fixed order from the one stream.
    """
    spec = pm.SPEC_ARRAYS
    kind, product = _facility_kinds(profile, rng, n_fac)
    sector = _SECTOR_OF_KIND[kind]
    fuel_mix = _facility_fuel_mix(profile, rng, n_fac)
    petcoke_share = np.where(sector == _CEMENT, rng.uniform(0.0, 0.6, n_fac), 0.0)
    oil_factor = pm.IPCC_RESIDUAL_FUEL_OIL_T_PER_TJ + petcoke_share * (
        pm.IPCC_PETROLEUM_COKE_T_PER_TJ - pm.IPCC_RESIDUAL_FUEL_OIL_T_PER_TJ
    )
    anode_rate, pfc_median = _facility_anodes(rng, kind, n_fac)
    urea_low, urea_high = pm.UREA_RECOVERY_RANGE
    has_urea = rng.random(n_fac) < pm.UREA_PLANT_SHARE
    width = max(6, len(str(n_fac - 1)))
    code = profile.code
    return {
        "label": np.array([f"{code}-F{i:0{width}d}" for i in range(n_fac)], dtype=object),
        "kind": kind,
        "product": product,
        "capacity": spec["capacity_median_t"][kind]
        * profile.size_factor
        * np.exp(rng.standard_normal(n_fac) * spec["capacity_sigma"][kind]),
        "efficiency": profile.energy_efficiency * _lognormal(rng, FACILITY_EFFICIENCY_SIGMA, n_fac),
        "fuel_mix": fuel_mix,
        "coal_factor": profile.coal_t_per_tj * _lognormal(rng, 0.015, n_fac),
        "coke_factor": pm.IPCC_COKE_OVEN_COKE_T_PER_TJ * _lognormal(rng, 0.01, n_fac),
        "gas_factor": pm.IPCC_NATURAL_GAS_T_PER_TJ * _lognormal(rng, 0.01, n_fac),
        "oil_factor": oil_factor * _lognormal(rng, 0.01, n_fac),
        "oxidation_solid": rng.uniform(0.97, 1.0, n_fac),
        "oxidation_fluid": rng.uniform(0.99, 1.0, n_fac),
        "dri_coal": (kind == _DRI_EAF) & (rng.random(n_fac) < profile.dri_coal_share),
        "charcoal": (kind == _BF_BOF) & (rng.random(n_fac) < profile.bf_charcoal_share),
        "scrap": rng.uniform(spec["scrap_low"][kind], spec["scrap_high"][kind]),
        "steel_process": spec["process_t"][kind] * _lognormal(rng, 0.25, n_fac),
        "clinker_ratio": np.clip(rng.normal(profile.clinker_ratio_mean, 0.06, n_fac), 0.45, 0.98),
        "cao": np.clip(rng.normal(pm.IPCC_CLINKER_CAO_FRACTION, 0.012, n_fac), 0.61, 0.69),
        "ckd": rng.uniform(1.0, 1.06, n_fac),
        "raw_meal_toc": rng.uniform(0.0, 0.012, n_fac),
        "anode_rate": anode_rate,
        "anode_carbon": rng.uniform(0.96, 0.985, n_fac),
        "pfc": np.minimum(3.0, pfc_median * _lognormal(rng, pm.PFC_LOG_SIGMA, n_fac)),
        "urea_recovery": np.where(
            (sector == _FERTILISERS) & has_urea, rng.uniform(urea_low, urea_high, n_fac), 0.0
        ),
        "verified_regime": rng.random(n_fac) < profile.verified_share,
        "measured": rng.random(n_fac) < profile.measured_share,
        "self_declares": rng.random(n_fac) < profile.self_declared_share,
        "reporting_offset": rng.normal(0.0, FACILITY_BIAS_SIGMA, n_fac),
        "fuel_unknown": rng.random(n_fac) < profile.fuel_unknown_share,
        "scrap_known": rng.random(n_fac) < SCRAP_SHARE_KNOWN,
        "anode_known": rng.random(n_fac) < ANODE_KNOWN,
    }


def _facility_kinds(
    profile: JurisdictionProfile, rng: np.random.Generator, n_fac: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each facility's route (by the jurisdiction's mix) and the product it reports."""
    weights = np.array([profile.sector_weights[s] * profile.route_mix[s][r] for s, r in pm.KINDS])
    kind = rng.choice(len(pm.KINDS), size=n_fac, p=weights / weights.sum())
    reports_clinker = rng.random(n_fac) < profile.clinker_product_share
    product = np.where(
        _SECTOR_OF_KIND[kind] == _CEMENT,
        np.where(reports_clinker, _PRODUCT_CLINKER, _PRODUCT_CEMENT),
        _DEFAULT_PRODUCT_OF_KIND[kind],
    )
    return kind, product


def _facility_fuel_mix(
    profile: JurisdictionProfile, rng: np.random.Generator, n_fac: int
) -> np.ndarray:
    """Shares of the flexible fuels per facility, scattered around the jurisdiction's mix."""
    alpha = np.array([profile.fuel_mix[name] for name in FLEXIBLE_FUELS]) * 20.0
    draw = np.where(alpha > 0, rng.gamma(np.maximum(alpha, 1e-9), size=(n_fac, len(alpha))), 0.0)
    shares: np.ndarray = draw / np.maximum(draw.sum(axis=1, keepdims=True), 1e-12)
    return shares


def _facility_anodes(
    rng: np.random.Generator, kind: np.ndarray, n_fac: int
) -> tuple[np.ndarray, np.ndarray]:
    """Anode consumption (t per t) and median PFC emissions, prebake vs Soderberg."""
    is_prebake = kind == _PREBAKE
    anode_rate = np.where(
        is_prebake,
        np.clip(rng.normal(pm.PREBAKE_ANODE_T_PER_T, 0.02, n_fac), 0.36, 0.50),
        np.clip(rng.normal(pm.SODERBERG_PASTE_T_PER_T, 0.03, n_fac), 0.44, 0.62),
    )
    pfc_median = np.where(
        is_prebake, pm.PREBAKE_PFC_MEDIAN_T_PER_T, pm.SODERBERG_PFC_MEDIAN_T_PER_T
    )
    return anode_rate, pfc_median
