"""Jurisdiction profiles: what makes one node's data unlike another's.

Federated learning across real nodes faces non-IID data: China's steel is mostly blast
furnace on coke, Turkey's mostly scrap EAF; India makes DRI from coal, Saudi Arabia from gas;
Russia still runs wet cement kilns; Brazil charges blast furnaces with charcoal. The profiles
encode such differences so models trained on the demo data meet the same heterogeneity.

The mixes are rounded, deliberately coarse characterisations informed by public sector
statistics (worldsteel "World Steel in Figures", GCCA/GNR cement data, IAI aluminium statistics,
IEA Ammonia and Hydrogen reports). They are *modelling assumptions of a synthetic data set*,
not statistics to quote. The reporting-bias and verification parameters in particular are
invented to be plausible (stricter MRV regimes get smaller bias and more verification).

Jurisdictions beyond the table get a profile derived deterministically from the seed and the
ISO code: an archetype from the table, perturbed (see :func:`derive_profile`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final

import numpy as np
import pycountry

from open_models.contract import SECTORS
from trust_node.generate.errors import GenerateError

#: Carriers of "flexible" heat (kiln fuel, reheating), in this order everywhere.
FLEXIBLE_FUELS: Final = ("coal", "natural_gas", "oil", "biomass")


@dataclass(frozen=True)
class JurisdictionProfile:
    """How facilities in one jurisdiction produce, burn and report.

    Shares are probabilities (each mapping sums to 1). ``coal_t_per_tj`` is the *true* CO2
    content of the coal burnt there (its rank mix: IPCC 2006 Vol 2 Table 1.4 gives 94.6 for
    bituminous, 96.1 sub-bituminous, 101.0 lignite), which a Tier-1 default does not know.
    """

    code: str
    name: str
    #: share of facilities by sector.
    sector_weights: Mapping[str, float]
    #: per sector, share of facilities by route.
    route_mix: Mapping[str, Mapping[str, float]]
    #: share of flexible heat by carrier (FLEXIBLE_FUELS).
    fuel_mix: Mapping[str, float]
    coal_t_per_tj: float
    #: share of DRI-EAF plants making DRI from coal instead of gas.
    dri_coal_share: float
    #: share of BF-BOF plants charging charcoal instead of coke (Brazil).
    bf_charcoal_share: float
    #: share of cement-sector facilities that report clinker rather than cement.
    clinker_product_share: float
    clinker_ratio_mean: float
    #: jurisdiction-wide energy-intensity multiplier (1 = the route table) and its yearly
    #: improvement (fraction per year).
    energy_efficiency: float
    efficiency_trend: float
    #: multiplier on route median capacities.
    size_factor: float
    #: mean fraction by which self-declared figures under-state the truth, and the log-sd
    #: of the record-level reporting noise.
    underreporting: float
    reporting_noise: float
    #: share of facilities that self-declare, share under a verification regime, and share
    #: of verified facilities whose figure is measured (CEMS) rather than third-party verified.
    self_declared_share: float
    verified_share: float
    measured_share: float
    #: share of facilities reporting no fuel breakdown (fuel columns empty).
    fuel_unknown_share: float
    #: True for table profiles, False for profiles derived from the seed.
    documented: bool = field(default=True)


def _p(**shares: float) -> Mapping[str, float]:
    return MappingProxyType(dict(shares))


def _routes(**per_sector: Mapping[str, float]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType(dict(per_sector))


_TABLE: Final = (
    JurisdictionProfile(
        "CN",
        "China",
        sector_weights=_p(
            iron_steel=0.25, cement=0.40, aluminium=0.08, fertilisers=0.15, hydrogen=0.12
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.86, dri_eaf=0.01, scrap_eaf=0.13),
            cement=_p(dry_kiln=0.98, wet_kiln=0.02),
            aluminium=_p(prebake=0.98, soderberg=0.02),
            fertilisers=_p(smr_gas=0.25, coal_gasification=0.75),
            hydrogen=_p(smr_gas=0.25, coal_gasification=0.65, electrolysis=0.10),
        ),
        fuel_mix=_p(coal=0.85, natural_gas=0.08, oil=0.04, biomass=0.03),
        coal_t_per_tj=95.0,
        dri_coal_share=0.5,
        bf_charcoal_share=0.0,
        clinker_product_share=0.30,
        clinker_ratio_mean=0.66,
        energy_efficiency=1.03,
        efficiency_trend=0.010,
        size_factor=1.5,
        underreporting=0.12,
        reporting_noise=0.08,
        self_declared_share=0.85,
        verified_share=0.25,
        measured_share=0.40,
        fuel_unknown_share=0.15,
    ),
    JurisdictionProfile(
        "IN",
        "India",
        sector_weights=_p(
            iron_steel=0.30, cement=0.40, aluminium=0.05, fertilisers=0.17, hydrogen=0.08
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.45, dri_eaf=0.40, scrap_eaf=0.15),
            cement=_p(dry_kiln=0.97, wet_kiln=0.03),
            aluminium=_p(prebake=0.90, soderberg=0.10),
            fertilisers=_p(smr_gas=0.95, coal_gasification=0.05),
            hydrogen=_p(smr_gas=0.85, coal_gasification=0.05, electrolysis=0.10),
        ),
        fuel_mix=_p(coal=0.80, natural_gas=0.05, oil=0.10, biomass=0.05),
        coal_t_per_tj=96.1,
        dri_coal_share=0.8,
        bf_charcoal_share=0.0,
        clinker_product_share=0.25,
        clinker_ratio_mean=0.70,
        energy_efficiency=1.12,
        efficiency_trend=0.008,
        size_factor=0.8,
        underreporting=0.15,
        reporting_noise=0.10,
        self_declared_share=0.70,
        verified_share=0.15,
        measured_share=0.20,
        fuel_unknown_share=0.20,
    ),
    JurisdictionProfile(
        "DE",
        "Germany",
        sector_weights=_p(
            iron_steel=0.30, cement=0.35, aluminium=0.08, fertilisers=0.12, hydrogen=0.15
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.70, dri_eaf=0.02, scrap_eaf=0.28),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=1.0, soderberg=0.0),
            fertilisers=_p(smr_gas=1.0, coal_gasification=0.0),
            hydrogen=_p(smr_gas=0.85, coal_gasification=0.0, electrolysis=0.15),
        ),
        fuel_mix=_p(coal=0.35, natural_gas=0.10, oil=0.05, biomass=0.50),
        coal_t_per_tj=99.0,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.20,
        clinker_ratio_mean=0.71,
        energy_efficiency=0.95,
        efficiency_trend=0.006,
        size_factor=1.0,
        underreporting=0.03,
        reporting_noise=0.04,
        self_declared_share=0.90,
        verified_share=0.85,
        measured_share=0.15,
        fuel_unknown_share=0.10,
    ),
    JurisdictionProfile(
        "US",
        "United States",
        sector_weights=_p(
            iron_steel=0.28, cement=0.30, aluminium=0.05, fertilisers=0.17, hydrogen=0.20
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.30, dri_eaf=0.05, scrap_eaf=0.65),
            cement=_p(dry_kiln=0.92, wet_kiln=0.08),
            aluminium=_p(prebake=0.85, soderberg=0.15),
            fertilisers=_p(smr_gas=0.98, coal_gasification=0.02),
            hydrogen=_p(smr_gas=0.95, coal_gasification=0.0, electrolysis=0.05),
        ),
        fuel_mix=_p(coal=0.50, natural_gas=0.30, oil=0.10, biomass=0.10),
        coal_t_per_tj=95.5,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.20,
        clinker_ratio_mean=0.85,
        energy_efficiency=1.00,
        efficiency_trend=0.005,
        size_factor=1.1,
        underreporting=0.05,
        reporting_noise=0.05,
        self_declared_share=0.90,
        verified_share=0.40,
        measured_share=0.50,
        fuel_unknown_share=0.10,
    ),
    JurisdictionProfile(
        "BR",
        "Brazil",
        sector_weights=_p(
            iron_steel=0.30, cement=0.40, aluminium=0.08, fertilisers=0.12, hydrogen=0.10
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.75, dri_eaf=0.0, scrap_eaf=0.25),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=0.70, soderberg=0.30),
            fertilisers=_p(smr_gas=1.0, coal_gasification=0.0),
            hydrogen=_p(smr_gas=0.80, coal_gasification=0.0, electrolysis=0.20),
        ),
        fuel_mix=_p(coal=0.35, natural_gas=0.05, oil=0.15, biomass=0.45),
        coal_t_per_tj=97.0,
        dri_coal_share=0.0,
        bf_charcoal_share=0.30,
        clinker_product_share=0.15,
        clinker_ratio_mean=0.67,
        energy_efficiency=1.02,
        efficiency_trend=0.005,
        size_factor=0.9,
        underreporting=0.08,
        reporting_noise=0.08,
        self_declared_share=0.75,
        verified_share=0.30,
        measured_share=0.10,
        fuel_unknown_share=0.18,
    ),
    JurisdictionProfile(
        "TR",
        "Türkiye",
        sector_weights=_p(
            iron_steel=0.35, cement=0.45, aluminium=0.02, fertilisers=0.12, hydrogen=0.06
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.30, dri_eaf=0.0, scrap_eaf=0.70),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=1.0, soderberg=0.0),
            fertilisers=_p(smr_gas=1.0, coal_gasification=0.0),
            hydrogen=_p(smr_gas=1.0, coal_gasification=0.0, electrolysis=0.0),
        ),
        fuel_mix=_p(coal=0.75, natural_gas=0.08, oil=0.05, biomass=0.12),
        coal_t_per_tj=100.0,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.35,
        clinker_ratio_mean=0.78,
        energy_efficiency=1.04,
        efficiency_trend=0.006,
        size_factor=0.9,
        underreporting=0.10,
        reporting_noise=0.07,
        self_declared_share=0.80,
        verified_share=0.35,
        measured_share=0.10,
        fuel_unknown_share=0.15,
    ),
    JurisdictionProfile(
        "JP",
        "Japan",
        sector_weights=_p(
            iron_steel=0.40, cement=0.30, aluminium=0.0, fertilisers=0.10, hydrogen=0.20
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.75, dri_eaf=0.0, scrap_eaf=0.25),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=1.0, soderberg=0.0),
            fertilisers=_p(smr_gas=0.95, coal_gasification=0.05),
            hydrogen=_p(smr_gas=0.90, coal_gasification=0.0, electrolysis=0.10),
        ),
        fuel_mix=_p(coal=0.70, natural_gas=0.05, oil=0.05, biomass=0.20),
        coal_t_per_tj=94.6,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.10,
        clinker_ratio_mean=0.85,
        energy_efficiency=0.93,
        efficiency_trend=0.004,
        size_factor=1.4,
        underreporting=0.04,
        reporting_noise=0.04,
        self_declared_share=0.95,
        verified_share=0.50,
        measured_share=0.30,
        fuel_unknown_share=0.10,
    ),
    JurisdictionProfile(
        "RU",
        "Russian Federation",
        sector_weights=_p(
            iron_steel=0.30, cement=0.30, aluminium=0.12, fertilisers=0.20, hydrogen=0.08
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.65, dri_eaf=0.07, scrap_eaf=0.28),
            cement=_p(dry_kiln=0.60, wet_kiln=0.40),
            aluminium=_p(prebake=0.45, soderberg=0.55),
            fertilisers=_p(smr_gas=1.0, coal_gasification=0.0),
            hydrogen=_p(smr_gas=1.0, coal_gasification=0.0, electrolysis=0.0),
        ),
        fuel_mix=_p(coal=0.25, natural_gas=0.70, oil=0.04, biomass=0.01),
        coal_t_per_tj=95.0,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.20,
        clinker_ratio_mean=0.80,
        energy_efficiency=1.15,
        efficiency_trend=0.004,
        size_factor=1.2,
        underreporting=0.14,
        reporting_noise=0.10,
        self_declared_share=0.65,
        verified_share=0.15,
        measured_share=0.10,
        fuel_unknown_share=0.20,
    ),
    JurisdictionProfile(
        "ZA",
        "South Africa",
        sector_weights=_p(
            iron_steel=0.35, cement=0.35, aluminium=0.05, fertilisers=0.10, hydrogen=0.15
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.50, dri_eaf=0.20, scrap_eaf=0.30),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=1.0, soderberg=0.0),
            fertilisers=_p(smr_gas=0.40, coal_gasification=0.60),
            hydrogen=_p(smr_gas=0.05, coal_gasification=0.90, electrolysis=0.05),
        ),
        fuel_mix=_p(coal=0.88, natural_gas=0.02, oil=0.05, biomass=0.05),
        coal_t_per_tj=96.1,
        dri_coal_share=0.9,
        bf_charcoal_share=0.0,
        clinker_product_share=0.20,
        clinker_ratio_mean=0.70,
        energy_efficiency=1.08,
        efficiency_trend=0.004,
        size_factor=0.9,
        underreporting=0.10,
        reporting_noise=0.08,
        self_declared_share=0.75,
        verified_share=0.20,
        measured_share=0.15,
        fuel_unknown_share=0.20,
    ),
    JurisdictionProfile(
        "SA",
        "Saudi Arabia",
        sector_weights=_p(
            iron_steel=0.30, cement=0.35, aluminium=0.05, fertilisers=0.15, hydrogen=0.15
        ),
        route_mix=_routes(
            iron_steel=_p(bf_bof=0.0, dri_eaf=0.75, scrap_eaf=0.25),
            cement=_p(dry_kiln=1.0, wet_kiln=0.0),
            aluminium=_p(prebake=1.0, soderberg=0.0),
            fertilisers=_p(smr_gas=1.0, coal_gasification=0.0),
            hydrogen=_p(smr_gas=0.90, coal_gasification=0.0, electrolysis=0.10),
        ),
        fuel_mix=_p(coal=0.0, natural_gas=0.45, oil=0.55, biomass=0.0),
        coal_t_per_tj=94.6,
        dri_coal_share=0.0,
        bf_charcoal_share=0.0,
        clinker_product_share=0.25,
        clinker_ratio_mean=0.85,
        energy_efficiency=1.00,
        efficiency_trend=0.003,
        size_factor=1.0,
        underreporting=0.09,
        reporting_noise=0.06,
        self_declared_share=0.70,
        verified_share=0.20,
        measured_share=0.20,
        fuel_unknown_share=0.15,
    ),
)

#: The documented profiles, by ISO 3166-1 alpha-2 code, in table order (``generate(4)``
#: uses the first four: CN, IN, DE, US).
JURISDICTION_PROFILES: Final[Mapping[str, JurisdictionProfile]] = MappingProxyType(
    {p.code: p for p in _TABLE}
)

#: All ISO 3166-1 alpha-2 codes known to pycountry, sorted.
ISO_ALPHA2: Final = tuple(sorted(c.alpha_2 for c in pycountry.countries))


def code_key(code: str) -> int:
    """A stable integer for an ISO code (Python's ``hash`` is salted per process)."""
    return zlib.crc32(code.encode("ascii"))


def country_name(code: str) -> str:
    """The country's common name for a code, refusing anything that is not ISO alpha-2."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise GenerateError(
            f"jurisdiction {code!r} is not an ISO 3166-1 alpha-2 code (e.g. 'CN', 'DE')"
        )
    return str(getattr(country, "common_name", None) or country.name)


def _perturb(
    rng: np.random.Generator, shares: Mapping[str, float], concentration: float, floor: float = 0.0
) -> Mapping[str, float]:
    keys = list(shares)
    alpha = np.array([shares[k] for k in keys]) * concentration + floor
    draw = rng.gamma(np.maximum(alpha, 1e-9))
    total = draw.sum()
    values = draw / total if total > 0 else np.full(len(keys), 1.0 / len(keys))
    return _p(**{k: float(round(v, 4)) for k, v in zip(keys, values, strict=True)})


def derive_profile(code: str, seed: int) -> JurisdictionProfile:
    """A profile for a code outside the table, deterministic in (seed, code).

    An archetype from the table is picked and every mix and parameter perturbed (Dirichlet
    around the archetype's mixes; scalars jittered within plausible bounds), so derived
    jurisdictions are as heterogeneous as the table's but never copies of one.
    """
    name = country_name(code)
    rng = np.random.default_rng([seed, code_key(code), 1])
    base = _TABLE[int(rng.integers(len(_TABLE)))]

    def jitter(value: float, rel: float, low: float, high: float) -> float:
        return float(round(np.clip(value * np.exp(rng.normal(0.0, rel)), low, high), 4))

    return replace(
        base,
        code=code,
        name=name,
        sector_weights=_perturb(rng, base.sector_weights, 40.0, floor=0.3),
        route_mix=_routes(
            **{s: _perturb(rng, base.route_mix[s], 30.0, floor=0.2) for s in SECTORS}
        ),
        fuel_mix=_perturb(rng, base.fuel_mix, 30.0, floor=0.2),
        coal_t_per_tj=jitter(base.coal_t_per_tj, 0.02, 94.6, 101.0),
        dri_coal_share=jitter(base.dri_coal_share + 0.05, 0.3, 0.0, 0.95),
        bf_charcoal_share=jitter(base.bf_charcoal_share, 0.3, 0.0, 0.5),
        clinker_product_share=jitter(base.clinker_product_share, 0.2, 0.05, 0.5),
        clinker_ratio_mean=jitter(base.clinker_ratio_mean, 0.05, 0.6, 0.92),
        energy_efficiency=jitter(base.energy_efficiency, 0.04, 0.9, 1.18),
        efficiency_trend=jitter(base.efficiency_trend, 0.2, 0.0, 0.012),
        size_factor=jitter(base.size_factor, 0.2, 0.5, 2.0),
        underreporting=jitter(base.underreporting, 0.3, 0.01, 0.2),
        reporting_noise=jitter(base.reporting_noise, 0.2, 0.03, 0.12),
        self_declared_share=jitter(base.self_declared_share, 0.1, 0.5, 0.95),
        verified_share=jitter(base.verified_share, 0.3, 0.1, 0.9),
        measured_share=jitter(base.measured_share, 0.3, 0.05, 0.6),
        fuel_unknown_share=jitter(base.fuel_unknown_share, 0.2, 0.08, 0.25),
        documented=False,
    )


def resolve_jurisdictions(
    jurisdictions: Sequence[str] | str | int, seed: int
) -> tuple[JurisdictionProfile, ...]:
    """Profiles for a count (table first, then seed-chosen real ISO codes) or a code list.

    A string is read as a comma-separated list of codes (``"CN,DE"``).
    """
    if isinstance(jurisdictions, bool):
        raise GenerateError("jurisdictions must be a count or a list of ISO codes, not a bool")
    if isinstance(jurisdictions, int):
        return _by_count(jurisdictions, seed)
    if isinstance(jurisdictions, str):
        jurisdictions = [j for j in jurisdictions.split(",") if j.strip()]
    codes = [str(j).strip().upper() for j in jurisdictions]
    if not codes:
        raise GenerateError("jurisdictions: need at least one ISO 3166-1 alpha-2 code")
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise GenerateError(f"jurisdictions: listed more than once: {', '.join(duplicated)}")
    return tuple(
        JURISDICTION_PROFILES[c] if c in JURISDICTION_PROFILES else derive_profile(c, seed)
        for c in codes
    )


def _by_count(count: int, seed: int) -> tuple[JurisdictionProfile, ...]:
    if not 1 <= count <= len(ISO_ALPHA2):
        raise GenerateError(
            f"jurisdictions: count must be between 1 and {len(ISO_ALPHA2)}, got {count}"
        )
    table = list(_TABLE[:count])
    extra = count - len(table)
    if extra <= 0:
        return tuple(table)
    pool = np.array([c for c in ISO_ALPHA2 if c not in JURISDICTION_PROFILES])
    chosen = np.random.default_rng([seed, 2]).permutation(pool)[:extra]
    return (*table, *(derive_profile(str(c), seed) for c in chosen))


def profiles_markdown(profiles: Sequence[JurisdictionProfile] | None = None) -> str:
    """The profile tables as Markdown, as printed in docs/demo-data.md (a test keeps them equal)."""
    chosen = list(JURISDICTION_PROFILES.values()) if profiles is None else list(profiles)

    def pct(*values: float) -> str:
        return " / ".join(f"{v:.0%}" for v in values)

    production = [
        "| code | name | steel BF-BOF / DRI-EAF / scrap-EAF | coal DRI | BF charcoal "
        "| wet kiln | clinker ratio | Soderberg | coal ammonia | H2 SMR / coal / electrolysis "
        "| heat coal / gas / oil / biomass | coal t CO2/TJ | energy x |",
        "|" + "---|" * 13,
    ]
    reporting = [
        "| code | sectors steel / cement / aluminium / fertilisers / hydrogen "
        "| under-reporting | noise (log-sd) | self-declare | verified | measured "
        "| no fuel breakdown | reports clinker |",
        "|" + "---|" * 9,
    ]
    for p in chosen:
        rm, sw, fm = p.route_mix, p.sector_weights, p.fuel_mix
        production.append(
            f"| {p.code} | {p.name} "
            f"| {pct(rm['iron_steel']['bf_bof'], rm['iron_steel']['dri_eaf'])} / "
            f"{pct(rm['iron_steel']['scrap_eaf'])} "
            f"| {pct(p.dri_coal_share)} | {pct(p.bf_charcoal_share)} "
            f"| {pct(rm['cement']['wet_kiln'])} | {p.clinker_ratio_mean:.2f} "
            f"| {pct(rm['aluminium']['soderberg'])} "
            f"| {pct(rm['fertilisers']['coal_gasification'])} "
            f"| {pct(*(rm['hydrogen'][r] for r in ('smr_gas', 'coal_gasification')))} / "
            f"{pct(rm['hydrogen']['electrolysis'])} "
            f"| {pct(*(fm[k] for k in FLEXIBLE_FUELS))} | {p.coal_t_per_tj:.1f} "
            f"| {p.energy_efficiency:.2f} |"
        )
        reporting.append(
            f"| {p.code} | {pct(*(sw[s] for s in SECTORS))} | {pct(p.underreporting)} "
            f"| {p.reporting_noise:.2f} | {pct(p.self_declared_share)} "
            f"| {pct(p.verified_share)} | {pct(p.measured_share)} "
            f"| {pct(p.fuel_unknown_share)} | {pct(p.clinker_product_share)} |"
        )
    return "\n".join(production) + "\n\n" + "\n".join(reporting) + "\n"
