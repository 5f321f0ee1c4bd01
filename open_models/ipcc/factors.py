"""Every IPCC default factor the Tier-1 baseline uses, each with its source beside it.

One module so an auditor can list them (``all_factors()``, later ``gcdt-node tier1 --factors``)
and compare each against the cited table. The edition is part of every source string because
the 2006 Guidelines and the 2019 Refinement disagree on some constants (steel BOF and EAF): the
baseline uses the 2006 value and keeps the 2019 one beside it for comparison only.

Fuel columns of the data contract are generic ("coal", "oil"), so each is mapped to one IPCC
fuel type; the mapping is part of the factor's name and documented in docs/tier1-method.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Molecular-weight ratio CO2/C used by every carbon-content equation in the Guidelines.
CO2_PER_C: Final = 44.0 / 12.0


@dataclass(frozen=True)
class Factor:
    """A default value with its unit and the exact place it comes from."""

    name: str
    value: float
    unit: str
    source: str


_V2_T24 = "IPCC 2006 Guidelines, Vol 2 (Energy), Ch 2, Table 2.3 (= Ch 1, Table 1.4 default CO2 EF)"
_V2_T13 = "IPCC 2006 Guidelines, Vol 2 (Energy), Ch 1, Table 1.3 (default carbon content)"

# --- Volume 2: stationary combustion, CO2 per TJ (kg/TJ in the tables; t/TJ here) -----------
#: coal_tj -> "Other bituminous coal" (coking coal has the same 94 600 kg/TJ).
EF_COAL: Final = Factor("ef_co2_coal_other_bituminous", 94.6, "t CO2/TJ", _V2_T24)
#: coke_tj -> "Coke oven coke and lignite coke".
EF_COKE: Final = Factor("ef_co2_coke_oven_coke", 107.0, "t CO2/TJ", _V2_T24)
#: natural_gas_tj -> "Natural gas".
EF_NATURAL_GAS: Final = Factor("ef_co2_natural_gas", 56.1, "t CO2/TJ", _V2_T24)
#: oil_tj -> "Residual fuel oil" (heavy fuel oil, the usual industrial furnace/kiln oil).
EF_OIL: Final = Factor("ef_co2_residual_fuel_oil", 77.4, "t CO2/TJ", _V2_T24)
#: biomass_tj -> "Wood/wood waste". Memo item only: biogenic CO2 is not counted in direct CO2
#: (Vol 2 Ch 1 s. 1.4.1.2 / Ch 2 s. 2.3.3.4: reported as information item, the AFOLU sector
#: accounts for the carbon stock change).
EF_BIOMASS_MEMO: Final = Factor("ef_co2_wood_memo", 112.0, "t CO2/TJ", _V2_T24 + "; memo item")

#: Natural-gas carbon content, the CCF of Vol 3 Eq 3.1 (ammonia) and of our hydrogen balance.
CC_NATURAL_GAS: Final = Factor("carbon_content_natural_gas", 15.3, "t C/TJ", _V2_T13)
#: Carbon oxidation factor: Tier 1 assumes all carbon oxidised (COF = 1).
COF_DEFAULT: Final = Factor(
    "carbon_oxidation_factor",
    1.0,
    "fraction",
    "IPCC 2006 Guidelines, Vol 2, Ch 1, s. 1.4.2.1 and Vol 3, Ch 3, Eq 3.1 (COF default 1)",
)

# --- Volume 3 Ch 2: cement ------------------------------------------------------------------
#: 0.65 CaO x 44.01/56.08 = 0.5101, rounded in the text to 0.51.
EF_CLINKER: Final = Factor(
    "ef_co2_clinker",
    0.51,
    "t CO2/t clinker",
    "IPCC 2006 Guidelines, Vol 3, Ch 2, s. 2.2.1.2, Eq 2.4 (CaO 65 %, default EFcl)",
)
CF_CKD: Final = Factor(
    "ckd_correction_factor",
    1.02,
    "factor",
    "IPCC 2006 Guidelines, Vol 3, Ch 2, s. 2.2.1.2, Eq 2.2/2.5 (default CKD correction, +2 %)",
)

# --- Volume 3 Ch 4: iron and steel (Table 4.1, Tier 1, t CO2 per t product) ------------------
EF_BOF_2006: Final = Factor(
    "ef_co2_steel_bof_2006",
    1.46,
    "t CO2/t crude steel",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.1 (BOF, Eq 4.4; covers BF ironmaking reductant)",
)
EF_EAF_2006: Final = Factor(
    "ef_co2_steel_eaf_2006",
    0.08,
    "t CO2/t crude steel",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.1 (EAF, Eq 4.4; electrodes and charge carbon)",
)
EF_DRI_2006: Final = Factor(
    "ef_co2_dri_2006",
    0.70,
    "t CO2/t DRI",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.1 (direct reduced iron, Eq 4.6)",
)
#: 2019 Refinement values: kept for comparison, NOT used by compute_tier1. Cross-checked against
#: bonsai-ipcc 0.5.3 data (par_ef_co2_steel.csv, par_ef_co2_dri.csv), which cite the Refinement.
EF_BOF_2019: Final = Factor(
    "ef_co2_steel_bof_2019",
    1.58,
    "t CO2/t crude steel",
    "2019 Refinement to the 2006 IPCC Guidelines, Vol 3, Ch 4, Table 4.1b (BOF) [comparison only]",
)
EF_EAF_2019: Final = Factor(
    "ef_co2_steel_eaf_2019",
    0.18,
    "t CO2/t crude steel",
    "2019 Refinement to the 2006 IPCC Guidelines, Vol 3, Ch 4, Table 4.1b (EAF) [comparison only]",
)
EF_DRI_2019: Final = Factor(
    "ef_co2_dri_2019",
    0.70,
    "t CO2/t DRI",
    "2019 Refinement to the 2006 IPCC Guidelines, Vol 3, Ch 4, Table 4.1b (DRI) [comparison only]",
)

# --- Volume 3 Ch 4: aluminium -----------------------------------------------------------------
EF_ALU_PREBAKE: Final = Factor(
    "ef_co2_aluminium_prebake",
    1.6,
    "t CO2/t Al",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.10 (Tier 1, Eq 4.20)",
)
EF_ALU_SODERBERG: Final = Factor(
    "ef_co2_aluminium_soderberg",
    1.7,
    "t CO2/t Al",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.10 (Tier 1, Eq 4.20)",
)
ANODE_SULPHUR: Final = Factor(
    "sulphur_content_baked_anode",
    2.0,
    "% by weight",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.11 (default for Eq 4.21)",
)
ANODE_ASH: Final = Factor(
    "ash_content_baked_anode",
    0.4,
    "% by weight",
    "IPCC 2006 Guidelines, Vol 3, Ch 4, Table 4.11 (default for Eq 4.21)",
)

# --- Volume 3 Ch 3: ammonia -------------------------------------------------------------------
#: Total fuel requirement (fuel + feedstock), "estimated average value plant mix", conventional
#: reforming on natural gas; used only when the record's fuels are unknown.
FR_AMMONIA_NG: Final = Factor(
    "total_fuel_requirement_ammonia_natural_gas",
    37.5,
    "GJ/t NH3",
    "IPCC 2006 Guidelines, Vol 3, Ch 3, Table 3.1 (average plant mix, conventional reforming)",
)

#: Indirect-emission fallback when a jurisdiction is missing from codecarbon's energy-mix file.
#: Value read from codecarbon's own carbon_intensity_per_source.json ("world_average", g/kWh).
GRID_WORLD_AVERAGE: Final = Factor(
    "grid_world_average",
    0.475,
    "t CO2e/MWh",
    "codecarbon 3.3.2 data/private_infra/carbon_intensity_per_source.json 'world_average' "
    "(475 g/kWh, citing IEA Global Energy & CO2 Status Report 2019)",
)

#: Fuel column -> factor, in contract order.
FUEL_FACTORS: Final[dict[str, Factor]] = {
    "coal_tj": EF_COAL,
    "coke_tj": EF_COKE,
    "natural_gas_tj": EF_NATURAL_GAS,
    "oil_tj": EF_OIL,
}


def all_factors() -> list[Factor]:
    """Every factor defined in this module, in definition order."""
    return [v for v in globals().values() if isinstance(v, Factor)]
