"""The sufficient-statistics model against Tier-1, CBAM and itself, in one run that cannot flatter.

    .venv/bin/python bench/linear.py [--seeds 3] [--draws 5] [--records 600]
        [--test-records 5000] [--epsilon 5] [--unit facility]
        [--datasets project,foreign,unfriendly] [--out DIR]

Per data set (the project's generator, an independent one, and its unfriendly mode) and
seed: one large draw per jurisdiction, split by facility into training (``--records``
per jurisdiction, the nodes) and a fresh test set (``--test-records``); the training
facilities are split again 75/25 into fit and validation, and the ridge is chosen on the
validation labels (verified figures, never the truth, never the test split). Then
``--draws`` independent noise draws of the full two-release federation (every release
charged to a real ledger account of its node at ``--epsilon``, facility-level by default)
are scored against the hidden truth of the test records, beside:

- the same family fitted centrally without noise (its own ridge, chosen the same way):
  federated DP / centralized, mean and p90 over seeds x draws;
- the same family fitted on the truth of the test records themselves, noiseless (the
  attainable floor of the family), per jurisdiction;
- IPCC Tier-1 and the CBAM default, on common records; split by fuels known / no fuel
  data, by sector, on a fuel-masked copy of every test record, and (where the generator
  files it) with and without ``main_fuel``;
- coverage of the 90 % interval against truth, overall, by fuel status and by sector, with
  the mean relative width.

Every target of issue 16 is printed with MET or MISSED; nothing is left out for missing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.ckks import CkksKey, encrypt
from governance.privacy import Budget, InMemoryLedgerStore, LedgerAccount, PrivacyLedger
from open_models.evaluation import baseline_estimates
from open_models.linear.basis import FOSSIL, Basis
from open_models.linear.federate import federate
from open_models.linear.model import LinearModel, fit, predict
from open_models.linear.statistics import (
    calibration_length,
    labelled,
    local_statistics,
    statistics_length,
)
from trust_node.generate import generate
from trust_node.generate.foreign import generate_foreign

CODES = ("CN", "IN", "DE", "US", "BR")
DELTA = 1e-5
PERIOD = "2026"
RIDGES = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
CENTRAL_RIDGES = (0.25, 1.0, 4.0, 16.0)


def draw(name: str, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Records and true intensities of data set ``name``."""
    if name == "project":
        data = generate(list(CODES), records=n, seed=seed)
    else:
        data = generate_foreign(CODES, n, seed, unfriendly=name == "unfriendly")
    truth = data.truth.set_index("record_id").loc[data.records["record_id"]]
    return data.records.reset_index(drop=True), truth["true_intensity_tco2e_per_t"].to_numpy()


