"""The published layout of encrypted sector statistics: cells, fields, bounds, bin edges.

Every party needs the same layout — the node packs its vector with it, the coordinator
checks lengths and turns decrypted sums into benchmarks with it, an auditor recomputes a
published benchmark from attested sums with it — so it lives in ``open_models``, which
both sides import.

**Cells are public.** The catalogue for a round is every contract cell (sector x product x
route, from ``open_models.contract``) for each requested year, in a fixed order. Every node
submits a value for every cell (zeros where it has nothing), so the coordinator learns
nothing from which cells a node fills.

**Fields per cell** (``FIELDS``), each in *normalised units*: a facility's contribution to
each bounded field is at most 1, so one facility changes the vector by at most 1 in each
of ``BOUNDED_FIELDS_PER_FACILITY`` coordinates and the L2 sensitivity of the whole vector
is ``SENSITIVITY = sqrt(7)`` (add/remove one facility-cell; a facility lies in one cell).
The publisher multiplies back by the cell's bounds. Normalising makes one Gaussian noise
scale fit fields of very different units (tonnes vs. counts).

**Clipping keeps the intensity.** A facility larger than a bound is scaled down as a whole
(production, emissions and energy by the same factor ``min(1, P/Pmax, E/Emax, En/Enmax)``),
so it counts with bounded weight but its intensity is unchanged. The bounds are published
design choices (not measured factors): production bounds sit near the size of the largest
single plants of each sector, intensity top edges above the highest IPCC Tier-1 route
default of the sector (``open_models.ipcc.factors``), energy bounds above the sector's
most energy-intensive route. A value beyond the last histogram edge falls in the last bin.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from open_models.contract import (
    CELL_KEYS,
    PRODUCTS_BY_SECTOR,
    ROUTES_BY_SECTOR,
    SECTORS,
    YEAR_RANGE,
)
from open_models.errors import OpenModelsError

#: Joules: 1 MWh = 3.6 GJ = 0.0036 TJ (SI definition of the watt-hour).
TJ_PER_MWH: Final = 0.0036
HISTOGRAM_BINS: Final = 10


@dataclass(frozen=True)
class SectorBounds:
    """Per-facility bounds of one sector (see module docstring for the rationale)."""

    production_t: float  # t product per facility-year
    intensity_top: float  # t CO2e / t product: last histogram edge, and the emissions bound
    energy_tj_per_t: float  # TJ / t product: energy bound per tonne

    @property
    def emissions_t(self) -> float:
        return self.production_t * self.intensity_top

    @property
    def energy_tj(self) -> float:
        return self.production_t * self.energy_tj_per_t

    def bin_edges(self) -> tuple[float, ...]:
        """``HISTOGRAM_BINS + 1`` equal-width edges from 0 to ``intensity_top``."""
        step = self.intensity_top / HISTOGRAM_BINS
        return tuple(round(i * step, 10) for i in range(HISTOGRAM_BINS + 1))


#: The published bounds and histogram ranges, one entry per sector.
#: Intensity tops: above the highest Tier-1 route default in the sector (BF-BOF steel
#: ~1.5-2.5, clinker ~0.52 + fuel, prebake/Soderberg aluminium 1.6-1.7 + fuel, coal-based
#: ammonia ~4, coal-gasification hydrogen ~20 t CO2 / t H2).
SECTOR_BOUNDS: Final[dict[str, SectorBounds]] = {
    "iron_steel": SectorBounds(production_t=10e6, intensity_top=3.0, energy_tj_per_t=0.04),
    "cement": SectorBounds(production_t=5e6, intensity_top=1.5, energy_tj_per_t=0.01),
    "aluminium": SectorBounds(production_t=1e6, intensity_top=3.0, energy_tj_per_t=0.08),
    "fertilisers": SectorBounds(production_t=2e6, intensity_top=5.0, energy_tj_per_t=0.06),
    "hydrogen": SectorBounds(production_t=0.2e6, intensity_top=25.0, energy_tj_per_t=0.3),
}

#: Per-cell fields in vector order. ``energy_production_t`` is the production of the
#: facilities whose energy is fully known, the denominator of the energy intensity.
#: ``nodes`` is each node's 0/1 "I have a facility here", summed: contributing nodes.
SCALAR_FIELDS: Final = (
    "production_t",
    "direct_tco2e",
    "energy_tj",
    "energy_production_t",
    "facilities",
    "nodes",
)
HISTOGRAM_FIELDS: Final = tuple(f"hist_{i}" for i in range(HISTOGRAM_BINS))
FIELDS: Final = (*SCALAR_FIELDS, *HISTOGRAM_FIELDS)
#: production, direct, energy, energy_production, facilities, nodes, one histogram bin.
BOUNDED_FIELDS_PER_FACILITY: Final = 7
SENSITIVITY: Final = math.sqrt(BOUNDED_FIELDS_PER_FACILITY)


class CatalogueError(OpenModelsError, ValueError):
    """A catalogue request names years or cells outside the contract."""


Cell = tuple[str, str, str, int]


def contract_cells() -> tuple[tuple[str, str, str], ...]:
    """Every (sector, product, route) the data contract allows, in contract order.

    The order fixes each cell's position in the encrypted vector: nodes and the
    coordinator derive the same layout from the contract (``catalogue_id`` checks it).
    """
    return tuple(
        (sector, product, route)
        for sector in SECTORS
        for product in PRODUCTS_BY_SECTOR[sector]
        for route in ROUTES_BY_SECTOR[sector]
    )


def field_scale(sector: str, name: str) -> float:
    """Multiplier from normalised units back to the field's own unit."""
    bounds = SECTOR_BOUNDS[sector]
    if name in ("production_t", "energy_production_t"):
        return bounds.production_t
    if name == "direct_tco2e":
        return bounds.emissions_t
    if name == "energy_tj":
        return bounds.energy_tj
    if name in FIELDS:
        return 1.0
    raise CatalogueError(f"unknown field {name!r}; expected one of {FIELDS}")


