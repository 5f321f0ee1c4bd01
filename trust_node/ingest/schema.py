"""Validation of facility records against the data contract (shared/DATA_CONTRACT.md).

Two stages, both vectorized:

1. *Parse*: column set (unknown and missing columns) and cell types. Cells are read as
   text so a cell that is not a number is named as such, instead of pandas silently
   turning the whole column into ``object``.
2. *Rules*: a pandera schema on the typed frame, evaluated lazily so every failing
   cell is collected in one pass, with cross-column rules as frame-level checks that
   name the column they blame.

The result is a typed frame in contract column order, or an :class:`IngestError` that
lists every bad row, column and reason.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pycountry

from open_models import contract as c
from trust_node.errors import IngestError, IngestProblem
from trust_node.ingest.read import TEXT_COLUMNS

ISO_ALPHA2 = frozenset(country.alpha_2 for country in pycountry.countries)
_SECTOR_PRODUCT = frozenset(f"{s}/{p}" for s, ps in c.PRODUCTS_BY_SECTOR.items() for p in ps)
_SECTOR_ROUTE = frozenset(f"{s}/{r}" for s, rs in c.ROUTES_BY_SECTOR.items() for r in rs)
_TEXT_COLUMNS = TEXT_COLUMNS


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string")


# --- stage 2: the rules, as a pandera schema ----------------------------------------
_ID_REASON = "must be 1-128 characters of letters, digits, '-', '_', '.', ':'"


def _col(dtype: object, *checks: pa.Check, required: bool = False) -> pa.Column:
    return pa.Column(dtype, checks=list(checks), nullable=not required, required=False)


def _ge0() -> pa.Check:
    return pa.Check.ge(0, error="must be >= 0")


_FRAME_RULES: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    # check name -> (column it blames, rule that is True where the row is fine)
    "product_in_sector": (
        "product",
        lambda d: (
            (d["sector"] + "/" + d["product"]).isin(_SECTOR_PRODUCT) | ~d["sector"].isin(c.SECTORS)
        ),
    ),
    "route_in_sector": (
        "route",
        lambda d: (
            (d["sector"] + "/" + d["route"]).isin(_SECTOR_ROUTE) | ~d["sector"].isin(c.SECTORS)
        ),
    ),
    "clinker_ratio_required": (
        "clinker_ratio",
        lambda d: (d["product"] != "cement") | d["clinker_ratio"].notna(),
    ),
    "clinker_ratio_only_cement": (
        "clinker_ratio",
        lambda d: (d["product"] == "cement") | d["clinker_ratio"].isna(),
    ),
    "scrap_share_only_steel": (
        "scrap_share",
        lambda d: (d["sector"] == "iron_steel") | d["scrap_share"].isna(),
    ),
    "anode_only_aluminium": (
        "anode_t",
        lambda d: (d["sector"] == "aluminium") | d["anode_t"].isna(),
    ),
    "plausible_verified_intensity": (
        "verified_direct_tco2e",
        lambda d: (
            ~(d["verified_direct_tco2e"] / d["production_t"]).gt(c.PLAUSIBLE_INTENSITY_RANGE[1])
        ),
    ),
}

_FRAME_REASONS = {
    "product_in_sector": "product does not belong to the record's sector",
    "route_in_sector": "route does not belong to the record's sector",
    "clinker_ratio_required": "required for product 'cement'",
    "clinker_ratio_only_cement": "only allowed for product 'cement'",
    "scrap_share_only_steel": "only allowed for sector 'iron_steel'",
    "anode_only_aluminium": "only allowed for sector 'aluminium'",
    "plausible_verified_intensity": (
        "implausible: verified_direct_tco2e / production_t is above "
        f"{c.PLAUSIBLE_INTENSITY_RANGE[1]:g} tCO2e/t (likely a unit error)"
    ),
}

RULES = pa.DataFrameSchema(
    {
        "record_id": _col(
            "string",
            pa.Check.str_matches(c.ID_PATTERN, error=_ID_REASON),
            required=True,
        ),
        "facility_id": _col(
            "string", pa.Check.str_matches(c.ID_PATTERN, error=_ID_REASON), required=True
        ),
        "jurisdiction": _col(
            "string",
            pa.Check.isin(
                sorted(ISO_ALPHA2), error="must be an ISO 3166-1 alpha-2 code, upper case"
            ),
            required=True,
        ),
        "year": _col(
            "Int64",
            pa.Check.in_range(
                *c.YEAR_RANGE, error=f"must be between {c.YEAR_RANGE[0]} and {c.YEAR_RANGE[1]}"
            ),
            required=True,
        ),
        "sector": _col(
            "string",
            pa.Check.isin(
                c.SECTORS, error="unknown sector; expected one of " + ", ".join(c.SECTORS)
            ),
            required=True,
        ),
        "product": _col(
            "string",
            pa.Check.isin(
                c.PRODUCTS, error="unknown product; expected one of " + ", ".join(c.PRODUCTS)
            ),
            required=True,
        ),
        "route": _col(
            "string",
            pa.Check.isin(c.ROUTES, error="unknown route; expected one of " + ", ".join(c.ROUTES)),
            required=True,
        ),
        "production_t": _col("float64", pa.Check.gt(0, error="must be > 0"), required=True),
        **{name: _col("float64", _ge0()) for name in c.ENERGY_COLUMNS},
        "clinker_ratio": _col(
            "float64",
            pa.Check.in_range(
                *c.CLINKER_RATIO_RANGE,
                error=f"must be between {c.CLINKER_RATIO_RANGE[0]} and {c.CLINKER_RATIO_RANGE[1]}",
            ),
        ),
        "scrap_share": _col("float64", pa.Check.in_range(0, 1, error="must be between 0 and 1")),
        "anode_t": _col("float64", _ge0()),
        "reported_direct_tco2e": _col("float64", _ge0()),
        "verified_direct_tco2e": _col("float64", _ge0()),
        "main_fuel": _col(
            "string",
            pa.Check.isin(
                c.MAIN_FUELS, error="unknown main_fuel; expected one of " + ", ".join(c.MAIN_FUELS)
            ),
        ),
        "verification": _col(
            "string",
            pa.Check.isin(
                c.VERIFICATION_LEVELS,
                error="unknown verification; expected one of " + ", ".join(c.VERIFICATION_LEVELS),
            ),
            required=True,
        ),
    },
    checks=[
        pa.Check(rule, name=name, error=name, ignore_na=False)
        for name, (_column, rule) in _FRAME_RULES.items()
    ],
    strict=True,
    ordered=False,
)


# --- stage 1: columns and types -------------------------------------------------------
def _check_columns(frame: pd.DataFrame, drop_extra_columns: bool) -> list[IngestProblem]:
    problems = [
        IngestProblem(None, col, "required column is missing")
        for col in c.REQUIRED_COLUMNS
        if col not in frame.columns
    ]
    dupes = frame.columns[frame.columns.duplicated()].unique()
    problems += [IngestProblem(None, col, "column appears more than once") for col in dupes]
    if not drop_extra_columns:
        known = set(c.ALL_COLUMNS)
        problems += [
            IngestProblem(
                None,
                col,
                "unknown column (not in the data contract); "
                "use --drop-extra-columns to drop it explicitly",
            )
            for col in frame.columns
            if col not in known
        ]
    return problems


def _parse_types(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[IngestProblem]]:
    """Typed copy of ``frame`` with every optional column present; bad cells become NaN."""
    problems: list[IngestProblem] = []
    n = len(frame)
    typed: dict[str, pd.Series] = {}
    has_fuel_breakdown = any(col in frame.columns for col in c.FUEL_COLUMNS)
    for col in c.ALL_COLUMNS:
        if col not in frame.columns:
            typed[col] = _absent_column(col, n, has_fuel_breakdown)
            continue
        raw = frame[col]
        if col in _TEXT_COLUMNS:
            typed[col] = _text(raw)
            continue
        if raw.dtype.kind in "fiub":
            number = raw.astype("float64")
        else:
            number = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
            number = number.astype("float64")
        bad = raw.notna() & ~np.isfinite(number)
        if col == "year":
            fractional = number.notna() & (number % 1 != 0)
            problems += _cell_problems(raw, fractional & ~bad, col, "must be a whole number")
            number = number.where(~fractional)
        problems += _cell_problems(raw, bad, col, "not a number")
        number = number.where(~bad)
        typed[col] = number.astype("Int64") if col == "year" else number
    out = pd.DataFrame(typed, index=frame.index)
    out["verification"] = out["verification"].fillna("none")
    return out, problems


def _absent_column(col: str, n: int, has_fuel_breakdown: bool) -> pd.Series:
    """What a column the file does not have means.

    The contract gives fuels a default of 0; we apply it only when the file states a fuel
    breakdown (has at least one fuel column). A file with no fuel column at all has not
    told us the facility burns nothing, so its fuels are "not known", as is electricity.
    """
    if col in c.FUEL_COLUMNS and has_fuel_breakdown:
        return pd.Series(np.zeros(n), dtype="float64")
    if col in _TEXT_COLUMNS:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    if col == "year":
        return pd.Series(pd.NA, index=range(n), dtype="Int64")
    return pd.Series(np.full(n, np.nan), dtype="float64")


def _cell_problems(raw: pd.Series, mask: pd.Series, col: str, reason: str) -> list[IngestProblem]:
    idx = np.flatnonzero(mask.to_numpy())
    values = raw.to_numpy()
    return [IngestProblem(int(i) + 1, col, reason, str(values[i])) for i in idx]


def _duplicate_ids(typed: pd.DataFrame) -> list[IngestProblem]:
    ids = typed["record_id"]
    mask = ids.duplicated(keep=False) & ids.notna()
    if not mask.any():
        return []
    first = ids[mask].groupby(ids[mask], sort=False).transform(lambda s: s.index[0] + 1)
    return [
        IngestProblem(
            int(i) + 1,
            "record_id",
            f"duplicate record_id in this file (first at row {int(first[i])})",
            str(ids[i]),
        )
        for i in np.flatnonzero(mask.to_numpy())
    ]


def _rule_problems(typed: pd.DataFrame) -> list[IngestProblem]:
    try:
        RULES.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _translate(exc.failure_cases)
    return []


def _translate(cases: pd.DataFrame) -> list[IngestProblem]:
    problems: list[IngestProblem] = []
    for row in cases.itertuples(index=False):
        check = str(row.check)
        if check in _FRAME_RULES:
            blamed = _FRAME_RULES[check][0]
            if row.column != blamed:
                continue  # frame-level checks report every column; keep the blamed one
            reason = _FRAME_REASONS[check]
        elif check == "not_nullable":
            reason = "required value is missing"
        else:
            reason = check
        index = None if pd.isna(row.index) else int(row.index) + 1
        value = None if pd.isna(row.failure_case) else str(row.failure_case)
        problems.append(IngestProblem(index, row.column, reason, value))
    return problems


def validate_records(
    frame: pd.DataFrame, source: str, *, drop_extra_columns: bool = False
) -> pd.DataFrame:
    """Return ``frame`` typed and in contract order, or raise naming every problem."""
    problems = _check_columns(frame, drop_extra_columns)
    if problems:
        raise IngestError(source, problems)
    if frame.empty:
        raise IngestError(source, [IngestProblem(None, None, "the file holds no records")])
    frame = frame[[col for col in frame.columns if col in c.ALL_COLUMNS]]
    typed, problems = _parse_types(frame)
    problems += _duplicate_ids(typed)
    seen = {(p.row, p.column) for p in problems}
    problems += [p for p in _rule_problems(typed) if (p.row, p.column) not in seen]
    if problems:
        raise IngestError(source, problems)
    return typed
