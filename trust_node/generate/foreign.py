"""A second, independent record generator, so the open models are never tuned to one world.

Why: the open models are developed against ``trust_node.generate.generator``; a model (or a
hyper-parameter) that only looks good there is tuned to its assumptions. This generator
shares no code or constants with it beyond the data contract and the IPCC fuel factors:
facility physics is a carbon mass balance with route-typical energy use, fuel-specific
carbon oxidation that differs from the IPCC roles, per-jurisdiction coal quality, fuel
breakdowns missing by facility, and an optional ``main_fuel`` column (DATA_CONTRACT.md).

``unfriendly=True`` makes the world deliberately hostile to the project's models (issue 16):
heavy-tailed plant efficiencies (Student t, 3 degrees of freedom), 1 % outliers whose
emissions no column explains, non-linear fuel effects (carbon oxidation rising with fuel
use per tonne), the last jurisdiction given a tenth of the records, and a few percent of
"third_party" verified figures that are really self-declarations (biased low).

Every constant below is a modelling assumption of this synthetic world (stated as such),
chosen to be of the magnitude the cited public sources report, never fitted to anything.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from open_models.contract import ALL_COLUMNS
from open_models.ipcc.factors import FUEL_FACTORS
from trust_node.generate.errors import GenerateError
from trust_node.generate.generator import GeneratedData

FOSSIL: Final = ("coal_tj", "coke_tj", "natural_gas_tj", "oil_tj")
_EF: Final = np.array([FUEL_FACTORS[c].value for c in FOSSIL]) / 1000.0  # t CO2 / GJ
MAIN_FUEL_COLUMN: Final = "main_fuel"

# (sector, route, product, share of facilities, GJ/t of coal, coke, gas, oil,
#  MWh/t electricity, process t CO2/t, oxidised share of coal+coke carbon).
# Magnitudes of IEA technology roadmaps (iron and steel 2020, cement 2018, ammonia 2021,
# The Future of Hydrogen 2019); modelling assumptions of this world.
_KINDS: Final = (
    ("iron_steel", "bf_bof", "crude_steel", 0.13, 5.0, 11.0, 1.5, 0.4, 0.12, 0.06, 0.88),
    ("iron_steel", "dri_eaf", "crude_steel", 0.05, 0.0, 0.2, 10.5, 0.2, 0.65, 0.05, 0.95),
    ("iron_steel", "scrap_eaf", "crude_steel", 0.09, 0.35, 0.1, 1.3, 0.1, 0.48, 0.04, 0.95),
    ("cement", "dry_kiln", "clinker", 0.10, 2.6, 0.0, 0.4, 0.4, 0.09, 0.53, 0.99),
    ("cement", "dry_kiln", "cement", 0.12, 2.6, 0.0, 0.4, 0.4, 0.09, 0.53, 0.99),
    ("cement", "wet_kiln", "clinker", 0.05, 4.4, 0.0, 0.6, 0.8, 0.07, 0.53, 0.99),
    ("aluminium", "prebake", "primary_aluminium", 0.08, 0.0, 0.0, 2.5, 0.3, 14.5, 1.55, 1.0),
    ("aluminium", "soderberg", "primary_aluminium", 0.03, 0.0, 0.0, 1.8, 0.4, 15.5, 1.75, 1.0),
    ("fertilisers", "smr_gas", "ammonia", 0.10, 0.0, 0.0, 33.0, 0.0, 0.1, 0.0, 1.0),
    ("fertilisers", "coal_gasification", "ammonia", 0.05, 40.0, 0.0, 2.0, 0.0, 0.3, 0.0, 0.97),
    ("hydrogen", "smr_gas", "hydrogen", 0.10, 0.0, 0.0, 160.0, 0.0, 1.0, 0.0, 1.0),
    ("hydrogen", "coal_gasification", "hydrogen", 0.04, 205.0, 0.0, 5.0, 0.0, 3.0, 0.0, 0.97),
    ("hydrogen", "electrolysis", "hydrogen", 0.06, 0.0, 0.0, 0.5, 0.0, 54.0, 0.0, 1.0),
)
#: Share of DRI plants on coal instead of gas (India-style rotary kilns): the case no
#: column but the fuels or ``main_fuel`` reveals.
DRI_COAL_SHARE: Final = 0.3
#: Facility-level log-sd of energy efficiency; the unfriendly world uses t(3) draws.
EFFICIENCY_SD: Final = 0.08
RECORD_SD: Final = 0.03
UNEXPLAINED_SD: Final = 0.03
#: Chance a facility files a fuel breakdown (per jurisdiction, drawn in this range).
FUELS_KNOWN_RANGE: Final = (0.6, 0.9)
MAIN_FUEL_KNOWN: Final = 0.85
VERIFIED_RANGE: Final = (0.45, 0.8)
THIRD_PARTY_SD: Final = 0.025
DECLARED_SHARE: Final = 0.7
#: Unfriendly world: outlier share and size, mislabelled verification share and its bias.
OUTLIER_SHARE: Final = 0.01
OUTLIER_FACTOR: Final = (1.6, 3.0)
MISLABELLED_SHARE: Final = 0.04
MISLABELLED_BIAS: Final = (0.75, 0.92)
YEARS: Final = tuple(range(2019, 2025))


def _facilities(rng: np.random.Generator, n: int, unfriendly: bool) -> dict[str, np.ndarray]:
    shares = np.array([k[3] for k in _KINDS])
    kind = rng.choice(len(_KINDS), size=n, p=shares / shares.sum())
    if unfriendly:
        eff = np.clip(rng.standard_t(3, size=n) * EFFICIENCY_SD * 1.5, -0.6, 1.2)
    else:
        eff = np.clip(rng.standard_normal(n), -3, 3) * EFFICIENCY_SD
    return {
        "kind": kind,
        "efficiency": np.exp(eff),
        "capacity": np.exp(rng.normal(np.log(400_000), 0.8, size=n)),
        "mix": rng.dirichlet(np.full(4, 2.0), size=n),
        "dri_coal": rng.random(n) < DRI_COAL_SHARE,
        "clinker_ratio": rng.uniform(0.62, 0.95, size=n),
        "scrap": rng.uniform(0.0, 0.3, size=n),
        "anode": rng.uniform(0.40, 0.52, size=n),
        "bias": rng.normal(0.06, 0.05, size=n),
    }


def _fuels_gj_per_t(fac: dict[str, np.ndarray], f: np.ndarray) -> np.ndarray:
    """Per-tonne energy of coal, coke, gas, oil (GJ/t), with each facility's own mix."""
    base = np.array([k[4:8] for k in _KINDS], dtype=float)[fac["kind"][f]]
    kind_names = np.array([k[1] for k in _KINDS])[fac["kind"][f]]
    # Cement kilns burn a facility-specific mix of coal, gas and oil (same total heat).
    sectors = np.array([k[0] for k in _KINDS])[fac["kind"][f]]
    cement = sectors == "cement"
    heat = base.sum(axis=1, keepdims=True)
    mix = fac["mix"][f] * np.array([1.0, 0.0, 1.0, 1.0])
    mix = mix / mix.sum(axis=1, keepdims=True)
    base = np.where(cement[:, None], heat * mix, base)
    dri_coal = (kind_names == "dri_eaf") & fac["dri_coal"][f]
    coal_dri = np.array([15.0, 0.2, 1.0, 0.2])  # coal-based DRI: GJ/t (IEA 2020 magnitude)
    base = np.where(dri_coal[:, None], coal_dri, base)
    out: np.ndarray = base * fac["efficiency"][f][:, None]
    return out


