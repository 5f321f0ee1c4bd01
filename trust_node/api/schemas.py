"""API schemas (pydantic): what crosses the HTTP boundary, separate from storage rows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["training", "statistics"]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    # The docstring and title are the published OpenAPI schema ``Problem``: clients know
    # that name, whatever the class is called here.
    model_config = ConfigDict(extra="allow", title="Problem")
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, object]] | None = None


class Record(BaseModel):
    """One stored facility record (data-contract columns plus its version)."""

    record_id: str
    version: int
    facility_id: str
    jurisdiction: str
    year: int
    sector: str
    product: str
    route: str
    production_t: float
    coal_tj: float | None = None
    coke_tj: float | None = None
    natural_gas_tj: float | None = None
    oil_tj: float | None = None
    biomass_tj: float | None = None
    electricity_mwh: float | None = None
    clinker_ratio: float | None = None
    scrap_share: float | None = None
    anode_t: float | None = None
    reported_direct_tco2e: float | None = None
    verified_direct_tco2e: float | None = None
    verification: str


class RecordList(BaseModel):
    count: int = Field(description="Your records (distinct ids), whatever the page.")
    offset: int
    limit: int
    items: list[Record]


class Versions(BaseModel):
    record_id: str
    versions: list[int]


class IngestReceipt(BaseModel):
    ingest_id: int
    source: str
    sha256: str
    rows: int
    new_records: int
    new_versions: int


class Estimate(BaseModel):
    """Tier-1, model estimate with interval, corrected figure, embedded emissions, CBAM default."""

    record_id: str
    version: int
    facility_id: str
    jurisdiction: str
    year: int
    sector: str
    product: str
    route: str
    production_t: float
    tier1_method: str
    tier1_direct_tco2e: float | None
    tier1_direct_complete: bool
    grid_factor_tco2e_per_mwh: float | None
    indirect_tco2e: float | None
    model_id: str | None = Field(description="Null when no model is published on this node.")
    model_version: str | None
    model_hash: str | None
    model_reason: str
    estimate_direct_tco2e: float | None
    estimate_low_tco2e: float | None
    estimate_high_tco2e: float | None
    reported_direct_tco2e: float | None
    verified_direct_tco2e: float | None
    verification: str
    corrected_direct_tco2e: float | None
    direct_basis: Literal["verified", "corrected", "model", "tier1"] | None
    direct_tco2e: float | None
    embedded_tco2e: float | None
    specific_direct_tco2e_per_t: float | None
    specific_embedded_tco2e_per_t: float | None
    tier1_specific_embedded_tco2e_per_t: float | None
    cbam_default_direct_tco2e_per_t: float | None
    cbam_default_total_tco2e_per_t: float | None
    cbam_note: str
    difference_direct_tco2e_per_t: float | None
    difference_total_tco2e_per_t: float | None


class EstimateList(BaseModel):
    count: int
    model_id: str | None
    model_version: str | None
    model_reason: str
    items: list[Estimate]


class ConsentIn(BaseModel):
    scopes: list[Scope] = Field(description="Uses you consent to; [] withdraws all.")


class Consent(BaseModel):
    scopes: list[Scope]
    changed_at: datetime | None = Field(description="When last changed; null if never set.")
    note: str = "A change applies from the next training or statistics round."


class ConsentChange(BaseModel):
    seq: int
    scopes: list[Scope]
    changed_at: datetime
    entry_hash: str


class TenantIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9\-_.:]{1,128}$")


class Tenant(BaseModel):
    tenant_id: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool


class IssuedToken(BaseModel):
    tenant_id: str
    token: str = Field(description="Shown once; the node keeps only its SHA-256.")


class Health(BaseModel):
    status: Literal["ok"]
