"""Grid emission factors for indirect emissions, read from codecarbon's bundled data.

codecarbon ships per-country electricity carbon intensity (g CO2e/kWh, with the data year per
country) inside the installed package, so the factor is read offline from a maintained open
source rather than typed here. The file is keyed by ISO alpha-3; the contract uses alpha-2, so
pycountry maps between them. Loaded once per process (the 1M-row Tier-1 run maps jurisdictions
through a small dict, never re-reading the file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources

import pycountry

from open_models.ipcc.errors import GridFactorError
from open_models.ipcc.factors import GRID_WORLD_AVERAGE

_DATA_FILE = "data/private_infra/global_energy_mix.json"
#: Codes in common use but user-assigned in ISO 3166-1 (so absent from pycountry).
_USER_ASSIGNED = {"XK": "XKX"}  # Kosovo


@dataclass(frozen=True)
class GridFactor:
    """tCO2e per MWh of grid electricity for one jurisdiction, and where it came from."""

    value_tco2e_per_mwh: float
    year: int | None
    source: str
    is_fallback: bool = False


@lru_cache(maxsize=1)
def _codecarbon_table() -> dict[str, tuple[float, int]]:
    try:
        path = resources.files("codecarbon").joinpath(_DATA_FILE)
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # pragma: no cover - install problem
        raise GridFactorError(f"codecarbon's {_DATA_FILE} is not installed: {exc}") from exc
    table: dict[str, tuple[float, int]] = {}
    for alpha3, row in raw.items():
        intensity = row.get("carbon_intensity")
        # Zero is kept (CAF: all-hydro grid); only a missing value means "no data".
        if isinstance(intensity, (int, float)) and intensity >= 0:
            table[alpha3] = (float(intensity) / 1000.0, int(row["year"]))
    return table


@lru_cache(maxsize=1)
def _source_prefix() -> str:
    return f"codecarbon {metadata.version('codecarbon')} {_DATA_FILE}"


@lru_cache(maxsize=512)
def grid_factor(jurisdiction_alpha2: str) -> GridFactor:
    """Grid factor for an ISO alpha-2 code; world average (flagged) if codecarbon lacks it."""
    if not isinstance(jurisdiction_alpha2, str) or len(jurisdiction_alpha2) != 2:
        raise GridFactorError(
            f"jurisdiction must be an ISO alpha-2 code, got {jurisdiction_alpha2!r}"
        )
    code = jurisdiction_alpha2.upper()
    country = pycountry.countries.get(alpha_2=code)
    if country is None and code not in _USER_ASSIGNED:
        raise GridFactorError(f"unknown ISO 3166-1 alpha-2 jurisdiction {jurisdiction_alpha2!r}")
    alpha3 = _USER_ASSIGNED[code] if country is None else country.alpha_3
    hit = _codecarbon_table().get(alpha3)
    if hit is None:
        return GridFactor(
            GRID_WORLD_AVERAGE.value,
            None,
            f"FALLBACK: {alpha3} not in {_source_prefix()}; {GRID_WORLD_AVERAGE.source}",
            is_fallback=True,
        )
    value, year = hit
    return GridFactor(
        value, year, f"{_source_prefix()} [{alpha3}, data year {year}]", is_fallback=False
    )
