"""Open-model quality and the cost of encrypted aggregation, in one run on generated data.

    .venv/bin/python bench/training.py [--jurisdictions CN,IN,DE,US,BR] [--records 600]
        [--rounds 20] [--epsilon 5] [--seed 7] [--out DIR]

Held-out MAE (direct intensity, tCO2e/t, against the generator's hidden truth) of
(a) CBAM default values, (b) IPCC Tier-1, (c) each node's local-only DP model, (d) the
federated DP model, (e) a centralised non-DP model on pooled records (the ceiling); the
interval coverage of (d); the time and bytes of an encrypted aggregation (CKKS encrypt of
every node's update, sum with the public context, decrypt) against a plaintext sum.

The federation here is plain in-process FedAvg over ``open_models.training.train_local``
(the Flower path, ``trust_node/federation`` + ``coordinator/federation``, is tested on its
own). Nodes train only on records with a verified figure; the truth is used for scoring
only. The split is by facility (no facility in both train and test).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.ckks import CkksKey, add_all, decrypt, encrypt
from governance.privacy import (
    DEFAULT_DATASET,
    Budget,
    InMemoryLedgerStore,
    LedgerAccount,
    PrivacyLedger,
)
from open_models.calibration import covered_counts, scale_from_counts
from open_models.card import build_card, render_markdown
from open_models.dp import DpSpec
from open_models.evaluation import baseline_estimates, evaluate
from open_models.features import FeatureSpec
from open_models.footprint import measure_footprint
from open_models.inference import predict_frame
from open_models.network import initial_weights, parameter_count, weight_layout
from open_models.published import PublishedModel
from open_models.training import (
    LocalResult,
    TrainConfig,
    fedavg,
    labelled,
    train_centralised,
    train_local,
)
from trust_node.generate import generate

DELTA = 1e-5
PERIOD = "2026"


def split(records: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Facility-level split: 25 % test, 15 % calibration, the rest training."""
    rng = np.random.default_rng(seed)
    facilities = records["facility_id"].unique()
    draw = pd.Series(rng.random(len(facilities)), index=facilities)
    u = records["facility_id"].map(draw).to_numpy()
    return records[u >= 0.4], records[(u >= 0.25) & (u < 0.4)], records[u < 0.25]


@dataclass
class Setup:
    """The run's data, split by facility, and what every training method shares."""

    args: argparse.Namespace
    codes: list[str]
    records: pd.DataFrame
    truth: pd.DataFrame
    train: pd.DataFrame
    calib: pd.DataFrame
    test: pd.DataFrame
    spec: FeatureSpec
    config: TrainConfig
    budget: Budget

    @property
    def layout(self) -> Any:
        return weight_layout(self.spec)

    @property
    def nodes(self) -> dict[str, pd.DataFrame]:
        return {code: self.train[self.train["jurisdiction"] == code] for code in self.codes}


@dataclass
class Federated:
    """The federated DP model and what training it cost each node."""

    weights: dict[str, np.ndarray]
    ledger: PrivacyLedger
    footprints: dict[str, list[dict[str, Any]]]
    train_seconds: float
    last: list[LocalResult]


@dataclass
class Aggregation:
    """Time and bytes of one aggregation of the last round's updates, both ways."""

    updates: int
    values: int
    plain_s: float
    enc_s: float
    add_s: float
    dec_s: float
    ckks_error: float
    plain_bytes: int
    ct_bytes: int

    @property
    def encrypted_s(self) -> float:
        return self.enc_s + self.add_s + self.dec_s


