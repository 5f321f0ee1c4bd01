"""The facility-record data contract (shared/DATA_CONTRACT.md) as data.

It lives in ``open_models`` because the node (ingest, Tier-1), the open models (feature
encoding) and the coordinator (cells of published benchmarks) all need the same
vocabulary, and ``open_models`` is a library both sides may import.
"""

from __future__ import annotations

from typing import Final

SECTORS: Final = ("iron_steel", "cement", "aluminium", "fertilisers", "hydrogen")

PRODUCTS_BY_SECTOR: Final[dict[str, tuple[str, ...]]] = {
    "iron_steel": ("crude_steel",),
    "cement": ("clinker", "cement"),
    "aluminium": ("primary_aluminium",),
    "fertilisers": ("ammonia",),
    "hydrogen": ("hydrogen",),
}

ROUTES_BY_SECTOR: Final[dict[str, tuple[str, ...]]] = {
    "iron_steel": ("bf_bof", "dri_eaf", "scrap_eaf"),
    "cement": ("dry_kiln", "wet_kiln"),
    "aluminium": ("prebake", "soderberg"),
    "fertilisers": ("smr_gas", "coal_gasification"),
    "hydrogen": ("smr_gas", "coal_gasification", "electrolysis"),
}

PRODUCTS: Final = tuple(p for ps in PRODUCTS_BY_SECTOR.values() for p in ps)
ROUTES: Final = tuple(dict.fromkeys(r for rs in ROUTES_BY_SECTOR.values() for r in rs))

VERIFICATION_LEVELS: Final = ("none", "self_declared", "third_party", "measured")
#: The fuel or reductant supplying most process heat or reduction (DATA_CONTRACT.md
#: ``main_fuel``): known to most producers that cannot state a fuel breakdown.
MAIN_FUELS: Final = (
    "coal",
    "coke",
    "natural_gas",
    "oil",
    "biomass",
    "hydrogen",
    "electricity",
    "mixed",
)

#: Energy columns: required in the sense of "defaults to 0 when the column is absent",
#: but an empty cell in a present column still means "not known" (kept as NaN).
FUEL_COLUMNS: Final = ("coal_tj", "coke_tj", "natural_gas_tj", "oil_tj", "biomass_tj")
ENERGY_COLUMNS: Final = (*FUEL_COLUMNS, "electricity_mwh")

REQUIRED_COLUMNS: Final = (
    "record_id",
    "facility_id",
    "jurisdiction",
    "year",
    "sector",
    "product",
    "route",
    "production_t",
)

OPTIONAL_COLUMNS: Final = (
    *ENERGY_COLUMNS,
    "clinker_ratio",
    "scrap_share",
    "anode_t",
    "main_fuel",
    "reported_direct_tco2e",
    "verified_direct_tco2e",
    "verification",
)

ALL_COLUMNS: Final = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)

FLOAT_COLUMNS: Final = (
    "production_t",
    *ENERGY_COLUMNS,
    "clinker_ratio",
    "scrap_share",
    "anode_t",
    "reported_direct_tco2e",
    "verified_direct_tco2e",
)

ID_PATTERN: Final = r"^[A-Za-z0-9\-_.:]{1,128}$"
JURISDICTION_PATTERN: Final = r"^[A-Z]{2}$"
YEAR_RANGE: Final = (1990, 2100)
CLINKER_RATIO_RANGE: Final = (0.3, 1.0)
#: verified_direct_tco2e / production_t outside this range is an implausible unit error.
PLAUSIBLE_INTENSITY_RANGE: Final = (0.0, 30.0)

#: A benchmark cell: the unit the trust publishes statistics for.
CELL_KEYS: Final = ("sector", "product", "route", "year")
