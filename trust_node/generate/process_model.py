"""The physical model behind the synthetic truth.

Why a model and not Tier-1 factors: the data set exists to train and evaluate emission-factor
and bias-correction models against a *known* truth. If the truth were activity x IPCC default
factor, a Tier-1 calculation would be exact and nothing could be learnt. Real facilities differ
from Tier-1 in ways the contract columns only partly reveal (coal rank, oxidation, CaO content
and cement kiln dust, anode carbon content and PFC anode effects, CO2 recovered for urea,
flaring and start-ups), and this module holds the ingredients for that.

Two kinds of numbers live here, and each says which it is:

- **Sourced physical constants** (IPCC 2006 default CO2 contents, stoichiometric ratios).
- **Calibration points**: route energy intensities and process parameters chosen so that
  route-level direct intensities land where the cited literature puts them. They are
  *modelling assumptions of this synthetic data set*, rounded, not factors to report with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from open_models.contract import ROUTES_BY_SECTOR

# --- Sourced physical constants -----------------------------------------------------------
# IPCC 2006 Guidelines, Vol 2 (Energy), Ch 1, Table 1.4: default CO2 emission factors for
# combustion, in t CO2 per TJ (net calorific basis; the table gives kg/TJ).
IPCC_COKING_COAL_T_PER_TJ: Final = 94.6
IPCC_OTHER_BITUMINOUS_COAL_T_PER_TJ: Final = 94.6
IPCC_SUB_BITUMINOUS_COAL_T_PER_TJ: Final = 96.1
IPCC_LIGNITE_T_PER_TJ: Final = 101.0
IPCC_COKE_OVEN_COKE_T_PER_TJ: Final = 107.0
IPCC_NATURAL_GAS_T_PER_TJ: Final = 56.1
IPCC_RESIDUAL_FUEL_OIL_T_PER_TJ: Final = 77.4
IPCC_PETROLEUM_COKE_T_PER_TJ: Final = 97.5
IPCC_WOOD_T_PER_TJ: Final = 112.0
# IPCC 2006 Vol 2, Ch 2 (Stationary Combustion): CO2 from biomass is reported as an
# information item, not in the total; the truth therefore counts biomass CO2 as zero.
BIOGENIC_CO2_COUNTED_T_PER_TJ: Final = 0.0

#: 44/12, mass of CO2 per mass of carbon (stoichiometry).
CO2_PER_C: Final = 44.0 / 12.0
#: 44.01/56.08, mass of CO2 released per mass of CaO formed from CaCO3 (stoichiometry);
#: IPCC 2006 Vol 3, Ch 2, section 2.2.1.2 uses 0.785 x CaO fraction for the clinker factor.
CO2_PER_CAO: Final = 0.785
#: IPCC 2006 Vol 3, Ch 2, section 2.2.1.2: default clinker CaO content 65 % (giving the
#: default 0.52 t CO2/t clinker) and default CKD correction factor 1.02.
IPCC_CLINKER_CAO_FRACTION: Final = 0.65
IPCC_CKD_CORRECTION: Final = 1.02

# --- Calibration points (modelling assumptions of this synthetic data set) ----------------
#: Coke + injected coal in a BF-BOF scale with the ore-based share of the metal charge; this is
#: the scrap share at which the route energy table below applies.
BF_BOF_REFERENCE_SCRAP_SHARE: Final = 0.17
DRI_EAF_REFERENCE_SCRAP_SHARE: Final = 0.20
#: Coal-based (rotary kiln) DRI, as common in India and South Africa, burns coal where a gas
#: shaft furnace burns gas: GJ coal per t of crude steel at the reference scrap share
#: (gives ~2.2 t CO2/t, within the 2.5-3 t range reported for Indian coal-DRI steel).
DRI_COAL_GJ_PER_T: Final = 21.0
#: Cement product: drying of slag and other additives, GJ per t of non-clinker constituent.
CEMENT_ADDITIVE_DRYING_GJ_PER_T: Final = 0.15
#: Electricity for grinding and handling per t of cement (GCCA "Getting the Numbers Right":
#: ~100-110 kWh/t cement).
CEMENT_GRINDING_MWH_PER_T: Final = 0.10


@dataclass(frozen=True)
class RouteSpec:
    """Energy and process parameters of one (sector, route), per tonne of product.

    For cement routes the fuel figures are per tonne of *clinker*; the generator scales them by
    the clinker ratio for the cement product. ``ore_*`` carriers scale with the ore-based share
    of the steel charge (``(1 - scrap_share) / (1 - reference)``).
    """

    sector: str
    route: str
    coke_gj: float = 0.0
    coal_gj: float = 0.0
    gas_gj: float = 0.0
    oil_gj: float = 0.0
    #: heat whose carrier follows the jurisdiction's fuel mix (kiln fuel, reheating).
    flexible_gj: float = 0.0
    electricity_mwh: float = 0.0
    #: non-combustion CO2 (flux, electrodes, charge carbon), t CO2/t; cement, aluminium
    #: and ammonia process terms are computed from their own parameters instead.
    process_t: float = 0.0
    ore_scaled: bool = False
    #: median facility capacity, t of product per year, and log-sd across facilities.
    capacity_median_t: float = 1.0e6
    capacity_sigma: float = 0.6
    #: typical scrap share range (iron_steel only).
    scrap_low: float = 0.0
    scrap_high: float = 0.0


#: Calibration sources (order-of-magnitude targets for the direct intensity, t CO2/t):
#: steel - IEA Iron and Steel Technology Roadmap (2020): BF-BOF ~1.8-2.2, gas DRI-EAF ~0.6-1.0,
#:   scrap EAF ~0.1-0.3 direct; cement - GCCA GNR: dry precalciner kiln ~3.5 GJ/t clinker,
#:   wet kiln ~5.5-6.5 GJ/t; aluminium - IPCC 2006 Vol 3 Ch 4 (Tier-1 1.6 prebake, 1.7
#:   Soderberg t CO2/t Al; net anode ~0.4, paste ~0.5 t/t Al), smelter electricity ~14-16 MWh/t
#:   (International Aluminium Institute); ammonia - IPCC 2006 Vol 3 Ch 3 Table 3.1 (natural gas
#:   30.2 GJ/t modern, 37.5 GJ/t average), IEA Ammonia Technology Roadmap (2021) coal ~4 t/t;
#:   hydrogen - IEA Global Hydrogen Review (2022): unabated SMR ~9, coal gasification ~20
#:   t CO2/t H2, electrolysis ~50-55 MWh/t H2.
ROUTE_SPECS: Final[tuple[RouteSpec, ...]] = (
    RouteSpec(
        "iron_steel",
        "bf_bof",
        coke_gj=11.0,
        coal_gj=3.8,
        gas_gj=1.2,
        oil_gj=0.2,
        flexible_gj=1.0,
        electricity_mwh=0.30,
        process_t=0.09,
        ore_scaled=True,
        capacity_median_t=3.0e6,
        scrap_low=0.08,
        scrap_high=0.26,
    ),
    RouteSpec(
        "iron_steel",
        "dri_eaf",
        coal_gj=0.3,
        gas_gj=10.0,
        flexible_gj=0.4,
        electricity_mwh=0.65,
        process_t=0.02,
        ore_scaled=True,
        capacity_median_t=1.2e6,
        scrap_low=0.10,
        scrap_high=0.40,
    ),
    RouteSpec(
        "iron_steel",
        "scrap_eaf",
        coal_gj=0.3,
        gas_gj=0.9,
        oil_gj=0.05,
        flexible_gj=0.3,
        electricity_mwh=0.45,
        process_t=0.01,
        capacity_median_t=8.0e5,
        scrap_low=0.75,
        scrap_high=1.0,
    ),
    RouteSpec("cement", "dry_kiln", flexible_gj=3.5, electricity_mwh=0.06, capacity_median_t=1.2e6),
    RouteSpec("cement", "wet_kiln", flexible_gj=5.9, electricity_mwh=0.07, capacity_median_t=6.0e5),
    RouteSpec(
        "aluminium",
        "prebake",
        gas_gj=2.0,
        oil_gj=0.3,
        electricity_mwh=14.2,
        capacity_median_t=3.0e5,
    ),
    RouteSpec(
        "aluminium",
        "soderberg",
        gas_gj=0.8,
        oil_gj=0.4,
        electricity_mwh=15.5,
        capacity_median_t=1.5e5,
    ),
    RouteSpec("fertilisers", "smr_gas", gas_gj=33.0, electricity_mwh=0.10, capacity_median_t=6.0e5),
    RouteSpec(
        "fertilisers",
        "coal_gasification",
        coal_gj=42.0,
        electricity_mwh=1.0,
        capacity_median_t=4.0e5,
    ),
    RouteSpec("hydrogen", "smr_gas", gas_gj=165.0, electricity_mwh=0.5, capacity_median_t=4.0e4),
    RouteSpec(
        "hydrogen", "coal_gasification", coal_gj=205.0, electricity_mwh=2.5, capacity_median_t=1.0e5
    ),
    RouteSpec(
        "hydrogen",
        "electrolysis",
        oil_gj=0.05,
        electricity_mwh=53.0,
        capacity_median_t=2.0e3,
        capacity_sigma=0.9,
    ),
)

#: (sector, route) pairs in ROUTE_SPECS order: the generator's integer "kind" codes.
KINDS: Final = tuple((s.sector, s.route) for s in ROUTE_SPECS)
KIND_INDEX: Final = {k: i for i, k in enumerate(KINDS)}

# Aluminium (IPCC 2006 Vol 3 Ch 4, section 4.4.2, Tier 2/3 anode equations): net anode
# consumption (prebake default ~0.4 t/t Al) or paste consumption (Soderberg ~0.5 t/t Al),
# with carbon content ~ 100 % - 2 % sulphur - 0.4 % ash for prebake anodes.
PREBAKE_ANODE_T_PER_T: Final = 0.42
SODERBERG_PASTE_T_PER_T: Final = 0.52
ANODE_CARBON_FRACTION: Final = 0.976
#: PFC (CF4, C2F6) from anode effects, median t CO2e/t Al: order of magnitude of the
#: International Aluminium Institute anode-effect surveys (modern prebake well below 1, old
#: Soderberg lines near or above 1). Modelling assumption; spread is log-normal.
PREBAKE_PFC_MEDIAN_T_PER_T: Final = 0.3
SODERBERG_PFC_MEDIAN_T_PER_T: Final = 0.9
PFC_LOG_SIGMA: Final = 0.6

#: Ammonia plants with an attached urea unit recover part of the process CO2 (IPCC 2006 Vol 3
#: Ch 3, Eq 3.1 subtracts it). Share of plants with urea and recovered fraction range are
#: modelling assumptions.
UREA_PLANT_SHARE: Final = 0.5
UREA_RECOVERY_RANGE: Final = (0.10, 0.30)

#: Bounds on the combined energy multiplier (jurisdiction x facility x trend x record noise),
#: keeping every facility physically plausible and every intensity well inside 0-30 t/t.
ENERGY_MULTIPLIER_BOUNDS: Final = (0.80, 1.25)
#: Safety ceiling on any true direct intensity, t CO2e/t (coal hydrogen peaks near 27).
MAX_TRUE_INTENSITY: Final = 28.0


def _column(name: str) -> np.ndarray:
    return np.array([float(getattr(s, name)) for s in ROUTE_SPECS])


#: Per-kind arrays for vectorised lookup: ``SPEC_ARRAYS["coke_gj"][kind_codes]``.
SPEC_ARRAYS: Final[dict[str, np.ndarray]] = {
    name: _column(name)
    for name in (
        "coke_gj",
        "coal_gj",
        "gas_gj",
        "oil_gj",
        "flexible_gj",
        "electricity_mwh",
        "process_t",
        "ore_scaled",
        "capacity_median_t",
        "capacity_sigma",
        "scrap_low",
        "scrap_high",
    )
}


def _check_covers_contract() -> None:
    expected = {(s, r) for s, routes in ROUTES_BY_SECTOR.items() for r in routes}
    if set(KINDS) != expected or len(KINDS) != len(expected):
        raise RuntimeError(f"ROUTE_SPECS must cover the contract routes exactly: {expected}")


_check_covers_contract()