@dataclass
class Scores:
    """Held-out quality of every method, the interval and the bias correction."""

    ev: dict[str, Any]
    raw_cov: dict[str, Any]
    fuel_eval: dict[str, Any]
    no_fuel_records: int
    bias: dict[str, Any]
    local_mean: float

    @property
    def overall(self) -> dict[str, Any]:
        return dict(self.ev["overall"])

    @property
    def mae(self) -> dict[str, float]:
        return {k: v["mae_tco2e_per_t"] for k, v in self.overall.items()}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jurisdictions", default="CN,IN,DE,US,BR")
    p.add_argument("--records", type=int, default=600)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=0.005)
    p.add_argument("--epsilon", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args()


def prepare(args: argparse.Namespace) -> Setup:
    codes = [c.strip() for c in args.jurisdictions.split(",")]
    data = generate(codes, records=args.records, seed=args.seed)
    train, calib, test = split(data.records, args.seed)
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate
    )
    setup = Setup(
        args,
        codes,
        data.records,
        data.truth,
        train,
        calib,
        test,
        FeatureSpec(),
        config,
        Budget(args.epsilon, DELTA),
    )
    print(
        f"data: {len(codes)} jurisdictions x {args.records} records (seed {args.seed}); "
        f"train {len(train)} ({len(labelled(train))} with a verified figure), "
        f"calibration {len(calib)}, test {len(test)}; model {parameter_count(setup.spec)} params"
    )
    return setup


def train_ceiling(s: Setup) -> tuple[dict[str, np.ndarray], float]:
    """(e) centralised, non-DP ceiling on pooled labelled records; and its seconds."""
    args = s.args
    started = time.perf_counter()
    central = train_centralised(
        s.train,
        TrainConfig(
            epochs=args.rounds * args.epochs * 3, batch_size=32, learning_rate=0.01, seed=args.seed
        ),
    )
    return central, time.perf_counter() - started


def train_local_only(s: Setup) -> dict[str, dict[str, np.ndarray]]:
    """(c) each node alone, same DP budget, same number of epochs as the federation."""
    args = s.args
    local_models: dict[str, dict[str, np.ndarray]] = {}
    ledger_local = PrivacyLedger(InMemoryLedgerStore())
    for code, part in s.nodes.items():
        cfg = TrainConfig(
            epochs=args.rounds * args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate / 2,
            update_clip_norm=1e12,
        )
        spec_dp = DpSpec(LedgerAccount(ledger_local, code, PERIOD, s.budget), rounds_remaining=1)
        result = train_local(None, part, cfg, spec_dp)
        local_models[code] = result.weights(initial_weights(s.spec), s.layout)
    return local_models


def train_federated(s: Setup) -> Federated:
    """(d) FedAvg rounds over train_local, each node charged in its ledger."""
    rounds = s.args.rounds
    ledger = PrivacyLedger(InMemoryLedgerStore())
    global_w = initial_weights(s.spec)
    footprints: dict[str, list[dict[str, Any]]] = {c: [] for c in s.codes}
    train_seconds = 0.0
    last: list[LocalResult] = []
    for r in range(rounds):
        last = []
        for code, part in s.nodes.items():
            spec_dp = DpSpec(
                LedgerAccount(ledger, code, PERIOD, s.budget), rounds_remaining=rounds - r
            )
            with measure_footprint(code) as fp:
                t0 = time.perf_counter()
                last.append(train_local(global_w, part, s.config, spec_dp))
                train_seconds += time.perf_counter() - t0
            footprints[code].append(fp.to_dict())
        global_w = fedavg(global_w, last, s.layout)
    return Federated(global_w, ledger, footprints, train_seconds, last)


def calibrate(s: Setup, weights: dict[str, np.ndarray]) -> float:
    """Interval scale from summed per-node coverage counts on calibration facilities."""
    counts, total = np.zeros(0), 0
    for code in s.codes:
        c, n = covered_counts(weights, s.spec, s.calib[s.calib["jurisdiction"] == code])
        counts = c if counts.size == 0 else counts + c
        total += n
    return scale_from_counts(counts, total)


