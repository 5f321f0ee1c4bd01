"""Feature encoding of facility records, fixed by the data contract and not by any data.

Why fixed: every node must encode its records identically without seeing anyone else's,
so nothing here is fitted (no means, no vocabularies learnt from data); the encoding is a
pure function of the contract's vocabulary and a versioned :class:`FeatureSpec` that is
stored inside each published model, so a model is always applied with the encoding it was
trained with.

Unknown is never zero: every optional quantity is encoded as a value (0 when unknown) plus
a missing indicator (1 when unknown), so a model can tell "no coal burnt" (0, known) from
"fuel breakdown not filed" (0, indicator 1). That is what lets an SME that knows production,
route and electricity but not its fuels get an estimate whose interval reflects what it
did not say.

Scales: per-tonne energy is ``log1p`` of GJ (fuels) or MWh (electricity) per tonne, which
puts every route in a 0-6 range without fitted statistics. The IPCC Tier-1 intensity
(``open_models.ipcc.tier1``) is a feature too: a transparent physical prior the network
only has to correct. Jurisdiction enters only when the node's policy allows it
(``include_jurisdiction``) and only for the codes the spec lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from open_models.contract import FUEL_COLUMNS, PRODUCTS, ROUTES, SECTORS
from open_models.errors import FeatureEncodingError
from open_models.ipcc.errors import Tier1Error
from open_models.ipcc.tier1 import compute_tier1

FEATURE_SPEC_VERSION: Final = "gcdt-features/1"
#: Year is centred and scaled so a decade moves the feature by 1 (fixed, not fitted).
YEAR_CENTRE: Final = 2020
YEAR_SCALE: Final = 10.0
#: GJ per TJ (fuel columns are TJ; per-tonne fuel features are GJ/t).
GJ_PER_TJ: Final = 1000.0

REQUIRED_FOR_ENCODING: Final = (
    "record_id",
    "jurisdiction",
    "year",
    "sector",
    "product",
    "route",
    "production_t",
)


@dataclass(frozen=True)
class FeatureSpec:
    """What the encoder produces; stored in every published model (``to_dict``)."""

    version: str = FEATURE_SPEC_VERSION
    sectors: tuple[str, ...] = SECTORS
    products: tuple[str, ...] = PRODUCTS
    routes: tuple[str, ...] = ROUTES
    include_jurisdiction: bool = False
    jurisdictions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.version != FEATURE_SPEC_VERSION:
            raise FeatureEncodingError(
                f"feature spec version {self.version!r} is not supported "
                f"(this code encodes {FEATURE_SPEC_VERSION!r})"
            )
        if self.jurisdictions and not self.include_jurisdiction:
            raise FeatureEncodingError(
                "jurisdictions listed but include_jurisdiction is off (policy flag)"
            )

    @property
    def names(self) -> tuple[str, ...]:
        out = [f"sector={s}" for s in self.sectors]
        out += [f"product={p}" for p in self.products]
        out += [f"route={r}" for r in self.routes]
        for column in FUEL_COLUMNS:
            out += [f"log1p_{column[:-3]}_gj_per_t", f"missing_{column}"]
        out += ["log1p_electricity_mwh_per_t", "missing_electricity_mwh"]
        out += ["log1p_tier1_direct_tco2e_per_t", "missing_tier1_direct"]
        out += ["clinker_per_t_product", "missing_clinker_ratio"]
        out += ["scrap_share", "missing_scrap_share"]
        out += ["anode_t_per_t", "missing_anode_t"]
        out += ["year_centred"]
        if self.include_jurisdiction:
            out += [f"jurisdiction={j}" for j in self.jurisdictions]
        return tuple(out)

    @property
    def width(self) -> int:
        return len(self.names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sectors": list(self.sectors),
            "products": list(self.products),
            "routes": list(self.routes),
            "include_jurisdiction": self.include_jurisdiction,
            "jurisdictions": list(self.jurisdictions),
            "names": list(self.names),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        try:
            spec = cls(
                version=str(data["version"]),
                sectors=tuple(data["sectors"]),
                products=tuple(data["products"]),
                routes=tuple(data["routes"]),
                include_jurisdiction=bool(data["include_jurisdiction"]),
                jurisdictions=tuple(data["jurisdictions"]),
            )
        except (KeyError, TypeError) as exc:
            raise FeatureEncodingError(f"malformed feature spec: {exc!r}") from exc
        if "names" in data and tuple(data["names"]) != spec.names:
            raise FeatureEncodingError("feature spec names do not match its vocabulary")
        return spec


def _numeric(frame: pd.DataFrame, name: str, absent: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), absent)
    try:
        values: np.ndarray = pd.to_numeric(frame[name], errors="raise").to_numpy(
            dtype=float, na_value=np.nan
        )
        return values
    except (TypeError, ValueError) as exc:
        raise FeatureEncodingError(f"column {name!r} must be numeric: {exc}") from exc


def _one_hot(
    frame: pd.DataFrame, column: str, vocabulary: tuple[str, ...], strict: bool = True
) -> np.ndarray:
    values = frame[column].astype(str).to_numpy()
    index = pd.Index(vocabulary).get_indexer(values)
    if strict and (index < 0).any():
        row = int(np.flatnonzero(index < 0)[0])
        raise FeatureEncodingError(
            f"row {row}: {column} {values[row]!r} is not in the feature vocabulary {vocabulary}"
        )
    out = np.zeros((len(frame), len(vocabulary)))
    known = index >= 0
    out[np.flatnonzero(known), index[known]] = 1.0
    return out


def _value_and_missing(values: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    return np.column_stack([np.where(missing, 0.0, values), missing.astype(float)])


def encode(frame: pd.DataFrame, spec: FeatureSpec | None = None) -> np.ndarray:
    """Feature matrix (rows like ``frame``, ``spec.width`` float64 columns)."""
    spec = spec or FeatureSpec()
    missing = [c for c in REQUIRED_FOR_ENCODING if c not in frame.columns]
    if missing:
        raise FeatureEncodingError(f"records frame lacks required column(s) {missing}")
    production = _numeric(frame, "production_t", np.nan)
    if not (production > 0).all():
        row = int(np.flatnonzero(~(production > 0))[0])
        raise FeatureEncodingError(f"row {row}: production_t must be > 0, got {production[row]}")
    parts = [
        _one_hot(frame, "sector", spec.sectors),
        _one_hot(frame, "product", spec.products),
        _one_hot(frame, "route", spec.routes),
    ]
    for column in (*FUEL_COLUMNS, "electricity_mwh"):
        # An absent energy column defaults to 0 (contract); an empty cell stays unknown.
        raw = _numeric(frame, column, 0.0)
        if (raw < 0).any():
            row = int(np.flatnonzero(raw < 0)[0])
            raise FeatureEncodingError(f"row {row}: {column} must be >= 0, got {raw[row]}")
        scale = 1.0 if column == "electricity_mwh" else GJ_PER_TJ
        parts.append(_value_and_missing(np.log1p(raw * scale / production)))
    try:
        tier1 = compute_tier1(frame.reset_index(drop=True))
    except Tier1Error as exc:
        raise FeatureEncodingError(f"Tier-1 prior cannot be computed: {exc}") from exc
    # Only a complete Tier-1 figure (all fossil fuels known) is a prior; with fuels unknown
    # Tier-1 covers the process part only and would bias the estimate low.
    complete = tier1["tier1_direct_complete"].to_numpy(dtype=bool)
    t1 = np.where(complete, tier1["tier1_direct_tco2e"].to_numpy(dtype=float), np.nan) / production
    parts.append(_value_and_missing(np.log1p(np.maximum(t1, 0.0))))

    sector = frame["sector"].astype(str).to_numpy()
    product = frame["product"].astype(str).to_numpy()
    ratio = _numeric(frame, "clinker_ratio", np.nan)
    clinker = np.where(product == "clinker", 1.0, np.where(product == "cement", ratio, 0.0))
    parts.append(_value_and_missing(clinker))
    scrap = _numeric(frame, "scrap_share", np.nan)
    parts.append(_value_and_missing(np.where(sector == "iron_steel", scrap, 0.0)))
    anode = _numeric(frame, "anode_t", np.nan) / production
    parts.append(_value_and_missing(np.where(sector == "aluminium", anode, 0.0)))
    year = _numeric(frame, "year", np.nan)
    if np.isnan(year).any():
        raise FeatureEncodingError(f"row {int(np.flatnonzero(np.isnan(year))[0])}: year is empty")
    parts.append(((year - YEAR_CENTRE) / YEAR_SCALE)[:, None])
    if spec.include_jurisdiction:
        # A code the spec does not list is encoded as all zeros (no jurisdiction effect).
        parts.append(_one_hot(frame, "jurisdiction", spec.jurisdictions, strict=False))
    out = np.column_stack(parts)
    if out.shape[1] != spec.width:  # pragma: no cover - guards the names list
        raise FeatureEncodingError(f"encoded {out.shape[1]} columns, spec names {spec.width}")
    return out


def intensity(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``column / production_t`` (tCO2e/t), NaN where the figure is unknown."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    ratio: np.ndarray = _numeric(frame, column, np.nan) / _numeric(frame, "production_t", np.nan)
    return ratio


__all__ = ["FEATURE_SPEC_VERSION", "FeatureSpec", "encode", "intensity"]
