"""From attested sums to published benchmarks, and the round terms every party agrees on.

Pure post-processing of a differentially private release, so suppression decisions and
percentiles cost no privacy. The same function runs at the coordinator (to publish) and in
``gcdt-audit verify-benchmark`` (to recompute what was published from the attested sums).

**Noise.** A round fixes ``noise_multiplier`` z (relative to the vector's L2 sensitivity
``SENSITIVITY``), ``noise_shares`` n and ``curious`` c. Each node adds
N(0, (z*S)^2 / (n - c)) to every coordinate of its normalised vector, so the shares of any
n - c honest contributors alone sum to N(0, (z*S)^2) — the Gaussian mechanism each node's
ledger is charged for — even after c curious contributors (or key holders that are
contributors) subtract their own shares from the decrypted sum. The coordinator decrypts
only when at least n nodes submitted (more shares only add noise), so dropouts never leave
less noise than charged. (Sizing shares for n alone left sigma*sqrt((n-1)/n) against one
curious peer: epsilon 2 became 2.93 for n = 2, issue 14.)

**Unit.** ``S`` bounds one facility in one cell. Under the facility privacy unit a
facility keeps at most one cell per year, so its L2 sensitivity over the round is
``S * sqrt(len(years))`` (:meth:`RoundTerms.sensitivity`); ``z`` is stated relative to
``S``, and what a node is charged is ``sigma_total`` against its unit's sensitivity.

**Suppression (invariant 4).** Counts are learned only after decryption, and only as
noisy sums. A cell is published only if its noisy facility count is at least
``k + K_MARGIN_SIGMAS * sigma`` and its noisy contributing-node count at least
``m - 0.5`` (the nearest integer is >= m); the coordinator separately refuses to decrypt
a round with fewer than ``m`` submitting nodes. The margin makes the chance that a cell
with fewer than ``k`` true facilities passes below Phi(-2) = 2.3 %, and deciding on noisy
values (not true ones) keeps the decision itself differentially private. A suppressed
cell is published and logged only as a marker, never with values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from open_models.benchmark_cells import (
    HISTOGRAM_FIELDS,
    SECTOR_BOUNDS,
    SENSITIVITY,
    CatalogueError,
    Cell,
    CellCatalogue,
)

#: How many noise standard deviations the facility count must clear above ``k``.
K_MARGIN_SIGMAS: Final = 2.0
#: Percentiles published per cell, read off the noisy histogram.
PERCENTILES: Final = (10, 25, 50, 75, 90)
#: Published counts are rounded to this multiple (they are noisy anyway).
COUNT_ROUNDING: Final = 5


@dataclass(frozen=True)
class RoundTerms:
    """What every node and the coordinator must agree on for one statistics round."""

    round_id: int
    years: tuple[int, ...]
    noise_multiplier: float
    noise_shares: int
    key_id: str
    epsilon: float
    delta: float
    k: int
    m: int
    #: Contributors that may subtract their own share (the policy's t - 1, at least 1).
    curious: int = 1

    def __post_init__(self) -> None:
        if type(self.curious) is not int or not 1 <= self.curious < self.noise_shares:
            raise CatalogueError(
                f"curious must be an integer with 1 <= curious < noise_shares "
                f"({self.noise_shares}), got {self.curious!r}"
            )
        if type(self.round_id) is not int or self.round_id < 0:
            raise CatalogueError(f"round_id must be a natural number, got {self.round_id!r}")
        if not (math.isfinite(self.noise_multiplier) and self.noise_multiplier > 0):
            raise CatalogueError(f"noise_multiplier must be > 0, got {self.noise_multiplier!r}")
        if type(self.noise_shares) is not int or self.noise_shares < 1:
            raise CatalogueError(f"noise_shares must be an integer >= 1, got {self.noise_shares!r}")
        if type(self.k) is not int or self.k < 1 or type(self.m) is not int or self.m < 1:
            raise CatalogueError(f"k and m must be integers >= 1, got {self.k!r}, {self.m!r}")
        CellCatalogue(tuple(self.years))

    @property
    def subject_id(self) -> str:
        """What key holders attest: this round's summed statistics vector."""
        return f"statistics/round-{self.round_id}"

    @property
    def catalogue(self) -> CellCatalogue:
        return CellCatalogue(tuple(self.years))

    @property
    def sigma_total(self) -> float:
        """Noise standard deviation of the summed vector, in normalised units."""
        return self.noise_multiplier * SENSITIVITY

    @property
    def sigma_node(self) -> float:
        """Each node's share: sigma_total / sqrt(noise_shares - curious), so any
        ``noise_shares - curious`` honest shares alone carry ``sigma_total``."""
        return self.sigma_total / math.sqrt(self.noise_shares - self.curious)

    def sensitivity(self, unit: str) -> float:
        """L2 sensitivity of one privacy unit's contribution to this round's vector."""
        if unit == "facility":
            return SENSITIVITY * math.sqrt(len(self.years))
        if unit == "record":
            return SENSITIVITY
        raise CatalogueError(f"unknown privacy unit {unit!r}; expected 'facility' or 'record'")

    def to_dict(self) -> dict[str, Any]:
        return {
            "round_id": self.round_id,
            "years": list(self.years),
            "noise_multiplier": self.noise_multiplier,
            "noise_shares": self.noise_shares,
            "key_id": self.key_id,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "k": self.k,
            "m": self.m,
            "curious": self.curious,
            "catalogue_id": self.catalogue.catalogue_id(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundTerms:
        try:
            terms = cls(
                round_id=int(data["round_id"]),
                years=tuple(int(y) for y in data["years"]),
                noise_multiplier=float(data["noise_multiplier"]),
                noise_shares=int(data["noise_shares"]),
                key_id=str(data["key_id"]),
                epsilon=float(data["epsilon"]),
                delta=float(data["delta"]),
                k=int(data["k"]),
                m=int(data["m"]),
                curious=int(data.get("curious", 1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CatalogueError):
                raise
            raise CatalogueError(f"malformed round terms: {exc}") from exc
        claimed = data.get("catalogue_id")
        if claimed is not None and claimed != terms.catalogue.catalogue_id():
            raise CatalogueError(
                f"round names catalogue {claimed}, this software's layout is "
                f"{terms.catalogue.catalogue_id()} (bounds or cells differ)"
            )
        return terms


def _round_count(value: float) -> int:
    return int(COUNT_ROUNDING * round(max(value, 0.0) / COUNT_ROUNDING))


def histogram_percentiles(
    edges: Sequence[float], counts: Sequence[float]
) -> dict[str, float | None]:
    """Percentiles by linear interpolation inside bins; negative noisy counts count as 0."""
    mass = [max(float(c), 0.0) for c in counts]
    total = sum(mass)
    out: dict[str, float | None] = {}
    for p in PERCENTILES:
        if total <= 0:
            out[f"p{p}"] = None
            continue
        target, cumulative = total * p / 100.0, 0.0
        value = edges[-1]
        for i, c in enumerate(mass):
            if c > 0 and cumulative + c >= target:
                value = edges[i] + (edges[i + 1] - edges[i]) * (target - cumulative) / c
                break
            cumulative += c
        out[f"p{p}"] = round(value, 6)
    return out


def cbam_default_direct(product: str, year: int) -> float | None:
    """The CBAM direct default for a cell: the 'Other countries and territories' row.

    A benchmark pools jurisdictions, so it is set beside the default an importer from an
    unlisted country would be charged. ``ZZ`` is ISO 3166's user-assigned code, never a
    listed country, so the lookup falls to that row (``open_models.ipcc.cbam``).
    """
    from open_models.ipcc.cbam import default_value

    value = default_value(product, "ZZ", year)
    return None if value is None else value.direct_with_markup


def suppression_reasons(terms: RoundTerms, values: Sequence[float]) -> list[str | None]:
    """Per catalogue cell: why it is suppressed, or None when it may be published."""
    sigma = terms.sigma_total
    per_cell = terms.catalogue.unpack(values)
    out: list[str | None] = []
    for cell in terms.catalogue.cells:
        v = per_cell[cell]
        reasons = []
        if v["facilities"] < terms.k + K_MARGIN_SIGMAS * sigma:
            reasons.append(
                f"fewer than k={terms.k} facilities (with a {K_MARGIN_SIGMAS:g}-sigma margin)"
            )
        if v["nodes"] < terms.m - 0.5:
            reasons.append(f"fewer than m={terms.m} contributing nodes")
        if v["production_t"] <= 0 or v["direct_tco2e"] < 0:
            reasons.append("noisy totals not positive")
        out.append("; ".join(reasons) or None)
    return out


def mask_suppressed(terms: RoundTerms, values: Sequence[float]) -> list[float]:
    """``values`` with every coordinate of a suppressed cell set to 0.

    Key holders apply this *before* they sign (``trust_node.statistics.attest``), so a
    suppressed cell's values never leave a key holder: not to the coordinator, not into
    the log. Deterministic, so honest key holders still sign identical vectors.
    """
    width = terms.catalogue.width
    out = [float(v) for v in values]
    for i, reason in enumerate(suppression_reasons(terms, values)):
        if reason is not None:
            out[i * width : (i + 1) * width] = [0.0] * width
    return out


def derive_benchmarks(terms: RoundTerms, values: Sequence[float]) -> list[dict[str, Any]]:
    """One entry per catalogue cell: published figures, or a suppression marker only."""
    catalogue = terms.catalogue
    per_cell = catalogue.unpack(values)
    reasons = suppression_reasons(terms, values)
    return [
        _cell_benchmark(cell, per_cell[cell], reason)
        for cell, reason in zip(catalogue.cells, reasons, strict=True)
    ]


def _cell_benchmark(cell: Cell, v: Mapping[str, float], reason: str | None) -> dict[str, Any]:
    sector, product, route, year = cell
    head: dict[str, Any] = {"sector": sector, "product": product, "route": route, "year": year}
    if reason is not None:
        return {**head, "suppressed": True, "reason": reason}
    edges = SECTOR_BOUNDS[sector].bin_edges()
    counts = [v[name] for name in HISTOGRAM_FIELDS]
    energy = (
        round(v["energy_tj"] / v["energy_production_t"], 8)
        if v["energy_production_t"] > 0 and v["energy_tj"] >= 0
        else None
    )
    cbam = cbam_default_direct(product, year)
    return {
        **head,
        "suppressed": False,
        "intensity_tco2e_per_t": round(v["direct_tco2e"] / v["production_t"], 6),
        "energy_tj_per_t": energy,
        **histogram_percentiles(edges, counts),
        "facilities_rounded": _round_count(v["facilities"]),
        "production_t_rounded": float(round(v["production_t"], -3)),
        "bin_edges": list(edges),
        "cbam_default_direct_tco2e_per_t": None if cbam is None else round(cbam, 6),
    }


__all__ = [
    "COUNT_ROUNDING",
    "K_MARGIN_SIGMAS",
    "PERCENTILES",
    "RoundTerms",
    "cbam_default_direct",
    "derive_benchmarks",
    "histogram_percentiles",
    "mask_suppressed",
    "suppression_reasons",
]