def aggregate_both_ways(last: list[LocalResult]) -> Aggregation:
    """Encrypted (CKKS) vs plaintext aggregation of the last round's updates."""
    vectors = [r.num_examples * r.update for r in last]
    key = CkksKey.create()
    public = key.public()
    t0 = time.perf_counter()
    plain_sum = np.sum(vectors, axis=0)
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cts = [encrypt(public, v.tolist()) for v in vectors]
    enc_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    summed = add_all(public, cts)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    decrypted = np.asarray(decrypt(key, summed))
    dec_s = time.perf_counter() - t0
    return Aggregation(
        updates=len(vectors),
        values=vectors[0].size,
        plain_s=plain_s,
        enc_s=enc_s,
        add_s=add_s,
        dec_s=dec_s,
        ckks_error=float(np.max(np.abs(decrypted - plain_sum))),
        plain_bytes=sum(v.astype(np.float64).nbytes for v in vectors),
        ct_bytes=sum(c.nbytes for c in cts),
    )


def _estimate(prediction: pd.DataFrame) -> np.ndarray:
    estimate: np.ndarray = prediction["estimate_direct_tco2e"].to_numpy()
    return estimate


def _interval(prediction: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        prediction["estimate_low_tco2e"].to_numpy(),
        prediction["estimate_high_tco2e"].to_numpy(),
    )


def score(
    s: Setup,
    federated: dict[str, np.ndarray],
    scale: float,
    central: dict[str, np.ndarray],
    local_models: dict[str, dict[str, np.ndarray]],
) -> Scores:
    test, truth, spec = s.test, s.truth, s.spec
    base = baseline_estimates(test)
    fed_pred = predict_frame(federated, spec, test, interval_scale=scale)
    estimates = {
        "cbam_default": base["cbam_default"],
        "tier1": base["tier1"],
        "federated_dp": _estimate(fed_pred),
        "centralised_non_dp": _estimate(predict_frame(central, spec, test)),
        **{
            f"local_only_{c}": _estimate(predict_frame(w, spec, test))
            for c, w in local_models.items()
        },
    }
    ev = evaluate(test, truth, estimates, model="federated_dp", interval=_interval(fed_pred))
    raw_cov = evaluate(
        test,
        truth,
        {"m": estimates["federated_dp"]},
        model="m",
        interval=_interval(predict_frame(federated, spec, test)),
    )
    mae = {k: v["mae_tco2e_per_t"] for k, v in ev["overall"].items()}
    no_fuel = test[test["coal_tj"].isna()]
    fuel_eval = evaluate(
        no_fuel,
        truth,
        {"federated_dp": fed_pred.loc[no_fuel.index, "estimate_direct_tco2e"].to_numpy()},
        model="federated_dp",
        interval=_interval(fed_pred.loc[no_fuel.index]),
    )
    return Scores(
        ev=ev,
        raw_cov=raw_cov,
        fuel_eval=fuel_eval,
        no_fuel_records=len(no_fuel),
        bias=_bias_correction(test, truth, fed_pred),
        local_mean=float(np.mean([mae[f"local_only_{c}"] for c in s.codes])),
    )


def _bias_correction(
    test: pd.DataFrame, truth: pd.DataFrame, fed_pred: pd.DataFrame
) -> dict[str, Any]:
    """Self-declared vs bias-corrected figures on held-out records that have the former."""
    has_rep = test["reported_direct_tco2e"].notna()
    return dict(
        evaluate(
            test[has_rep],
            truth,
            {
                "self_declared": test.loc[has_rep, "reported_direct_tco2e"].to_numpy(float),
                "bias_corrected": fed_pred.loc[has_rep, "corrected_direct_tco2e"].to_numpy(float),
            },
        )["overall"]
    )


