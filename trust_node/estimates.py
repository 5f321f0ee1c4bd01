"""Estimates and footprints per record: what an SME needs for its customers and for CBAM.

For each record (latest version):
- the IPCC 2006 Tier-1 baseline (``open_models.ipcc.tier1.compute_tier1``);
- the current published model's estimate of direct emissions with its interval
  (``GCDT_HOME/models/current``, loaded with ``open_models.published.PublishedModel``);
  with no published model the estimate fields are null, ``model_id`` is null and
  ``model_reason`` says why: nothing is invented;
- the bias-corrected figure, only where the record carries a self-declared
  ``reported_direct_tco2e`` (the model corrects declared figures, it does not make them up);
- direct + indirect = embedded emissions, and per tonne (specific embedded emissions);
- the CBAM default value (IR (EU) 2025/2621, via ``open_models.ipcc.cbam``) beside it with
  the difference (negative: the record's own figure is below the default it would pay on).

Which direct figure goes into the embedded emissions (``direct_basis``), best first:
``verified`` (third-party or measured ``verified_direct_tco2e``), ``corrected`` (model
bias correction of a self-declared figure), ``model`` (the estimate), ``tier1``.
Indirect emissions are always Tier-1 (electricity x the jurisdiction's grid factor).

Every model invocation (one ``predict`` call over the asked records) is written to the
accountability register with who asked. ``gcdt-node estimate`` calls this service too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from governance.accountability import AccountabilityError, AccountabilityRegister, ModelRef
from kernel.settings import Settings
from open_models import contract as c
from open_models.ipcc.tier1 import compute_tier1
from open_models.published import PublishedModel
from trust_node.errors import NodeError, RecordNotFoundError
from trust_node.store import SqlRecordRepository

MODEL_SUBDIR: Final = Path("models") / "current"
PREDICT_COLUMNS: Final = (
    "estimate_direct_tco2e",
    "estimate_low_tco2e",
    "estimate_high_tco2e",
    "corrected_direct_tco2e",
)
NO_MODEL_REASON: Final = "no model published on this node yet (GCDT_HOME/models/current is absent)"

#: Columns of an estimate answer, in order (also the API schema's fields).
ESTIMATE_COLUMNS: Final = (
    "record_id",
    "version",
    "facility_id",
    "jurisdiction",
    "year",
    "sector",
    "product",
    "route",
    "production_t",
    "tier1_method",
    "tier1_direct_tco2e",
    "tier1_direct_complete",
    "grid_factor_tco2e_per_mwh",
    "indirect_tco2e",
    "model_id",
    "model_version",
    "model_hash",
    "model_reason",
    "estimate_direct_tco2e",
    "estimate_low_tco2e",
    "estimate_high_tco2e",
    "reported_direct_tco2e",
    "verified_direct_tco2e",
    "verification",
    "corrected_direct_tco2e",
    "direct_basis",
    "direct_tco2e",
    "embedded_tco2e",
    "specific_direct_tco2e_per_t",
    "specific_embedded_tco2e_per_t",
    "tier1_specific_embedded_tco2e_per_t",
    "cbam_default_direct_tco2e_per_t",
    "cbam_default_total_tco2e_per_t",
    "cbam_note",
    "difference_direct_tco2e_per_t",
    "difference_total_tco2e_per_t",
)


class EstimateError(NodeError):
    """The published model could not be loaded or answered wrongly."""


@dataclass(frozen=True)
class CurrentModel:
    """The loaded published model, or why there is none."""

    model: PublishedModel | None
    ref: ModelRef | None
    reason: str


def model_dir(settings: Settings) -> Path:
    """Where the node keeps installed models (``GCDT_HOME/models``)."""
    return settings.home_dir / MODEL_SUBDIR


def load_current_model(settings: Settings) -> CurrentModel:
    """Load ``GCDT_HOME/models/current``; absent means "no model yet", never an error."""
    where = model_dir(settings)
    if not where.exists():
        return CurrentModel(None, None, NO_MODEL_REASON)
    try:
        model = PublishedModel.load(where)
    except Exception as exc:  # the model library's own errors: refuse, never guess
        raise EstimateError(f"the published model at {where} cannot be loaded: {exc}") from exc
    ref = ModelRef(model.model_id, model.version, model.content_hash)
    return CurrentModel(model, ref, f"published model {ref.model_id} {ref.version}")


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    out = []
    for row in clean.to_dict(orient="records"):
        out.append({str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def estimate_records(
    records: pd.DataFrame,
    current: CurrentModel,
    *,
    register: AccountabilityRegister | None,
    asked_by: str,
) -> pd.DataFrame:
    """Estimates and footprints for ``records`` (contract columns); one row per record.

    ``register`` must be given whenever ``current.model`` is: every invocation is logged.
    """
    if records.empty:
        return pd.DataFrame(columns=list(ESTIMATE_COLUMNS))
    frame = records.reset_index(drop=True)
    tier1 = compute_tier1(frame)
    out = frame[[col for col in ESTIMATE_COLUMNS if col in frame.columns]].copy()
    for col in (
        "tier1_method",
        "tier1_direct_tco2e",
        "tier1_direct_complete",
        "grid_factor_tco2e_per_mwh",
        "indirect_tco2e",
        "cbam_default_direct_tco2e_per_t",
        "cbam_default_total_tco2e_per_t",
        "cbam_note",
    ):
        out[col] = tier1[col].to_numpy()
    out["tier1_specific_embedded_tco2e_per_t"] = tier1["specific_embedded_tco2e_per_t"].to_numpy()
    predicted = _predict(frame, current, register, asked_by)
    for col in PREDICT_COLUMNS:
        out[col] = predicted[col].to_numpy()
    declared = frame["reported_direct_tco2e"].notna().to_numpy()
    out["corrected_direct_tco2e"] = np.where(declared, out["corrected_direct_tco2e"], np.nan)
    ref = current.ref
    out["model_id"] = ref.model_id if ref else None
    out["model_version"] = ref.version if ref else None
    out["model_hash"] = ref.content_hash if ref else None
    out["model_reason"] = current.reason
    _footprint(out, frame)
    return out[list(ESTIMATE_COLUMNS)]


def _predict(
    frame: pd.DataFrame,
    current: CurrentModel,
    register: AccountabilityRegister | None,
    asked_by: str,
) -> pd.DataFrame:
    if current.model is None or current.ref is None:
        return pd.DataFrame(np.nan, index=frame.index, columns=list(PREDICT_COLUMNS))
    if register is None:
        raise EstimateError("a model invocation needs the accountability register")
    model_input = frame[list(c.ALL_COLUMNS)]
    try:
        predicted = current.model.predict(model_input)
    except NodeError:
        raise
    except Exception as exc:
        raise EstimateError(f"model {current.ref.model_id} failed to predict: {exc}") from exc
    missing = [col for col in PREDICT_COLUMNS if col not in predicted.columns]
    if missing or len(predicted) != len(frame):
        raise EstimateError(
            f"model {current.ref.model_id} answered without {missing} or with "
            f"{len(predicted)} rows for {len(frame)} records"
        )
    predicted = predicted.reset_index(drop=True)
    output = dict(
        zip(frame["record_id"].astype(str), _plain(predicted[list(PREDICT_COLUMNS)]), strict=True)
    )
    try:
        register.record(current.ref, _plain(model_input), output, asked_by=asked_by)
    except AccountabilityError as exc:  # no answer leaves unrecorded
        raise EstimateError(str(exc)) from exc
    return predicted


def _footprint(out: pd.DataFrame, frame: pd.DataFrame) -> None:
    verified = frame["verified_direct_tco2e"].to_numpy(dtype=float)
    candidates = (
        ("verified", verified),
        ("corrected", out["corrected_direct_tco2e"].to_numpy(dtype=float)),
        ("model", out["estimate_direct_tco2e"].to_numpy(dtype=float)),
        ("tier1", out["tier1_direct_tco2e"].to_numpy(dtype=float)),
    )
    direct = np.full(len(out), np.nan)
    basis = np.full(len(out), None, dtype=object)
    for name, values in candidates:
        take = np.isnan(direct) & ~np.isnan(values)
        direct = np.where(take, values, direct)
        basis = np.where(take, name, basis)
    production = frame["production_t"].to_numpy(dtype=float)
    embedded = direct + out["indirect_tco2e"].to_numpy(dtype=float)
    out["direct_basis"] = basis
    out["direct_tco2e"] = direct
    out["embedded_tco2e"] = embedded
    out["specific_direct_tco2e_per_t"] = direct / production
    out["specific_embedded_tco2e_per_t"] = embedded / production
    out["difference_direct_tco2e_per_t"] = (
        out["specific_direct_tco2e_per_t"] - out["cbam_default_direct_tco2e_per_t"]
    )
    out["difference_total_tco2e_per_t"] = (
        out["specific_embedded_tco2e_per_t"] - out["cbam_default_total_tco2e_per_t"]
    )


class EstimateService:
    """Per-tenant estimates over the store; the API and ``gcdt-node estimate`` call it."""

    def __init__(self, repository: SqlRecordRepository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings
        self.register = AccountabilityRegister(repository.engine)

    def current_model(self) -> CurrentModel:
        return load_current_model(self.settings)

    def for_tenant(
        self, tenant_id: str, *, asked_by: str, record_ids: list[str] | None = None
    ) -> pd.DataFrame:
        """Estimates for a tenant's latest records (or just ``record_ids`` of them)."""
        records = self.repository.latest(tenant_id)
        if record_ids is not None:
            records = records[records["record_id"].isin(record_ids)]
        return estimate_records(
            records, self.current_model(), register=self.register, asked_by=asked_by
        )

    def for_record(self, tenant_id: str, record_id: str, *, asked_by: str) -> dict[str, Any]:
        """One record's answer; a record of another tenant is simply not found."""
        record = self.repository.get(tenant_id, record_id)  # raises RecordNotFoundError
        frame = pd.DataFrame([record]).drop(columns=["ingest_id"], errors="ignore")
        for name in c.FLOAT_COLUMNS:
            frame[name] = frame[name].astype("float64")
        rows = _plain(
            estimate_records(frame, self.current_model(), register=self.register, asked_by=asked_by)
        )
        if not rows:
            raise RecordNotFoundError(f"record {record_id!r} not found")
        return rows[0]


def as_dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (NaN as None, numpy scalars as Python values)."""
    return _plain(frame)
