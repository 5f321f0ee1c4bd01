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


def main() -> None:
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
    args = p.parse_args()
    warnings.filterwarnings("ignore")

    codes = [c.strip() for c in args.jurisdictions.split(",")]
    data = generate(codes, records=args.records, seed=args.seed)
    train, calib, test = split(data.records, args.seed)
    truth = data.truth
    spec = FeatureSpec()
    layout = weight_layout(spec)
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate
    )
    budget = Budget(args.epsilon, DELTA)
    nodes = {code: train[train["jurisdiction"] == code] for code in codes}
    print(
        f"data: {len(codes)} jurisdictions x {args.records} records (seed {args.seed}); "
        f"train {len(train)} ({len(labelled(train))} with a verified figure), "
        f"calibration {len(calib)}, test {len(test)}; model {parameter_count(spec)} params"
    )

    # (e) centralised, non-DP ceiling on pooled labelled records.
    started = time.perf_counter()
    central = train_centralised(
        train,
        TrainConfig(
            epochs=args.rounds * args.epochs * 3, batch_size=32, learning_rate=0.01, seed=args.seed
        ),
    )
    central_s = time.perf_counter() - started

    # (c) local-only: each node alone, same DP budget, same number of epochs as the federation.
    local_models: dict[str, dict[str, np.ndarray]] = {}
    ledger_local = PrivacyLedger(InMemoryLedgerStore())
    for code, part in nodes.items():
        cfg = TrainConfig(
            epochs=args.rounds * args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate / 2,
            update_clip_norm=1e12,
        )
        spec_dp = DpSpec(LedgerAccount(ledger_local, code, PERIOD, budget), rounds_remaining=1)
        result = train_local(None, part, cfg, spec_dp)
        local_models[code] = result.weights(initial_weights(spec), layout)

    # (d) federated DP: FedAvg rounds over train_local, each node charged in its ledger.
    ledger = PrivacyLedger(InMemoryLedgerStore())
    global_w = initial_weights(spec)
    footprints: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
    train_seconds = 0.0
    last: list[LocalResult] = []
    for r in range(args.rounds):
        last = []
        for code, part in nodes.items():
            spec_dp = DpSpec(
                LedgerAccount(ledger, code, PERIOD, budget), rounds_remaining=args.rounds - r
            )
            with measure_footprint(code) as fp:
                t0 = time.perf_counter()
                last.append(train_local(global_w, part, config, spec_dp))
                train_seconds += time.perf_counter() - t0
            footprints[code].append(fp.to_dict())
        global_w = fedavg(global_w, last, layout)

    # Calibration: summed per-node coverage counts on held-out calibration facilities.
    counts, total = np.zeros(0), 0
    for code in codes:
        c, n = covered_counts(global_w, spec, calib[calib["jurisdiction"] == code])
        counts = c if counts.size == 0 else counts + c
        total += n
    scale = scale_from_counts(counts, total)

    # Encrypted vs plaintext aggregation of the last round's updates.
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
    ckks_error = float(np.max(np.abs(decrypted - plain_sum)))
    ct_bytes = sum(c.nbytes for c in cts)
    plain_bytes = sum(v.astype(np.float64).nbytes for v in vectors)
    round_train_s = train_seconds / args.rounds

    # Scores.
    base = baseline_estimates(test)
    fed_pred = predict_frame(global_w, spec, test, interval_scale=scale)
    estimates = {
        "cbam_default": base["cbam_default"],
        "tier1": base["tier1"],
        "federated_dp": fed_pred["estimate_direct_tco2e"].to_numpy(),
        "centralised_non_dp": predict_frame(central, spec, test)[
            "estimate_direct_tco2e"
        ].to_numpy(),
        **{
            f"local_only_{c}": predict_frame(w, spec, test)["estimate_direct_tco2e"].to_numpy()
            for c, w in local_models.items()
        },
    }
    ev = evaluate(
        test,
        truth,
        estimates,
        model="federated_dp",
        interval=(
            fed_pred["estimate_low_tco2e"].to_numpy(),
            fed_pred["estimate_high_tco2e"].to_numpy(),
        ),
    )
    raw_cov = evaluate(
        test,
        truth,
        {"m": estimates["federated_dp"]},
        model="m",
        interval=(
            predict_frame(global_w, spec, test)["estimate_low_tco2e"].to_numpy(),
            predict_frame(global_w, spec, test)["estimate_high_tco2e"].to_numpy(),
        ),
    )
    ov = ev["overall"]
    mae = {k: v["mae_tco2e_per_t"] for k, v in ov.items()}
    local_mean = float(np.mean([mae[f"local_only_{c}"] for c in codes]))
    no_fuel = test[test["coal_tj"].isna()]
    fuel_eval = evaluate(
        no_fuel,
        truth,
        {"federated_dp": fed_pred.loc[no_fuel.index, "estimate_direct_tco2e"].to_numpy()},
        model="federated_dp",
        interval=(
            fed_pred.loc[no_fuel.index, "estimate_low_tco2e"].to_numpy(),
            fed_pred.loc[no_fuel.index, "estimate_high_tco2e"].to_numpy(),
        ),
    )
    # Bias correction on held-out records with a self-declared figure.
    has_rep = test["reported_direct_tco2e"].notna()
    bias = evaluate(
        test[has_rep],
        truth,
        {
            "self_declared": test.loc[has_rep, "reported_direct_tco2e"].to_numpy(float),
            "bias_corrected": fed_pred.loc[has_rep, "corrected_direct_tco2e"].to_numpy(float),
        },
    )["overall"]

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
    eps = {code: ledger.spent(code, DEFAULT_DATASET, PERIOD, DELTA) for code in codes}
    fed, cen = mae["federated_dp"], mae["centralised_non_dp"]
    cbam_c = ov["cbam_default"]["common_mae_tco2e_per_t"]
    tier1_c = ov["tier1"]["common_mae_tco2e_per_t"]
    fed_c = ov["federated_dp"]["common_mae_tco2e_per_t"]
    print(
        f"\nmean local-only MAE {local_mean:.3f}; federated {fed:.3f}; centralised {cen:.3f}; "
        f"federated/centralised = {fed / cen:.3f}"
    )
    print(
        f"epsilon spent per node (delta {DELTA}): "
        + ", ".join(f"{c} {e:.3f}" for c, e in eps.items())
        + f" (budget {args.epsilon})"
    )
    print(
        f"interval coverage (nominal 0.90): raw {raw_cov['interval_coverage']:.3f}, "
        f"calibrated (scale {scale:.2f}) {ev['interval_coverage']:.3f}; records without a "
        f"fuel breakdown: MAE {fuel_eval['overall']['federated_dp']['mae_tco2e_per_t']:.3f}, "
        f"coverage {fuel_eval['interval_coverage']:.3f} (n={len(no_fuel)})"
    )
    print(
        f"bias correction, held-out self-declared records: MAE self-declared "
        f"{bias['self_declared']['mae_tco2e_per_t']:.3f} -> corrected "
        f"{bias['bias_corrected']['mae_tco2e_per_t']:.3f}"
    )
    print(
        f"worst/best MAE ratio over (jurisdiction, route) groups: "
        f"{ev['jurisdiction_route_worst_best_ratio']:.2f}"
    )
    agg_enc = enc_s + add_s + dec_s
    print(
        f"\naggregation of {len(vectors)} updates x {vectors[0].size} values: plaintext "
        f"{plain_s * 1e3:.3f} ms, {plain_bytes} bytes; CKKS encrypt {enc_s * 1e3:.1f} ms + "
        f"sum {add_s * 1e3:.1f} ms + decrypt {dec_s * 1e3:.1f} ms, {ct_bytes} bytes "
        f"({ct_bytes / plain_bytes:.0f}x); max CKKS error {ckks_error:.2e}"
    )
    enc_round, plain_round = round_train_s + agg_enc, round_train_s + plain_s
    print(
        f"full round (local DP training of all nodes, sequential here, + aggregation): "
        f"plaintext {plain_round:.2f} s, encrypted {enc_round:.2f} s, "
        f"ratio {enc_round / plain_round:.3f}; aggregation alone {agg_enc / plain_s:.0f}x"
    )
    print(f"centralised training took {central_s:.1f} s")

    checks = {
        "(d) beats (a) CBAM default [common records]": fed_c < cbam_c,
        "(d) beats (b) Tier-1 [common records]": fed_c < tier1_c,
        "(d) beats mean (c) local-only": fed < local_mean,
        "(d) within 15% of (e)": fed <= 1.15 * cen,
        f"epsilon <= {args.epsilon} per node": max(eps.values()) <= args.epsilon,
        "encrypted round within 3x plaintext round": enc_round <= 3 * plain_round,
    }
    print("\ntargets:")
    for name, ok in checks.items():
        print(f"  {'MET ' if ok else 'MISSED'} {name}")
    print(
        "\nnote: federation here is in-process FedAvg over train_local; the Flower "
        "deployment path is tested separately."
    )

    fp_per_node = []
    for code, items in footprints.items():
        measured = [i for i in items if i["energy_kwh"] is not None]
        fp_per_node.append(
            {
                "country_iso_code": code,
                "energy_kwh": sum(i["energy_kwh"] for i in measured) if measured else None,
                "co2_kg": sum(i["co2_kg"] or 0.0 for i in measured) if measured else None,
                "reason": next((i["reason"] for i in items if i["reason"]), None),
            }
        )
    card = build_card(
        model_id="gcdt-ef-bench",
        version="0",
        spec=spec,
        nodes=[
            {
                "node_id": c,
                "jurisdiction": c,
                "labelled_records": len(labelled(nodes[c])),
                "epsilon_spent": eps[c],
                "epsilon_budget": args.epsilon,
                "delta": DELTA,
            }
            for c in codes
        ],
        rounds=args.rounds,
        training={
            "local_epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "max_grad_norm": 1.0,
            "update_clip_norm": config.update_clip_norm,
            "noise_multiplier_last_round": last[0].dp.noise_multiplier if last[0].dp else None,
        },
        evaluation=ev,
        interval={"nominal": 0.9, "scale": scale, "method": "split conformal, summed counts"},
        footprints=fp_per_node,
        data_scope={
            "generator": "trust_node.generate (synthetic)",
            "jurisdictions": codes,
            "years": f"{int(data.records.year.min())}-{int(data.records.year.max())}",
        },
    )
    print(f"compute footprint (codecarbon offline): {card['compute_footprint']['total']}")
    model = PublishedModel("gcdt-ef-bench", "0", global_w, spec, interval_scale=scale, card=card)
    out = args.out or Path(tempfile.mkdtemp(prefix="gcdt-bench-"))
    model.save(out)
    (out / "card.md").write_text(render_markdown(card))
    (out / "summary.json").write_text(
        json.dumps(
            {
                "mae": mae,
                "local_mean": local_mean,
                "checks": checks,
                "epsilon": eps,
                "coverage": ev["interval_coverage"],
                "scale": scale,
                "aggregation_s": {
                    "plain": plain_s,
                    "encrypt": enc_s,
                    "sum": add_s,
                    "decrypt": dec_s,
                },
                "bytes": {"plain": plain_bytes, "ciphertext": ct_bytes},
            },
            indent=2,
            default=float,
        )
    )
    print(f"published model {model.content_hash} and card written to {out}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