def _simulate(code: str, n: int, seed: int, unfriendly: bool) -> pd.DataFrame:
    rng = np.random.default_rng([seed, zlib.crc32(code.encode()), int(unfriendly)])
    n_fac = max(2, int(np.ceil(n / 4)))
    fac = _facilities(rng, n_fac, unfriendly)
    f = rng.integers(0, n_fac, size=n)
    year = rng.choice(YEARS, size=n)
    kinds = fac["kind"][f]
    meta = np.array(_KINDS, dtype=object)[kinds]
    production = fac["capacity"][f] * rng.uniform(0.6, 1.0, size=n)
    clinker = np.where(meta[:, 2] == "cement", fac["clinker_ratio"][f], 1.0)
    scale = clinker * np.exp(rng.normal(0, RECORD_SD, size=n))
    fuels = _fuels_gj_per_t(fac, f) * scale[:, None]  # GJ/t product
    coal_quality = 1.0 + 0.04 * np.sin(zlib.crc32(code.encode()) % 7)  # per jurisdiction
    ef = _EF * np.array([coal_quality, 1.0, 1.0, 1.0])
    oxidised = np.column_stack([meta[:, 10], meta[:, 10], np.ones(n), np.ones(n)]).astype(float)
    if unfriendly:
        per_t = fuels.sum(axis=1, keepdims=True)
        ref = np.array([sum(k[4:8]) for k in _KINDS])[kinds][:, None] + 1e-9
        oxidised = oxidised * (1.0 + 0.15 * (per_t / ref - 1.0) ** 2)
    direct_t = (fuels * ef * oxidised).sum(axis=1)
    process = meta[:, 9].astype(float) * scale
    anode_t = np.where(meta[:, 0] == "aluminium", fac["anode"][f], np.nan)
    process = np.where(meta[:, 0] == "aluminium", anode_t * 3.62 * (0.9 + 0.1 * scale), process)
    steel = meta[:, 0] == "iron_steel"
    scrap = np.where(steel, fac["scrap"][f], np.nan)
    bf = meta[:, 1] == "bf_bof"
    direct_t = np.where(bf, direct_t * (1.0 - 0.8 * np.nan_to_num(scrap)), direct_t)
    truth_t = (direct_t + process) * np.exp(rng.normal(0, UNEXPLAINED_SD, size=n))
    if unfriendly:
        out = rng.random(n) < OUTLIER_SHARE
        truth_t = np.where(out, truth_t * rng.uniform(*OUTLIER_FACTOR, size=n), truth_t)
    truth_t = np.clip(truth_t, 0.002, 29.0)
    elec = np.array([k[8] for k in _KINDS], dtype=float)[kinds] * fac["efficiency"][f] * scale
    return _records(code, rng, fac, f, year, meta, production, fuels, elec, truth_t, unfriendly)


