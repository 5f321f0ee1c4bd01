"""Tenant routes (``/v1``): thin wrappers over the ingest, store, estimate and export services.

Every route is scoped to the caller's tenant (``deps.TenantId``); a record id that is
not the caller's answers exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from trust_node.api import schemas as s
from trust_node.api.deps import Services, TenantId
from trust_node.api.problems import PROBLEM_RESPONSES, ApiProblem, not_found
from trust_node.estimates import as_dicts
from trust_node.exports import cbam_summary_csv, pact_footprints
from trust_node.exports.pact import product_footprint
from trust_node.ingest import ingest_bytes
from trust_node.ingest.read import Format

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)

CONTENT_TYPES: Final[dict[str, Format]] = {
    "text/csv": "csv",
    "application/json": "json",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
UPLOAD_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes: CSV, JSON records or Parquet, by Content-Type.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = ApiProblem(
        413, "Upload too large", f"uploads are limited to {limit} bytes", limit_bytes=limit
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/records",
    status_code=201,
    response_model=s.IngestReceipt,
    openapi_extra=UPLOAD_BODY,
    responses={
        413: {"description": "Upload too large"},
        415: {"description": "Unsupported content type"},
    },
)
async def upload_records(
    request: Request,
    tenant: TenantId,
    svc: Services,
    name: Annotated[
        str, Query(max_length=200, description="File name, for the receipt.")
    ] = "upload",
) -> s.IngestReceipt:
    """Validate and store a file whole, or reject it whole with every bad row and column."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = CONTENT_TYPES.get(media)
    if fmt is None:
        raise ApiProblem(
            415,
            "Unsupported media type",
            f"Content-Type {media or '(none)'!r} is not accepted; use one of "
            f"{sorted(CONTENT_TYPES)}",
            accepted=sorted(CONTENT_TYPES),
        )
    data = await _read_limited(request, svc.settings.max_upload_bytes)
    receipt = await run_in_threadpool(
        ingest_bytes, data, name, svc.repository, tenant_id=tenant, fmt=fmt
    )
    return s.IngestReceipt(
        ingest_id=receipt.ingest_id,
        source=receipt.source,
        sha256=receipt.sha256,
        rows=receipt.rows,
        new_records=receipt.new_records,
        new_versions=receipt.new_versions,
    )


@router.get("/records", response_model=s.RecordList)
def list_records(
    tenant: TenantId,
    svc: Services,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> s.RecordList:
    """Your records, latest version of each."""
    frame = svc.repository.latest(tenant)
    page = as_dicts(frame.iloc[offset : offset + limit])
    return s.RecordList(
        count=len(frame),
        offset=offset,
        limit=limit,
        items=[s.Record.model_validate(r) for r in page],
    )


@router.get("/records/{record_id}", response_model=s.Record)
def get_record(
    record_id: str,
    tenant: TenantId,
    svc: Services,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> s.Record:
    """One of your records (latest version unless ``version``)."""
    return s.Record.model_validate(svc.repository.get(tenant, record_id, version))


@router.get("/records/{record_id}/versions", response_model=s.Versions)
def record_versions(record_id: str, tenant: TenantId, svc: Services) -> s.Versions:
    """Every stored version of one of your records; corrections never overwrite."""
    versions = svc.repository.versions(tenant, record_id)
    if not versions:
        raise not_found("record")
    return s.Versions(record_id=record_id, versions=versions)


@router.get("/records/{record_id}/estimate", response_model=s.Estimate)
def record_estimate(record_id: str, tenant: TenantId, svc: Services) -> s.Estimate:
    """Tier-1, model estimate with interval, corrected figure, embedded emissions, CBAM."""
    row = svc.estimates.for_record(tenant, record_id, asked_by=f"tenant:{tenant}")
    return s.Estimate.model_validate(row)


@router.get("/estimates", response_model=s.EstimateList)
def estimates(tenant: TenantId, svc: Services) -> s.EstimateList:
    """Estimates and footprints for all your records (one model invocation, registered)."""
    current = svc.estimates.current_model()
    rows = as_dicts(svc.estimates.for_tenant(tenant, asked_by=f"tenant:{tenant}"))
    ref = current.ref
    return s.EstimateList(
        count=len(rows),
        model_id=ref.model_id if ref else None,
        model_version=ref.version if ref else None,
        model_reason=current.reason,
        items=[s.Estimate.model_validate(r) for r in rows],
    )


@router.get("/consent", response_model=s.Consent)
def get_consent(tenant: TenantId, svc: Services) -> s.Consent:
    """Your current consent scopes (none until you set them)."""
    entry = svc.consent.current(tenant)
    if entry is None:
        return s.Consent(scopes=[], changed_at=None)
    return s.Consent(scopes=list(entry.scopes), changed_at=entry.changed_at)


@router.put("/consent", response_model=s.Consent)
def set_consent(body: s.ConsentIn, tenant: TenantId, svc: Services) -> s.Consent:
    """Set your consent scopes; logged, and effective from the next round."""
    entry = svc.consent.set(tenant, body.scopes, actor=f"tenant:{tenant}")
    return s.Consent(scopes=list(entry.scopes), changed_at=entry.changed_at)


@router.get("/consent/history", response_model=list[s.ConsentChange])
def consent_history(tenant: TenantId, svc: Services) -> list[s.ConsentChange]:
    """Every consent change you made, hash-chained so a rewrite would show."""
    return [
        s.ConsentChange(
            seq=e.seq, scopes=list(e.scopes), changed_at=e.changed_at, entry_hash=e.entry_hash
        )
        for e in svc.consent.history(tenant)
    ]


CompanyName = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="companyName (default: tenant name)"),
]


@router.get("/exports/pact", responses={200: {"content": {"application/json": {}}}})
def export_pact(
    tenant: TenantId, svc: Services, company_name: CompanyName = None
) -> dict[str, Any]:
    """Your footprints in the PACT v2.3 data model (``{"data": [ProductFootprint...]}``)."""
    rows = as_dicts(svc.estimates.for_tenant(tenant, asked_by=f"tenant:{tenant}"))
    return pact_footprints(rows, tenant_id=tenant, company_name=company_name or tenant)


@router.get("/records/{record_id}/pact")
def record_pact(
    record_id: str, tenant: TenantId, svc: Services, company_name: CompanyName = None
) -> dict[str, Any]:
    """One record's PACT v2.3 ProductFootprint."""
    row = svc.estimates.for_record(tenant, record_id, asked_by=f"tenant:{tenant}")
    if row["specific_embedded_tco2e_per_t"] is None:
        raise ApiProblem(
            409,
            "No footprint",
            f"record {record_id!r} has no embedded-"
            "emissions figure (Tier-1 unavailable and no model estimate)",
        )
    return product_footprint(row, tenant_id=tenant, company_name=company_name or tenant)


@router.get(
    "/exports/cbam-summary.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_cbam(
    tenant: TenantId,
    svc: Services,
    facility_id: Annotated[
        str | None, Query(max_length=128, description="Only this installation.")
    ] = None,
) -> Response:
    """Specific embedded emissions per installation and good, CBAM-template layout (CSV)."""
    rows = as_dicts(svc.estimates.for_tenant(tenant, asked_by=f"tenant:{tenant}"))
    if facility_id is not None:
        rows = [r for r in rows if r["facility_id"] == facility_id]
    return Response(cbam_summary_csv(rows), media_type="text/csv")