@dataclass(frozen=True)
class CellCatalogue:
    """The public list of cells of one statistics round and the vector layout over it."""

    years: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.years:
            raise CatalogueError("a catalogue needs at least one year")
        low, high = YEAR_RANGE
        bad = [y for y in self.years if type(y) is not int or not low <= y <= high]
        if bad:
            raise CatalogueError(f"years {bad} are outside {low}-{high}")
        if list(self.years) != sorted(set(self.years)):
            raise CatalogueError(f"years must be strictly increasing, got {list(self.years)}")

    @classmethod
    def for_years(cls, years: Iterable[int]) -> CellCatalogue:
        return cls(tuple(sorted({int(y) for y in years})))

    @property
    def cells(self) -> tuple[Cell, ...]:
        return tuple((s, p, r, y) for y in self.years for (s, p, r) in contract_cells())

    @property
    def width(self) -> int:
        return len(FIELDS)

    @property
    def vector_length(self) -> int:
        return len(self.cells) * self.width

    def cell_index(self) -> dict[Cell, int]:
        return {cell: i for i, cell in enumerate(self.cells)}

    def offset(self, cell: Cell, name: str) -> int:
        return self.cell_index()[cell] * self.width + FIELDS.index(name)

    def catalogue_id(self) -> str:
        """Digest naming the exact layout (cells, fields, bounds): both sides must agree."""
        body = {
            "cell_keys": list(CELL_KEYS),
            "cells": [list(c) for c in self.cells],
            "fields": list(FIELDS),
            "bounds": {
                s: [b.production_t, b.intensity_top, b.energy_tj_per_t]
                for s, b in SECTOR_BOUNDS.items()
            },
            "bins": HISTOGRAM_BINS,
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def unpack(self, values: Sequence[float] | np.ndarray) -> dict[Cell, dict[str, float]]:
        """Per cell, every field in its own unit (normalised values times the bounds)."""
        if len(values) != self.vector_length:
            raise CatalogueError(
                f"vector has {len(values)} values, the catalogue needs {self.vector_length}"
            )
        out: dict[Cell, dict[str, float]] = {}
        for i, cell in enumerate(self.cells):
            row = values[i * self.width : (i + 1) * self.width]
            out[cell] = {
                name: float(v) * field_scale(cell[0], name)
                for name, v in zip(FIELDS, row, strict=True)
            }
        return out


__all__ = [
    "BOUNDED_FIELDS_PER_FACILITY",
    "FIELDS",
    "HISTOGRAM_BINS",
    "HISTOGRAM_FIELDS",
    "SCALAR_FIELDS",
    "SECTOR_BOUNDS",
    "SENSITIVITY",
    "TJ_PER_MWH",
    "CatalogueError",
    "Cell",
    "CellCatalogue",
    "SectorBounds",
    "contract_cells",
    "field_scale",
]