def _main_fuel(fuels: np.ndarray, elec_gj: np.ndarray) -> np.ndarray:
    names = np.array(["coal", "coke", "natural_gas", "oil", "electricity"], dtype=object)
    out: np.ndarray = names[np.argmax(np.column_stack([fuels, elec_gj]), axis=1)]
    return out


def _records(
    code: str,
    rng: np.random.Generator,
    fac: dict[str, np.ndarray],
    f: np.ndarray,
    year: np.ndarray,
    meta: np.ndarray,
    production: np.ndarray,
    fuels: np.ndarray,
    elec: np.ndarray,
    truth_t: np.ndarray,
    unfriendly: bool,
) -> pd.DataFrame:
    n = len(f)
    fuels_known = rng.random(len(fac["kind"])) < rng.uniform(*FUELS_KNOWN_RANGE)
    known = fuels_known[f]
    filed = fuels * np.exp(rng.normal(0, 0.015, size=fuels.shape)) * production[:, None] / 1000
    filed = np.where(known[:, None], filed, np.nan)  # TJ; empty = not known
    main = _main_fuel(fuels, elec * 3.6 / 2.5)  # electricity at 40 % thermal equivalence
    main = np.where(rng.random(n) < MAIN_FUEL_KNOWN, main, np.array(None, dtype=object))
    verified = rng.random(n) < rng.uniform(*VERIFIED_RANGE)
    labels = truth_t * np.exp(rng.normal(0, THIRD_PARTY_SD, size=n))
    declared = truth_t * (1.0 - fac["bias"][f])
    if unfriendly:
        wrong = verified & (rng.random(n) < MISLABELLED_SHARE)
        labels = np.where(wrong, truth_t * rng.uniform(*MISLABELLED_BIAS, size=n), labels)
    reported = rng.random(n) < DECLARED_SHARE
    fid = np.array([f"{code}-X{i:05d}" for i in range(len(fac["kind"]))], dtype=object)[f]
    product = meta[:, 2].astype(str)
    frame = pd.DataFrame(
        {
            "record_id": [f"{a}-{y}-{p}" for a, y, p in zip(fid, year, product, strict=True)],
            "facility_id": fid.astype(str),
            "jurisdiction": code,
            "year": year.astype(np.int64),
            "sector": meta[:, 0].astype(str),
            "product": product,
            "route": meta[:, 1].astype(str),
            "production_t": production,
            **{c: filed[:, i] for i, c in enumerate(FOSSIL)},
            "biomass_tj": np.where(known, 0.0, np.nan),
            "electricity_mwh": elec * production,
            "clinker_ratio": np.where(product == "cement", fac["clinker_ratio"][f], np.nan),
            "scrap_share": np.where(meta[:, 0] == "iron_steel", fac["scrap"][f], np.nan),
            "anode_t": np.where(meta[:, 0] == "aluminium", fac["anode"][f] * production, np.nan),
            "reported_direct_tco2e": np.where(reported, declared * production, np.nan),
            "verified_direct_tco2e": np.where(verified, labels * production, np.nan),
            "verification": np.where(verified, "third_party", "none"),
            MAIN_FUEL_COLUMN: pd.Series(main, dtype=object),
            "_truth": truth_t,
        }
    )
    return frame.drop_duplicates("record_id").reset_index(drop=True)


