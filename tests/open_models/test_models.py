"""Emission-factor intervals, bias correction, FedAvg: trained for real on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from open_models.calibration import conformal_scale, covered_counts, scale_from_counts
from open_models.features import FeatureSpec
from open_models.inference import predict_frame
from open_models.network import flatten, initial_weights, weight_layout
from open_models.training import LocalResult, TrainConfig, fedavg, train_centralised
from trust_node.generate import generate

SPEC = FeatureSpec()


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    data = generate(["DE", "US", "IN"], records=300, seed=21)
    rng = np.random.default_rng(0)
    facilities = data.records["facility_id"].unique()
    u = data.records["facility_id"].map(pd.Series(rng.random(len(facilities)), facilities))
    return (
        data.records[u >= 0.45],
        data.records[(u >= 0.25) & (u < 0.45)],
        data.records[u < 0.25],
        data.truth,
    )


@pytest.fixture(scope="module")
def weights(split: tuple[pd.DataFrame, ...]) -> dict[str, np.ndarray]:
    train = split[0]
    return train_centralised(train, TrainConfig(epochs=40, batch_size=32, seed=0))


def _truth(frame: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    merged = frame[["record_id"]].merge(truth, on="record_id")
    values: np.ndarray = merged["true_direct_tco2e"].to_numpy()
    return values


def test_calibrated_interval_covers_nominal(
    split: tuple[pd.DataFrame, ...], weights: dict[str, np.ndarray]
) -> None:
    _, calib, test, truth = split
    scale = conformal_scale(weights, SPEC, calib)
    out = predict_frame(weights, SPEC, test, interval_scale=scale)
    y = _truth(test, truth)
    covered = (out["estimate_low_tco2e"] <= y) & (y <= out["estimate_high_tco2e"])
    assert 0.80 <= covered.mean() <= 0.98, (covered.mean(), scale)
    # The summed-counts (federated) form picks a scale near the direct conformal one.
    counts, n = covered_counts(weights, SPEC, calib)
    assert scale_from_counts(counts, n) == pytest.approx(scale, abs=0.1)


def test_no_fuel_records_get_wider_intervals(
    split: tuple[pd.DataFrame, ...], weights: dict[str, np.ndarray]
) -> None:
    test = split[2]
    known = test[test["coal_tj"].notna()]
    blind = known.copy()
    blind[["coal_tj", "coke_tj", "natural_gas_tj", "oil_tj", "biomass_tj"]] = np.nan
    width = {}
    for name, frame in (("known", known), ("blind", blind)):
        out = predict_frame(weights, SPEC, frame)
        width[name] = np.median(
            (out["estimate_high_tco2e"] - out["estimate_low_tco2e"]) / frame["production_t"]
        )
    assert width["blind"] > width["known"]


def test_bias_correction_reduces_error(
    split: tuple[pd.DataFrame, ...], weights: dict[str, np.ndarray]
) -> None:
    _, _, test, truth = split
    declared = test[test["reported_direct_tco2e"].notna()]
    y = _truth(declared, truth)
    corrected = predict_frame(weights, SPEC, declared)["corrected_direct_tco2e"].to_numpy()
    reported = declared["reported_direct_tco2e"].to_numpy(float)
    production = declared["production_t"].to_numpy(float)
    before = np.mean(np.abs(reported - y) / production)
    after = np.mean(np.abs(corrected - y) / production)
    assert after < 0.8 * before, (before, after)


def test_fedavg_is_weighted_mean_of_updates() -> None:
    layout = weight_layout(SPEC)
    g = initial_weights(SPEC)
    size = flatten(g, layout).size
    rng = np.random.default_rng(1)
    results = [LocalResult(rng.normal(size=size), n, 0.0, {}, None, 1.0, False) for n in (10, 30)]
    new = flatten(fedavg(g, results, layout), layout)
    expected = flatten(g, layout) + (10 * results[0].update + 30 * results[1].update) / 40
    np.testing.assert_allclose(new, expected)