def split_facilities(records: pd.DataFrame, share: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask: the records of a random ``share`` of each jurisdiction's facilities."""
    facilities = records["facility_id"].unique()
    u = pd.Series(rng.random(len(facilities)), index=facilities)
    mask: np.ndarray = (records["facility_id"].map(u) < share).to_numpy()
    return mask


def accounts(epsilon: float) -> dict[str, LedgerAccount]:
    ledger = PrivacyLedger(InMemoryLedgerStore())
    return {c: LedgerAccount(ledger, c, PERIOD, Budget(epsilon, DELTA)) for c in CODES}


def nodes_of(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {c: records[records["jurisdiction"] == c] for c in CODES}


def verified_mae(model: LinearModel, records: pd.DataFrame) -> float:
    rows = labelled(records)
    y = rows["verified_direct_tco2e"].to_numpy(float) / rows["production_t"].to_numpy(float)
    return float(np.abs(predict(model, rows)["estimate_tco2e_per_t"].to_numpy() - y).mean())


def choose(options: tuple[float, ...], score: Callable[[float], float]) -> float:
    scored = {r: score(r) for r in options}
    return min(scored, key=lambda r: scored[r])


@dataclass
class Seeded:
    """One seed's data and choices."""

    train: pd.DataFrame
    test: pd.DataFrame
    truth: np.ndarray
    ridge: float
    central: LinearModel
    floor: LinearModel


def prepare(args: argparse.Namespace, name: str, seed: int, basis: Basis) -> Seeded:
    records, truth = draw(name, args.records + args.test_records, seed)
    rng = np.random.default_rng(seed)
    in_train = split_facilities(records, args.records / (args.records + args.test_records), rng)
    train = records[in_train].reset_index(drop=True)
    fit_part = split_facilities(train, 0.75, rng)
    fit_rows, val_rows = train[fit_part], train[~fit_part]

    def dp_score(ridge: float) -> float:
        out = []
        for k in range(2):
            f = federate(
                nodes_of(fit_rows),
                accounts(args.epsilon),
                basis,
                rng=np.random.default_rng([seed, k, 99]),
                ridge=ridge,
                unit=args.unit,
            )
            out.append(verified_mae(f.model, val_rows))
        return float(np.mean(out))

    ridge = choose(RIDGES, dp_score)
    pooled = local_statistics(fit_rows, basis, args.unit)
    c_ridge = choose(CENTRAL_RIDGES, lambda r: verified_mae(fit(pooled, basis, r), val_rows))
    central = fit(local_statistics(train, basis, args.unit), basis, c_ridge)
    test = records[~in_train].reset_index(drop=True)
    test_truth = truth[~in_train]
    truth_labelled = test.assign(
        verified_direct_tco2e=test_truth * test["production_t"].to_numpy(float)
    )
    floor = fit(local_statistics(truth_labelled, basis, "record"), basis, 0.25)
    return Seeded(train, test, test_truth, ridge, central, floor)


def mae(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    ok = mask & ~np.isnan(pred)
    return float(np.abs(pred[ok] - truth[ok]).mean()) if ok.any() else math.nan


def masked_copy(records: pd.DataFrame) -> pd.DataFrame:
    return records.assign(**{c: np.nan for c in FOSSIL}, biomass_tj=np.nan)


def score(s: Seeded, model: LinearModel) -> dict[str, Any]:
    """Every measurement of one fitted model on the seed's test records."""
    t, rec = s.truth, s.test
    production = rec["production_t"].to_numpy(float)
    base = baseline_estimates(rec)
    tier1, cbam = base["tier1"] / production, base["cbam_default"] / production
    out = predict(model, rec)
    est = out["estimate_tco2e_per_t"].to_numpy()
    central = predict(s.central, rec)["estimate_tco2e_per_t"].to_numpy()
    known = out["fuel_status"].to_numpy() == "fuels_known"
    has_t1, has_both = ~np.isnan(tier1), ~np.isnan(tier1) & ~np.isnan(cbam)
    low, high = out["low_tco2e_per_t"].to_numpy(), out["high_tco2e_per_t"].to_numpy()
    cov = (low <= t) & (t <= high)
    width = (high - low) / np.maximum(est, 0.05)
    m_rec = masked_copy(rec)
    m_t1 = baseline_estimates(m_rec)["tier1"] / production
    m_est = predict(model, m_rec)["estimate_tco2e_per_t"].to_numpy()
    row: dict[str, Any] = {
        "fed_over_central": mae(est, t, has_t1) / mae(central, t, has_t1),
        "model_over_tier1": mae(est, t, has_t1) / mae(tier1, t, has_t1),
        "model_over_cbam": mae(est, t, has_both) / mae(cbam, t, has_both),
        "mae_model": mae(est, t, has_t1),
        "mae_tier1": mae(tier1, t, has_t1),
        "mae_cbam_common": mae(cbam, t, has_both),
        "known_over_tier1": mae(est, t, has_t1 & known) / mae(tier1, t, has_t1 & known),
        "no_fuel_over_tier1": mae(est, t, has_t1 & ~known) / mae(tier1, t, has_t1 & ~known),
        "masked_over_tier1": mae(m_est, t, ~np.isnan(m_t1)) / mae(m_t1, t, ~np.isnan(m_t1)),
        "coverage": float(cov.mean()),
        "coverage_known": float(cov[known].mean()),
        "coverage_no_fuel": float(cov[~known].mean()) if (~known).any() else math.nan,
        "relative_width": float(np.median(width)),
    }
    if "main_fuel" in rec.columns:
        no_main = predict(model, rec.drop(columns=["main_fuel"]))["estimate_tco2e_per_t"]
        row["no_fuel_over_tier1_without_main_fuel"] = mae(
            no_main.to_numpy(), t, has_t1 & ~known
        ) / mae(tier1, t, has_t1 & ~known)
    floor = predict(s.floor, rec)["estimate_tco2e_per_t"].to_numpy()
    for sector in sorted(rec["sector"].unique()):
        sec = (rec["sector"] == sector).to_numpy()
        row[f"sector_{sector}_over_tier1"] = mae(est, t, sec & has_t1) / mae(tier1, t, sec & has_t1)
        row[f"sector_{sector}_coverage"] = float(cov[sec].mean())
    for code in CODES:
        j = (rec["jurisdiction"] == code).to_numpy()
        row[f"jurisdiction_{code}_over_floor"] = mae(est, t, j) / mae(floor, t, j)
    return row


def ciphertext_cost(basis: Basis) -> dict[str, float]:
    """Ciphertexts and bytes of one node's two releases, measured by encrypting them."""
    public = CkksKey.create().public()
    stats = encrypt(public, [0.0] * statistics_length(basis))
    cal = encrypt(public, [0.0] * calibration_length())
    return {
        "rounds": 2,
        "ciphertexts_per_node": len(stats.chunks) + len(cal.chunks),
        "bytes_per_node": stats.nbytes + cal.nbytes,
        "values_per_node": statistics_length(basis) + calibration_length(),
    }


def independence(s: Seeded, model: LinearModel) -> float:
    """Mean masked residual of real no-fuel labels minus that of masked fuel-known labels.

    The no-fuel blocks learn from fuel-known records with their fuels masked; that is
    valid only if not filing fuels is unrelated to the residual (this difference ~ 0).
    """
    rows = labelled(s.train)
    y = rows["verified_direct_tco2e"].to_numpy(float) / rows["production_t"].to_numpy(float)
    m = predict(model, rows, masked=True)["estimate_tco2e_per_t"].to_numpy()
    known = predict(model, rows)["fuel_status"].to_numpy() == "fuels_known"
    resid = y - m
    return float(resid[~known].mean() - resid[known].mean()) if (~known).any() else math.nan


def run_dataset(args: argparse.Namespace, name: str, basis: Basis) -> dict[str, Any]:
    rows, ridges, gaps, privacy = [], [], [], {}
    for seed in range(args.seeds):
        s = prepare(args, name, 1000 * seed + 17, basis)
        ridges.append(s.ridge)
        for d in range(args.draws):
            f = federate(
                nodes_of(s.train),
                accounts(args.epsilon),
                basis,
                rng=np.random.default_rng([seed, d]),
                ridge=s.ridge,
                unit=args.unit,
            )
            rows.append(score(s, f.model))
            if d == 0:
                gaps.append(independence(s, f.model))
                stats, cal = f.releases[CODES[0]]
                privacy = {
                    "privacy_unit": args.unit,
                    "releases_per_node": 2,
                    "noise_multiplier": [stats.noise_multiplier, cal.noise_multiplier],
                    "sensitivity": [stats.sensitivity, cal.sensitivity],
                    "epsilon_per_node": cal.epsilon_after,
                    "delta": DELTA,
                }
        print(f"  {name} seed {seed} done (ridge {s.ridge})", file=sys.stderr)
    frame = pd.DataFrame(rows)
    summary = {
        col: {"mean": float(frame[col].mean()), "p90": float(frame[col].quantile(0.9))}
        for col in frame.columns
    }
    return {
        "summary": summary,
        "ridges_chosen_on_validation": ridges,
        "no_fuel_residual_gap_tco2e_per_t": gaps,
        "privacy": privacy,
        "runs": len(rows),
    }


TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("fed_over_central", "mean", "<=", 1.10),
    ("fed_over_central", "p90", "<=", 1.15),
    ("model_over_tier1", "mean", "<=", 0.6),
    ("model_over_cbam", "mean", "<=", 0.1),
    ("no_fuel_over_tier1", "mean", "<=", 0.7),
    ("coverage", "mean", "in", 0.87),
    ("coverage_no_fuel", "mean", "in", 0.87),
)


def verdicts(name: str, result: dict[str, Any]) -> list[str]:
    s, lines = result["summary"], []
    checks = list(TARGETS)
    checks += [(k, "mean", "in", 0.87) for k in s if k.endswith("_coverage")]
    checks += [(k, "mean", "<=", 1.2) for k in s if k.endswith("_over_floor")]
    if name == "unfriendly":
        checks = [("model_over_tier1", "mean", "<=", 1.0), ("coverage", "mean", ">=", 0.85)]
    for key, stat, op, bound in checks:
        value = s[key][stat]
        if op == "in":
            ok, text = 0.87 <= value <= 0.93, "in 0.87-0.93"
        elif op == ">=":
            ok, text = value >= bound, f">= {bound}"
        else:
            ok, text = value <= bound, f"<= {bound}"
        lines.append(f"{'MET   ' if ok else 'MISSED'} {name:<10} {key} {stat} {value:.3f} ({text})")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--records", type=int, default=600)
    p.add_argument("--test-records", type=int, default=5000)
    p.add_argument("--epsilon", type=float, default=5.0)
    p.add_argument("--unit", choices=("facility", "record"), default="facility")
    p.add_argument("--datasets", default="project,foreign,unfriendly")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    basis = Basis(CODES)
    started = time.perf_counter()
    report: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    report["cost"] = ciphertext_cost(basis)
    lines = []
    for name in args.datasets.split(","):
        report[name] = run_dataset(args, name, basis)
        lines += verdicts(name, report[name])
    report["seconds"] = time.perf_counter() - started
    for name in args.datasets.split(","):
        print(f"\n== {name}: mean (p90) over {report[name]['runs']} seed x noise-draw runs")
        for key, v in report[name]["summary"].items():
            print(f"  {key:<44} {v['mean']:8.3f} ({v['p90']:.3f})")
        print(f"  ridge chosen on validation: {report[name]['ridges_chosen_on_validation']}")
        print(f"  no-fuel residual gap (t/t): {report[name]['no_fuel_residual_gap_tco2e_per_t']}")
        print(f"  privacy: {report[name]['privacy']}")
    print(f"\ncost per node: {report['cost']}")
    print("\n" + "\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "linear.json").write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