def report_quality(s: Setup, sc: Scores, eps: dict[str, float], scale: float) -> None:
    ov, mae = sc.overall, sc.mae
    print(
        "\nheld-out MAE of direct intensity (tCO2e/t) vs hidden truth; each method on the "
        "records where it gives a figure, and on the records where all do (common)"
    )
    print(f"{'method':24s} {'records':>7s} {'MAE':>7s} {'MAPE':>7s} {'common MAE':>11s}")
    for name, row in ov.items():
        print(
            f"{name:24s} {row['records']:7d} {row['mae_tco2e_per_t']:7.3f} "
            f"{row['mape']:7.3f} {row['common_mae_tco2e_per_t']:11.3f}"
        )
    fed, cen = mae["federated_dp"], mae["centralised_non_dp"]
    print(
        f"\nmean local-only MAE {sc.local_mean:.3f}; federated {fed:.3f}; centralised {cen:.3f}; "
        f"federated/centralised = {fed / cen:.3f}"
    )
    print(
        f"epsilon spent per node (delta {DELTA}): "
        + ", ".join(f"{c} {e:.3f}" for c, e in eps.items())
        + f" (budget {s.args.epsilon})"
    )
    fuel = sc.fuel_eval
    print(
        f"interval coverage (nominal 0.90): raw {sc.raw_cov['interval_coverage']:.3f}, "
        f"calibrated (scale {scale:.2f}) {sc.ev['interval_coverage']:.3f}; records without a "
        f"fuel breakdown: MAE {fuel['overall']['federated_dp']['mae_tco2e_per_t']:.3f}, "
        f"coverage {fuel['interval_coverage']:.3f} (n={sc.no_fuel_records})"
    )
    print(
        f"bias correction, held-out self-declared records: MAE self-declared "
        f"{sc.bias['self_declared']['mae_tco2e_per_t']:.3f} -> corrected "
        f"{sc.bias['bias_corrected']['mae_tco2e_per_t']:.3f}"
    )
    print(
        f"worst/best MAE ratio over (jurisdiction, route) groups: "
        f"{sc.ev['jurisdiction_route_worst_best_ratio']:.2f}"
    )


def report_cost(agg: Aggregation, round_train_s: float, central_s: float) -> tuple[float, float]:
    """Print the aggregation and round costs; return (encrypted, plaintext) round seconds."""
    print(
        f"\naggregation of {agg.updates} updates x {agg.values} values: plaintext "
        f"{agg.plain_s * 1e3:.3f} ms, {agg.plain_bytes} bytes; CKKS encrypt "
        f"{agg.enc_s * 1e3:.1f} ms + sum {agg.add_s * 1e3:.1f} ms + decrypt "
        f"{agg.dec_s * 1e3:.1f} ms, {agg.ct_bytes} bytes "
        f"({agg.ct_bytes / agg.plain_bytes:.0f}x); max CKKS error {agg.ckks_error:.2e}"
    )
    enc_round, plain_round = round_train_s + agg.encrypted_s, round_train_s + agg.plain_s
    print(
        f"full round (local DP training of all nodes, sequential here, + aggregation): "
        f"plaintext {plain_round:.2f} s, encrypted {enc_round:.2f} s, "
        f"ratio {enc_round / plain_round:.3f}; aggregation alone "
        f"{agg.encrypted_s / agg.plain_s:.0f}x"
    )
    print(f"centralised training took {central_s:.1f} s")
    return enc_round, plain_round


def check_targets(
    s: Setup, sc: Scores, eps: dict[str, float], enc_round: float, plain_round: float
) -> dict[str, bool]:
    ov, mae = sc.overall, sc.mae
    fed, cen = mae["federated_dp"], mae["centralised_non_dp"]
    fed_c = ov["federated_dp"]["common_mae_tco2e_per_t"]
    epsilon = s.args.epsilon
    checks = {
        "(d) beats (a) CBAM default [common records]": fed_c
        < ov["cbam_default"]["common_mae_tco2e_per_t"],
        "(d) beats (b) Tier-1 [common records]": fed_c < ov["tier1"]["common_mae_tco2e_per_t"],
        "(d) beats mean (c) local-only": fed < sc.local_mean,
        "(d) within 15% of (e)": fed <= 1.15 * cen,
        f"epsilon <= {epsilon} per node": max(eps.values()) <= epsilon,
        "encrypted round within 3x plaintext round": enc_round <= 3 * plain_round,
    }
    print("\ntargets:")
    for name, ok in checks.items():
        print(f"  {'MET ' if ok else 'MISSED'} {name}")
    print(
        "\nnote: federation here is in-process FedAvg over train_local; the Flower "
        "deployment path is tested separately."
    )
    return checks


