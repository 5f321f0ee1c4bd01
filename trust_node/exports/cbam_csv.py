"""Per-installation CSV laid out like the EU CBAM communication template's summary.

The European Commission's "CBAM communication template for installations" (Excel,
published under Implementing Regulation (EU) 2023/1773, with the guidance for installation
operators) ends with a summary of the specific embedded emissions (SEE) of each good
produced, to be communicated to the reporting declarant. This CSV carries those columns
per installation, good and reporting period, one row per record:

| column | template meaning |
|---|---|
| installation_id | installation identification (the record's ``facility_id``) |
| country | country of the installation (ISO 3166-1 alpha-2) |
| reporting_period | reporting period (calendar year) |
| aggregated_goods_category | aggregated goods category (Annex II of IR 2023/1773) |
| cn_code | CN code of the good |
| production_route | production route (data contract ``route``) |
| production_level_t | total production level of the good (t) |
| see_direct_tco2e_per_t | specific direct embedded emissions (tCO2e/t) |
| see_indirect_tco2e_per_t | specific indirect embedded emissions (tCO2e/t) |
| see_total_tco2e_per_t | specific embedded emissions, total (tCO2e/t) |
| determination_basis | how the direct figure was determined (verified, corrected, model, tier1) |
| default_value_tco2e_per_t | the CBAM default value for the good and country (IR 2025/2621) |
| difference_tco2e_per_t | see_total minus the default value |
| model_id, model_version | the published model that produced an estimate, if any |
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from open_models.ipcc.cbam_table import CN_CODE_BY_PRODUCT

CATEGORY_BY_SECTOR: Final[dict[str, str]] = {
    "iron_steel": "Crude steel",
    "cement": "Cement",
    "aluminium": "Unwrought aluminium",
    "fertilisers": "Ammonia",
    "hydrogen": "Hydrogen",
}
#: The aggregated goods category is per product where a sector has several.
CATEGORY_BY_PRODUCT: Final[dict[str, str]] = {"clinker": "Cement clinker", "cement": "Cement"}

COLUMNS: Final = (
    "installation_id",
    "country",
    "reporting_period",
    "aggregated_goods_category",
    "cn_code",
    "product",
    "production_route",
    "production_level_t",
    "see_direct_tco2e_per_t",
    "see_indirect_tco2e_per_t",
    "see_total_tco2e_per_t",
    "determination_basis",
    "default_value_tco2e_per_t",
    "difference_tco2e_per_t",
    "model_id",
    "model_version",
)


def _num(value: Any) -> str:
    return "" if value is None else f"{float(value):.6f}"


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One template row per record, sorted by installation, year and good."""
    out = []
    for r in sorted(rows, key=lambda x: (x["facility_id"], x["year"], x["product"])):
        production = float(r["production_t"])
        indirect = r["indirect_tco2e"]
        out.append(
            {
                "installation_id": r["facility_id"],
                "country": r["jurisdiction"],
                "reporting_period": str(r["year"]),
                "aggregated_goods_category": CATEGORY_BY_PRODUCT.get(
                    r["product"], CATEGORY_BY_SECTOR[r["sector"]]
                ),
                "cn_code": CN_CODE_BY_PRODUCT[r["product"]],
                "product": r["product"],
                "production_route": r["route"],
                "production_level_t": _num(production),
                "see_direct_tco2e_per_t": _num(r["specific_direct_tco2e_per_t"]),
                "see_indirect_tco2e_per_t": _num(
                    None if indirect is None else float(indirect) / production
                ),
                "see_total_tco2e_per_t": _num(r["specific_embedded_tco2e_per_t"]),
                "determination_basis": r["direct_basis"] or "",
                "default_value_tco2e_per_t": _num(r["cbam_default_total_tco2e_per_t"]),
                "difference_tco2e_per_t": _num(r["difference_total_tco2e_per_t"]),
                "model_id": r["model_id"] or "",
                "model_version": r["model_version"] or "",
            }
        )
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text with ``\n`` line ends, so the file is the same on every OS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(summary_rows(rows))
    return buffer.getvalue()