def generate_foreign(
    jurisdictions: Sequence[str] = ("CN", "IN", "DE", "US", "BR"),
    records: int = 600,
    seed: int = 0,
    *,
    unfriendly: bool = False,
) -> GeneratedData:
    """``records`` rows per jurisdiction (the last gets a tenth when ``unfriendly``).

    ``records`` keeps the contract columns plus ``main_fuel``; ``truth`` is hidden truth.
    """
    if isinstance(records, bool) or not isinstance(records, int) or records < 10:
        raise GenerateError(f"records: need a whole number >= 10 per jurisdiction, got {records!r}")
    codes = [str(c) for c in jurisdictions]
    if not codes or len(set(codes)) != len(codes):
        raise GenerateError(f"jurisdictions must be distinct and non-empty, got {codes!r}")
    parts = []
    for i, code in enumerate(codes):
        n = records // 10 if unfriendly and i == len(codes) - 1 and len(codes) > 1 else records
        # Draw a quarter more and drop duplicate facility-years, as registers have gaps.
        parts.append(_simulate(code, int(n * 1.6), seed, unfriendly).iloc[:n])
    out = pd.concat(parts, ignore_index=True)
    truth_t = out["_truth"].to_numpy(dtype=float)
    records_frame = out[list(ALL_COLUMNS)]
    truth = pd.DataFrame(
        {
            "record_id": out["record_id"],
            "true_direct_tco2e": truth_t * out["production_t"].to_numpy(),
            "true_intensity_tco2e_per_t": truth_t,
        }
    )
    return GeneratedData(records=records_frame, truth=truth, profiles=(), seed=seed)


__all__ = ["MAIN_FUEL_COLUMN", "generate_foreign"]