def footprint_per_node(footprints: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each node's measured energy and CO2 summed over rounds (None if never measured)."""
    per_node = []
    for code, items in footprints.items():
        measured = [i for i in items if i["energy_kwh"] is not None]
        per_node.append(
            {
                "country_iso_code": code,
                "energy_kwh": sum(i["energy_kwh"] for i in measured) if measured else None,
                "co2_kg": sum(i["co2_kg"] or 0.0 for i in measured) if measured else None,
                "reason": next((i["reason"] for i in items if i["reason"]), None),
            }
        )
    return per_node


def model_card(
    s: Setup, fed: Federated, ev: dict[str, Any], eps: dict[str, float], scale: float
) -> dict[str, Any]:
    args, last = s.args, fed.last
    nodes = s.nodes
    return build_card(
        model_id="gcdt-ef-bench",
        version="0",
        spec=s.spec,
        nodes=[
            {
                "node_id": c,
                "jurisdiction": c,
                "labelled_records": len(labelled(nodes[c])),
                "epsilon_spent": eps[c],
                "epsilon_budget": args.epsilon,
                "delta": DELTA,
            }
            for c in s.codes
        ],
        rounds=args.rounds,
        training={
            "local_epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "max_grad_norm": 1.0,
            "update_clip_norm": s.config.update_clip_norm,
            "noise_multiplier_last_round": last[0].dp.noise_multiplier if last[0].dp else None,
        },
        evaluation=ev,
        interval={"nominal": 0.9, "scale": scale, "method": "split conformal, summed counts"},
        footprints=footprint_per_node(fed.footprints),
        data_scope={
            "generator": "trust_node.generate (synthetic)",
            "jurisdictions": s.codes,
            "years": f"{int(s.records.year.min())}-{int(s.records.year.max())}",
        },
    )


def publish(
    s: Setup,
    fed: Federated,
    sc: Scores,
    agg: Aggregation,
    checks: dict[str, bool],
    eps: dict[str, float],
    scale: float,
) -> None:
    card = model_card(s, fed, sc.ev, eps, scale)
    print(f"compute footprint (codecarbon offline): {card['compute_footprint']['total']}")
    model = PublishedModel(
        "gcdt-ef-bench", "0", fed.weights, s.spec, interval_scale=scale, card=card
    )
    out = s.args.out or Path(tempfile.mkdtemp(prefix="gcdt-bench-"))
    model.save(out)
    (out / "card.md").write_text(render_markdown(card))
    summary = {
        "mae": sc.mae,
        "local_mean": sc.local_mean,
        "checks": checks,
        "epsilon": eps,
        "coverage": sc.ev["interval_coverage"],
        "scale": scale,
        "aggregation_s": {
            "plain": agg.plain_s,
            "encrypt": agg.enc_s,
            "sum": agg.add_s,
            "decrypt": agg.dec_s,
        },
        "bytes": {"plain": agg.plain_bytes, "ciphertext": agg.ct_bytes},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"published model {model.content_hash} and card written to {out}")


def main() -> None:
    args = parse_args()
    warnings.filterwarnings("ignore")
    s = prepare(args)
    central, central_s = train_ceiling(s)
    local_models = train_local_only(s)
    fed = train_federated(s)
    scale = calibrate(s, fed.weights)
    agg = aggregate_both_ways(fed.last)
    sc = score(s, fed.weights, scale, central, local_models)
    eps = {code: fed.ledger.spent(code, DEFAULT_DATASET, PERIOD, DELTA) for code in s.codes}
    report_quality(s, sc, eps, scale)
    enc_round, plain_round = report_cost(agg, fed.train_seconds / args.rounds, central_s)
    checks = check_targets(s, sc, eps, enc_round, plain_round)
    publish(s, fed, sc, agg, checks, eps, scale)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
