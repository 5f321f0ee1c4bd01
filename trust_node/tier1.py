"""Tier-1 service: the IPCC baseline for what the node holds.

The calculation itself is open (``open_models.ipcc``), so anyone can recompute a
published figure; this module only feeds it the node's latest records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trust_node.errors import NodeError
from trust_node.store import RecordRepository

RECORD_COLUMNS = (
    "record_id",
    "jurisdiction",
    "year",
    "sector",
    "product",
    "route",
    "production_t",
    "tier1_method",
    "tier1_direct_tco2e",
    "indirect_tco2e",
    "embedded_tco2e",
    "specific_embedded_tco2e_per_t",
    "cbam_default_direct_tco2e_per_t",
)


@dataclass(frozen=True)
class Tier1Report:
    records: pd.DataFrame
    cells: pd.DataFrame


def tier1_report(repository: RecordRepository, tenant_id: str | None = None) -> Tier1Report:
    """Tier-1 figures for the latest version of every record, and per-cell totals."""
    from open_models.ipcc.tier1 import compute_tier1, summarise_cells

    records = repository.latest(tenant_id)
    if records.empty:
        raise NodeError("the store holds no records yet: run 'gcdt-node ingest FILE' first")
    result = compute_tier1(records)
    cells = summarise_cells(result, records)
    merged = records[
        ["record_id", "jurisdiction", "year", "sector", "product", "route", "production_t"]
    ].join(result.drop(columns=["record_id"]))
    return Tier1Report(records=merged[[c for c in RECORD_COLUMNS if c in merged]], cells=cells)


def factor_table() -> pd.DataFrame:
    """Every factor of ``open_models.ipcc.factors`` with its source, as one table to show."""
    from open_models.ipcc.factors import all_factors

    return pd.DataFrame([f if isinstance(f, dict) else vars(f) for f in all_factors()])
