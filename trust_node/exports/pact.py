"""Product carbon footprints in the PACT (WBCSD Pathfinder) data model.

Follows the PACT Technical Specifications v2.3 (``specVersion`` "2.3.0"), data model
``ProductFootprint`` / ``CarbonFootprint`` (wbcsd/data-exchange-protocol; the published
JSON schema for 2.3 as used by wbcsd/pact-conformance-test-service,
``src/schemas/v2_3_schema.ts``). No PyPI package ships that schema, so the tests check
every property it marks required, their types and patterns.

One footprint per record (one facility, product and reporting year), gate-to-gate at the
installation, the same boundary as CBAM's specific embedded emissions: direct emissions
plus indirect emissions of grid electricity, precursors excluded. ``declaredUnit`` is
kilogram, so ``pCfExcludingBiogenic`` in kgCO2e/kg equals the figure in tCO2e/t.
Decimals are strings, as the specification requires. The ``pcf.geographyCountry`` is the
record's jurisdiction. ``productCategoryCpc`` is the UN CPC Ver. 2.1 *division* of the
good (:data:`CPC_DIVISION_BY_PRODUCT`); the CN code goes in ``productClassifications``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Final

from open_models.ipcc.cbam_table import CN_CODE_BY_PRODUCT

SPEC_VERSION: Final = "2.3.0"
SPEC_SOURCE: Final = (
    "PACT Technical Specifications v2.3 (WBCSD, data-exchange-protocol), ProductFootprint"
)
#: UN Central Product Classification Ver. 2.1, divisions (2 digits):
#: 41 Basic metals; 37 Glass and glass products and other non-metallic products n.e.c.;
#: 34 Basic chemicals. Finer CPC classes are left to the company.
CPC_DIVISION_BY_PRODUCT: Final[dict[str, str]] = {
    "crude_steel": "41",
    "primary_aluminium": "41",
    "clinker": "37",
    "cement": "37",
    "ammonia": "34",
    "hydrogen": "34",
}
PRODUCT_NAMES: Final[dict[str, str]] = {
    "crude_steel": "Crude steel",
    "clinker": "Cement clinker",
    "cement": "Portland cement",
    "primary_aluminium": "Primary aluminium (unwrought)",
    "ammonia": "Ammonia",
    "hydrogen": "Hydrogen",
}
#: Namespace for the stable footprint id (uuid5 of tenant, record id and version).
FOOTPRINT_NAMESPACE: Final = uuid.UUID("6f1c0a52-3a7e-5b43-9e0c-6a1d2f9b7c10")
BOUNDARY: Final = (
    "Gate-to-gate at the installation, as CBAM specific embedded emissions: direct CO2 "
    "from fuels and processes plus indirect CO2 of grid electricity consumed; precursors, "
    "transport and packaging excluded; CO2 only (IPCC 2006 Tier-1 boundary)."
)


def _decimal(value: float) -> str:
    text = f"{max(value, 0.0):.6f}".rstrip("0").rstrip(".")
    return text or "0"


def product_footprint(
    row: dict[str, Any], *, tenant_id: str, company_name: str, created: datetime | None = None
) -> dict[str, Any]:
    """One PACT ProductFootprint from an estimate row (see ``trust_node.estimates``)."""
    year = int(row["year"])
    product = str(row["product"])
    specific = row["specific_embedded_tco2e_per_t"]
    if specific is None:
        raise ValueError(f"record {row['record_id']!r} has no embedded-emissions figure")
    when = (created or datetime.now(UTC)).replace(microsecond=0)
    pcf_id = uuid.uuid5(FOOTPRINT_NAMESPACE, f"{tenant_id}/{row['record_id']}/{row['version']}")
    model = (
        f"model {row['model_id']} {row['model_version']}"
        if row.get("model_id")
        else "no published model"
    )
    return {
        "id": str(pcf_id),
        "specVersion": SPEC_VERSION,
        "version": int(row["version"]),
        "created": when.isoformat().replace("+00:00", "Z"),
        "status": "Active",
        "companyName": company_name,
        "companyIds": [f"urn:gcdt:tenant:{tenant_id}"],
        "productDescription": f"{PRODUCT_NAMES[product]}, route {row['route']}",
        "productIds": [f"urn:gcdt:record:{row['record_id']}"],
        "productClassifications": [f"urn:gcdt:cn:{CN_CODE_BY_PRODUCT[product].replace(' ', '')}"],
        "productCategoryCpc": CPC_DIVISION_BY_PRODUCT[product],
        "productNameCompany": f"{PRODUCT_NAMES[product]} ({row['facility_id']})",
        "comment": (
            f"Direct emissions basis: {row['direct_basis']}; {model}. "
            f"Computed by a Global Carbon Data Trust node."
        ),
        "pcf": {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": "1000",
            "pCfExcludingBiogenic": _decimal(float(specific)),
            "fossilGhgEmissions": _decimal(float(specific)),
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "characterizationFactors": "AR6",
            "ipccCharacterizationFactorsSources": ["AR6"],
            "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
            "boundaryProcessesDescription": BOUNDARY,
            "referencePeriodStart": f"{year}-01-01T00:00:00Z",
            "referencePeriodEnd": f"{year + 1}-01-01T00:00:00Z",
            "geographyCountry": str(row["jurisdiction"]),
            "exemptedEmissionsPercent": 0,
            "exemptedEmissionsDescription": "No emissions exempted within the boundary.",
            "packagingEmissionsIncluded": False,
            "primaryDataShare": 100.0 if row["direct_basis"] == "verified" else 0.0,
        },
    }


def footprints(
    rows: list[dict[str, Any]],
    *,
    tenant_id: str,
    company_name: str,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A PACT ``ListFootprints`` response body: ``{"data": [...]}``."""
    usable = [r for r in rows if r.get("specific_embedded_tco2e_per_t") is not None]
    return {
        "data": [
            product_footprint(r, tenant_id=tenant_id, company_name=company_name, created=created)
            for r in usable
        ]
    }
