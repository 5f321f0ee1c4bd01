"""EU CBAM default values (IR (EU) 2025/2621) per contract product and producing jurisdiction.

Every Tier-1 figure is shown beside the default an importer would otherwise be charged, so the
gap a producer could close by reporting actual emissions is visible. Lookup rules follow the
regulation's Annex I text: a country not listed, or listed with "-" for the good, takes the row
"Other countries and territories". Producers inside the EU (and the EEA-EFTA states and
Switzerland, which are outside CBAM because they apply the EU ETS or a linked one) have no
default: ``default_value`` returns None and ``lookup`` says why. A number is never invented: a
field the table does not give is None with the reason.

Mark-up: the published defaults "including mark-up" equal total x (1 + rate), rate 10 % in 2026,
20 % in 2027 and 30 % from 2028 on, and 1 % every year for fertilisers (ammonia). The table's
published marked-up totals are kept and checked against that rule at import
(``check_table``). Years before 2026 (the transitional period, when 2025/2621 did not apply) get
the base value with mark-up 0, flagged in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final

from open_models.contract import PRODUCTS
from open_models.ipcc.cbam_table import CN_CODE_BY_PRODUCT, LISTED_COUNTRIES, ROWS, SOURCE
from open_models.ipcc.errors import CbamDataError

#: Mark-up rates by first year of application (IR 2025/2621, Annex I; 2028 = "2028 onwards").
MARKUP_BY_YEAR: Final[dict[int, Decimal]] = {
    2026: Decimal("0.10"),
    2027: Decimal("0.20"),
    2028: Decimal("0.30"),
}
#: Fertiliser goods carry a flat 1 % mark-up (IR 2025/2621, Annex I, fertiliser tables).
MARKUP_FERTILISER: Final = Decimal("0.01")
FIRST_DEFINITIVE_YEAR: Final = 2026

#: EU member states (Regulation (EU) 2023/956 applies to imports into the Union).
EU_MEMBERS: Final = frozenset(
    (
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT"),
        *("LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "HU"),
    )
)
#: Outside CBAM scope under Annex III of Regulation (EU) 2023/956 (EEA-EFTA and Switzerland).
CBAM_EXEMPT: Final = frozenset({"IS", "LI", "NO", "CH"})
_OTHER = "OTHER"


@dataclass(frozen=True)
class CbamDefault:
    """Default value for one good, producing country and year (tCO2e per tonne of good)."""

    product: str
    jurisdiction: str
    year: int
    cn_code: str
    direct: float
    indirect: float | None  # None: the regulation gives no indirect default for this good
    total: float
    markup_rate: float
    direct_with_markup: float
    total_with_markup: float  # published value where year >= 2026
    from_other_countries: bool
    source: str
    note: str = ""


@dataclass(frozen=True)
class CbamLookup:
    value: CbamDefault | None
    reason: str


def _d(tok: str | None) -> Decimal | None:
    return None if tok is None or tok == "NA" else Decimal(tok)


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, str], tuple[str | None, ...]]:
    check_table()
    return {(r[0], r[2]): r for r in ROWS}


def markup_rate(product: str, year: int) -> Decimal:
    """Mark-up applied to the default for a year; 0 before the definitive period."""
    if year < FIRST_DEFINITIVE_YEAR:
        return Decimal(0)
    if product == "ammonia":
        return MARKUP_FERTILISER
    return MARKUP_BY_YEAR[min(year, max(MARKUP_BY_YEAR))]


def check_table() -> list[str]:
    """Internal-consistency check of the transcribed table; raises on a real mismatch.

    direct + indirect must equal total within 0.011 (each is rounded separately to 3 decimals
    in the regulation), else the table is refused. The published marked-up value should equal
    total x (1 + mark-up) within 0.0015; rows where it does not (Angola and Argentina cement and
    clinker compound the 10 % yearly in the transcription) are returned as notes, and the lookup
    uses the schedule value for them and says so.
    """
    notes: list[str] = []
    for row in ROWS:
        a2, _country, product, _cn, direct, indirect, total = row[:7]
        d, i, t = _d(direct), _d(indirect), _d(total)
        if t is None:
            continue
        if d is not None:
            gap = abs(d + (i or 0) - t)
            if gap > Decimal("0.011"):
                raise CbamDataError(f"CBAM row {a2}/{product}: direct+indirect != total ({row})")
            if gap > 0:
                notes.append(f"{a2}/{product}: direct+indirect differs from total by {gap}")
        for year, tok in zip((2026, 2027, 2028), row[7:10], strict=True):
            published = _d(tok)
            if published is None:
                continue
            expected = t * (1 + markup_rate(product, year))
            if abs(expected - published) > Decimal("0.0015"):
                notes.append(
                    f"{a2}/{product} {year}: transcribed marked-up value {published} != "
                    f"total x (1 + {markup_rate(product, year)}) = {expected}; schedule value used"
                )
    return notes


@lru_cache(maxsize=1)
def _markup_anomalies() -> frozenset[tuple[str, str, int]]:
    out = set()
    for note in check_table():
        head, _, rest = note.partition(" ")
        if rest[:4].isdigit():
            a2, product = head.split("/")
            out.add((a2, product, int(rest[:4])))
    return frozenset(out)


def lookup(product: str, jurisdiction: str, year: int) -> CbamLookup:
    """Default value with the reason when there is none."""
    if product not in PRODUCTS:
        raise CbamDataError(f"unknown product {product!r}; expected one of {PRODUCTS}")
    code = jurisdiction.upper()
    if code in EU_MEMBERS:
        return CbamLookup(None, "EU producer: CBAM applies to imports only, no default value")
    if code in CBAM_EXEMPT:
        return CbamLookup(
            None, "outside CBAM scope (Reg. (EU) 2023/956 Annex III): no default value"
        )
    idx = _index()
    row = idx.get((code, product))
    from_other = row is None or row[4] is None
    note = ""
    if from_other:
        why = "not listed" if code not in LISTED_COUNTRIES else "listed with '-' for this good"
        note = f"{code} {why}: 'Other countries and territories' default applies"
        row = idx.get((_OTHER, product))
    if row is None or row[4] is None or row[6] is None:
        return CbamLookup(None, f"no default for {product} in IR 2025/2621 table as transcribed")
    direct, indirect, total = _d(row[4]), _d(row[5]), _d(row[6])
    assert direct is not None and total is not None
    rate = markup_rate(product, year)
    total_mu, markup_note = _total_with_markup(row, product, year, total, rate)
    note = "; ".join(filter(None, [note, markup_note]))
    value = CbamDefault(
        product=product,
        jurisdiction=code,
        year=year,
        cn_code=CN_CODE_BY_PRODUCT[product],
        direct=float(direct),
        indirect=None if indirect is None else float(indirect),
        total=float(total),
        markup_rate=float(rate),
        direct_with_markup=float(direct * (1 + rate)),
        total_with_markup=float(total_mu),
        from_other_countries=from_other,
        source=f"{SOURCE}; CN {CN_CODE_BY_PRODUCT[product]}",
        note=note,
    )
    return CbamLookup(value, note or "listed country default")


def _total_with_markup(
    row: tuple[str | None, ...], product: str, year: int, total: Decimal, rate: Decimal
) -> tuple[Decimal, str]:
    """The marked-up total for ``year`` and a note when it is not the published figure.

    The table's own marked-up column wins unless it is a known transcription anomaly;
    then the schedule's rate applies and the note says so.
    """
    if year < FIRST_DEFINITIVE_YEAR:
        return total, f"{year} precedes the definitive period: base value, no mark-up"
    published = _d(row[7 + min(year, 2028) - 2026])
    if published is None:
        return total * (1 + rate), ""
    if (str(row[0]), product, min(year, 2028)) not in _markup_anomalies():
        return published, ""
    note = f"transcribed marked-up {published} disagrees with schedule (unverified)"
    return total * (1 + rate), note


def default_value(product: str, jurisdiction: str, year: int) -> CbamDefault | None:
    """The default for (product, producing jurisdiction, year), mark-up applied; None if none."""
    return lookup(product, jurisdiction, year).value
