"""PACT v2.3 footprints (required fields, types, patterns) and the CBAM SEE summary CSV."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import jsonschema_rs  # ships with schemathesis (dev extra)
import pytest

from kernel.settings import load_settings
from trust_node.estimates import EstimateService, as_dicts
from trust_node.exports import CBAM_COLUMNS, cbam_summary_csv, pact_footprints
from trust_node.generate import generate
from trust_node.store import SqlRecordRepository

# Required properties and their constraints, transcribed from the PACT Technical
# Specifications v2.3 ProductFootprint / CarbonFootprint schema (wbcsd, as used by
# wbcsd/pact-conformance-test-service src/schemas/v2_3_schema.ts).
URN = {"type": "string", "pattern": "^([uU][rR][nN]):"}
DEC_POS = {"type": "string", "pattern": r"^[+]?\d+(\.\d+)?$"}
PACT_V2_3 = {
    "type": "object",
    "required": [
        "id",
        "specVersion",
        "version",
        "created",
        "status",
        "comment",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
        "productCategoryCpc",
        "productNameCompany",
        "pcf",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "specVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+(-\d{8})?$"},
        "version": {"type": "integer", "minimum": 0},
        "created": {"type": "string", "format": "date-time"},
        "status": {"enum": ["Active", "Deprecated"]},
        "companyName": {"type": "string", "minLength": 1},
        "companyIds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": URN},
        "productIds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": URN},
        "productClassifications": {"type": "array", "minItems": 1, "items": URN},
        "productCategoryCpc": {"type": "string", "minLength": 1},
        "productNameCompany": {"type": "string", "minLength": 1},
        "pcf": {
            "type": "object",
            "required": [
                "declaredUnit",
                "unitaryProductAmount",
                "referencePeriodStart",
                "referencePeriodEnd",
                "pCfExcludingBiogenic",
                "fossilGhgEmissions",
                "fossilCarbonContent",
                "biogenicCarbonContent",
                "characterizationFactors",
                "ipccCharacterizationFactorsSources",
                "crossSectoralStandardsUsed",
                "boundaryProcessesDescription",
                "exemptedEmissionsPercent",
                "exemptedEmissionsDescription",
                "packagingEmissionsIncluded",
            ],
            "properties": {
                "declaredUnit": {
                    "enum": [
                        "liter",
                        "kilogram",
                        "cubic meter",
                        "kilowatt hour",
                        "megajoule",
                        "ton kilometer",
                        "square meter",
                    ]
                },
                "unitaryProductAmount": {
                    "type": "string",
                    "pattern": r"^[+]?((\d*[1-9]\d*)(\.\d+)?|(0+\.\d*[1-9]\d*))$",
                },
                "pCfExcludingBiogenic": DEC_POS,
                "fossilGhgEmissions": DEC_POS,
                "fossilCarbonContent": DEC_POS,
                "biogenicCarbonContent": DEC_POS,
                "characterizationFactors": {"enum": ["AR6", "AR5"]},
                "ipccCharacterizationFactorsSources": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"pattern": r"^AR\d+$"},
                },
                "crossSectoralStandardsUsed": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "enum": [
                            "GHG Protocol Product standard",
                            "ISO Standard 14067",
                            "ISO Standard 14044",
                        ]
                    },
                },
                "referencePeriodStart": {"type": "string", "format": "date-time"},
                "referencePeriodEnd": {"type": "string", "format": "date-time"},
                "geographyCountry": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "exemptedEmissionsPercent": {"type": "number", "minimum": 0, "maximum": 5},
                "packagingEmissionsIncluded": {"type": "boolean"},
            },
        },
    },
}


@pytest.fixture
def rows(tmp_path: Path) -> list[dict[str, Any]]:
    settings = load_settings(home=tmp_path / "home")
    settings.ensure_home()
    repo = SqlRecordRepository.from_url(settings.database_url)
    repo.add_batch(
        "acme", generate(["IN", "TR"], records=6, seed=8).records, source="a.csv", sha256="0" * 64
    )
    return as_dicts(EstimateService(repo, settings).for_tenant("acme", asked_by="t"))


def test_pact_footprints_meet_the_v2_3_required_fields(rows: list[dict[str, Any]]) -> None:
    body = pact_footprints(rows, tenant_id="acme", company_name="Acme Kilns Ltd")
    usable = [r for r in rows if r["specific_embedded_tco2e_per_t"] is not None]
    assert len(body["data"]) == len(usable) > 0
    checker = jsonschema_rs.Draft7Validator(PACT_V2_3, validate_formats=True)
    for fp, row in zip(body["data"], usable, strict=True):
        errors = [str(e) for e in checker.iter_errors(fp)]
        assert errors == [], errors
        assert uuid.UUID(fp["id"]).version == 5
        # kgCO2e per kg equals tCO2e per t.
        assert float(fp["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(
            row["specific_embedded_tco2e_per_t"], abs=1e-6
        )
        assert fp["pcf"]["geographyCountry"] == row["jurisdiction"]
        assert fp["pcf"]["referencePeriodStart"].startswith(str(row["year"]))


def test_pact_id_is_stable_per_record_version(rows: list[dict[str, Any]]) -> None:
    a = pact_footprints(rows, tenant_id="acme", company_name="A")["data"]
    b = pact_footprints(rows, tenant_id="acme", company_name="A")["data"]
    assert [x["id"] for x in a] == [x["id"] for x in b]
    assert len({x["id"] for x in a}) == len(a)


def test_cbam_summary_columns_and_values(rows: list[dict[str, Any]]) -> None:
    text = cbam_summary_csv(rows)
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == CBAM_COLUMNS
    assert len(table) == len(rows)
    by_key = {(r["facility_id"], str(r["year"]), r["product"]): r for r in rows}
    for line in table:
        r = by_key[(line["installation_id"], line["reporting_period"], line["product"])]
        if r["specific_embedded_tco2e_per_t"] is None:
            continue
        total = float(line["see_total_tco2e_per_t"])
        assert total == pytest.approx(
            float(line["see_direct_tco2e_per_t"]) + float(line["see_indirect_tco2e_per_t"]),
            abs=2e-6,
        )
        if line["default_value_tco2e_per_t"]:
            assert float(line["difference_tco2e_per_t"]) == pytest.approx(
                total - float(line["default_value_tco2e_per_t"]), abs=2e-6
            )
        assert line["cn_code"] and line["aggregated_goods_category"]
    assert [x["installation_id"] for x in table] == sorted(x["installation_id"] for x in table)
