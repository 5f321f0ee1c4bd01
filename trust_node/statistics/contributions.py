"""A node's noiseless per-cell contribution vector, in the published layout.

What "direct emissions" means for a record: the best figure the node knows — the
verified (third-party or measured) figure when present, else the IPCC Tier-1 direct
figure when it is complete (all fossil fuels known, ``tier1_direct_complete``). A record
with neither is left out of its cell entirely (production too), so that
sum(emissions) / sum(production) stays a consistent intensity. Energy is the sum of the
fuel columns plus electricity (``TJ_PER_MWH``), counted only for records whose energy
columns are all known, with their production kept apart as the energy denominator.

Several records of one facility in one cell (e.g. two tenants) are summed first and
clipped as a whole (see ``open_models.benchmark_cells``). Under the facility privacy unit
(``one_cell_per_year``) a facility also keeps only one cell per year (its largest
production), so over a round it moves at most ``len(years)`` disjoint cells and its L2
sensitivity is ``SENSITIVITY * sqrt(len(years))``, what the ledger is charged for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from open_models.benchmark_cells import (
    FIELDS,
    HISTOGRAM_BINS,
    SECTOR_BOUNDS,
    TJ_PER_MWH,
    CellCatalogue,
)
from open_models.contract import CELL_KEYS, ENERGY_COLUMNS, FUEL_COLUMNS
from open_models.ipcc.tier1 import compute_tier1


def best_direct_emissions(records: pd.DataFrame) -> pd.Series:
    """Verified direct emissions where present, else complete Tier-1 direct, else NaN."""
    if records.empty:
        return pd.Series([], dtype=float, index=records.index)
    tier1 = compute_tier1(records)
    t1 = tier1["tier1_direct_tco2e"].where(tier1["tier1_direct_complete"].astype(bool))
    verified = (
        records["verified_direct_tco2e"].astype(float)
        if "verified_direct_tco2e" in records.columns
        else pd.Series(np.nan, index=records.index)
    )
    return verified.where(verified.notna(), t1).astype(float)


def _energy(records: pd.DataFrame) -> pd.Series:
    """Total energy in TJ; NaN when any energy column is unknown (absent columns are 0)."""
    parts = []
    for name in ENERGY_COLUMNS:
        col = (
            records[name].astype(float)
            if name in records.columns
            else pd.Series(0.0, index=records.index)
        )
        parts.append(col * (TJ_PER_MWH if name == "electricity_mwh" else 1.0))
    frame = pd.concat(parts, axis=1)
    total = frame.sum(axis=1, min_count=len(ENERGY_COLUMNS))
    assert len(FUEL_COLUMNS) + 1 == len(ENERGY_COLUMNS)
    return total.where(frame.notna().all(axis=1))


def facility_cells(
    records: pd.DataFrame, catalogue: CellCatalogue, *, one_cell_per_year: bool = False
) -> pd.DataFrame:
    """One row per (cell, facility) in the catalogue: summed raw figures, before clipping."""
    if records.empty:
        return pd.DataFrame(
            columns=[
                *CELL_KEYS,
                "facility_id",
                "production_t",
                "direct_tco2e",
                "energy_tj",
                "energy_production_t",
            ]
        )
    frame = records[[*CELL_KEYS, "facility_id"]].copy()
    frame["year"] = frame["year"].astype(int)
    frame["production_t"] = records["production_t"].astype(float)
    frame["direct_tco2e"] = best_direct_emissions(records)
    energy = _energy(records)
    frame["energy_tj"] = energy
    frame["energy_production_t"] = frame["production_t"].where(energy.notna())
    frame = frame[frame["direct_tco2e"].notna()]
    frame = frame[frame["year"].isin(catalogue.years)]
    grouped = frame.groupby([*CELL_KEYS, "facility_id"], sort=True)
    out = grouped[["production_t", "direct_tco2e"]].sum()
    out["energy_tj"] = grouped["energy_tj"].sum(min_count=1)
    out["energy_production_t"] = grouped["energy_production_t"].sum(min_count=1)
    out = out.reset_index()
    if one_cell_per_year:
        out = (
            out.sort_values(["production_t", *CELL_KEYS], ascending=False, kind="stable")
            .drop_duplicates(["facility_id", "year"], keep="first")
            .sort_values([*CELL_KEYS, "facility_id"], kind="stable")
            .reset_index(drop=True)
        )
    return out


def contribution_vector(
    records: pd.DataFrame, catalogue: CellCatalogue, *, one_cell_per_year: bool = False
) -> np.ndarray:
    """The node's noiseless vector in normalised units (each facility's share <= 1 per field)."""
    width = len(FIELDS)
    vector = np.zeros(catalogue.vector_length)
    index = catalogue.cell_index()
    col = {name: i for i, name in enumerate(FIELDS)}
    cells = facility_cells(records, catalogue, one_cell_per_year=one_cell_per_year)
    for row in cells.itertuples(index=False):
        cell = (row.sector, row.product, row.route, int(row.year))
        if cell not in index:
            continue
        bounds = SECTOR_BOUNDS[row.sector]
        production, direct = float(row.production_t), max(float(row.direct_tco2e), 0.0)
        energy = float(row.energy_tj) if pd.notna(row.energy_tj) else 0.0
        energy_prod = float(row.energy_production_t) if pd.notna(row.energy_production_t) else 0.0
        scale = min(
            1.0,
            bounds.production_t / production,
            bounds.emissions_t / direct if direct > 0 else 1.0,
            bounds.energy_tj / energy if energy > 0 else 1.0,
        )
        base = index[cell] * width
        vector[base + col["production_t"]] += production * scale / bounds.production_t
        vector[base + col["direct_tco2e"]] += direct * scale / bounds.emissions_t
        vector[base + col["energy_tj"]] += energy * scale / bounds.energy_tj
        vector[base + col["energy_production_t"]] += energy_prod * scale / bounds.production_t
        vector[base + col["facilities"]] += 1.0
        intensity = direct / production
        edges = bounds.bin_edges()
        b = min(int(np.searchsorted(edges, intensity, side="right")) - 1, HISTOGRAM_BINS - 1)
        vector[base + col[f"hist_{max(b, 0)}"]] += 1.0
    for i in range(len(catalogue.cells)):
        if vector[i * width + col["facilities"]] > 0:
            vector[i * width + col["nodes"]] = 1.0
    return vector
