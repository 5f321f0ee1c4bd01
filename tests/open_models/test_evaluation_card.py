"""Evaluation metrics on hand-made numbers; the card and its footprint never crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from open_models.card import build_card, render_markdown
from open_models.evaluation import coverage, evaluate, mae, mape
from open_models.features import FeatureSpec
from open_models.footprint import measure_footprint


def test_metrics_by_hand() -> None:
    truth = np.array([1.0, 2.0, 4.0, np.nan])
    pred = np.array([1.5, 1.0, 4.0, 3.0])
    assert mae(pred, truth) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert mape(pred, truth) == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert mape(np.array([1.0]), np.array([0.0])) != mape(np.array([1.0]), np.array([0.0]))
    assert coverage(np.array([0.0, 3.0]), np.array([2.0, 5.0]), np.array([1.0, 2.0])) == 0.5


def test_evaluate_groups_and_worst_best_ratio() -> None:
    records = pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(12)],
            "jurisdiction": ["AA"] * 6 + ["BB"] * 6,
            "sector": ["cement"] * 12,
            "route": ["dry_kiln"] * 12,
            "production_t": [10.0] * 12,
        }
    )
    truth = pd.DataFrame({"record_id": records["record_id"], "true_direct_tco2e": [10.0] * 12})
    model = np.array([11.0] * 6 + [14.0] * 6)  # intensity error 0.1 in AA, 0.4 in BB
    other = np.array([np.nan] * 6 + [10.0] * 6)
    ev = evaluate(
        records,
        truth,
        {"model": model, "other": other},
        model="model",
        interval=(model - 2, model + 2),
    )
    assert ev["overall"]["model"]["mae_tco2e_per_t"] == pytest.approx(0.25)
    assert ev["overall"]["model"]["common_records"] == 6
    assert ev["overall"]["model"]["common_mae_tco2e_per_t"] == pytest.approx(0.4)
    assert ev["overall"]["other"]["records"] == 6
    assert ev["jurisdiction_route_worst_best_ratio"] == pytest.approx(4.0)
    assert ev["interval_coverage"] == pytest.approx(0.5)
    by = {g["jurisdiction"]: g for g in ev["by_jurisdiction_route"]}
    assert by["AA"]["interval_coverage"] == 1.0 and by["BB"]["interval_coverage"] == 0.0


def test_footprint_failure_is_recorded_not_raised() -> None:
    with measure_footprint("XX") as fp:
        pass
    assert fp.energy_kwh is None and fp.reason and "XX" in fp.reason


def test_card_renders() -> None:
    with measure_footprint("DE") as fp:
        sum(i * i for i in range(10_000))
    card = build_card(
        model_id="m",
        version="1",
        spec=FeatureSpec(),
        nodes=[
            {
                "node_id": "n1",
                "jurisdiction": "DE",
                "labelled_records": 5,
                "epsilon_spent": 1.5,
                "epsilon_budget": 5.0,
                "delta": 1e-5,
            }
        ],
        rounds=3,
        training={"batch_size": 32},
        evaluation=None,
        interval={"nominal": 0.9, "scale": 1.1},
        footprints=[fp.to_dict()],
        data_scope={"jurisdictions": ["DE"]},
    )
    text = render_markdown(card)
    for heading in ("Nodes and rounds", "Compute footprint", "Intended use", "Limits"):
        assert heading in text
    assert card["compute_footprint"]["per_node"][0]["country_iso_code"] == "DE"
