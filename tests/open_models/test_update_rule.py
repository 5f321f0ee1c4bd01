"""The server's update rule: one pure function, bit for bit the same wherever it runs."""

from __future__ import annotations

import numpy as np
import pytest

from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from open_models.update_rule import (
    ATTESTED_TOTAL,
    UpdateRule,
    UpdateRuleError,
    card_section,
    initial_weights_bytes,
    parse_aggregate,
    read_initial_weights,
    weights_sha256,
)


def test_a_step_is_the_weighted_mean_delta_added_to_the_weights() -> None:
    w = np.array([1.0, -2.0, 0.5])
    out = UpdateRule().step(w, ["0.300000", "-0.600000", "1.500000", "3.000000"])
    assert out.tolist() == [1.0 + 0.3 / 3.0, -2.0 + -0.6 / 3.0, 0.5 + 1.5 / 3.0]
    assert out.dtype == np.dtype("<f8") and w.tolist() == [1.0, -2.0, 0.5]  # pure


def test_the_order_of_operations_is_the_documented_one() -> None:
    # (s / n) * lr + w, each rounded once: not s * (lr / n), not fused
    rule = UpdateRule(server_learning_rate=0.7)
    s, n, w = 0.1, 3.0, 1e-3
    out = rule.step(np.array([w]), [repr(s), repr(n)])
    assert out[0] == np.float64(w) + (np.float64(s) / np.float64(n)) * np.float64(0.7)


def test_the_same_inputs_give_the_same_bits() -> None:
    spec = FeatureSpec()
    w0 = flatten(initial_weights(spec, 3), weight_layout(spec))
    rng = np.random.default_rng(7)
    aggregates = [[f"{v:.6f}" for v in rng.normal(size=w0.size)] + ["41.000000"] for _ in range(3)]
    a = UpdateRule().apply(w0, aggregates)
    b = UpdateRule.from_parameters(UpdateRule().parameters()).apply(w0.copy(), aggregates)
    assert a.tobytes() == b.tobytes()
    assert weights_sha256(a) == weights_sha256(b)


def test_a_public_denominator_replaces_the_attested_total() -> None:
    rule = UpdateRule(denominator=4.0)
    assert rule.parameters()["denominator"] == 4.0
    assert rule.step(np.zeros(2), ["2", "-1"]).tolist() == [0.5, -0.25]
    with pytest.raises(UpdateRuleError, match="needs 2 parameters"):
        rule.step(np.zeros(2), ["2", "-1", "3"])
    assert UpdateRule().parameters()["denominator"] == ATTESTED_TOTAL


@pytest.mark.parametrize(
    ("aggregate", "match"),
    [
        (["1", "0"], "not positive"),
        (["1", "-2"], "not positive"),
        (["1"], "the total weight"),
        (["1", "nan"], "not finite"),
        (["x", "1"], "not a decimal"),
    ],
)
def test_unusable_aggregates_are_refused(aggregate: list[str], match: str) -> None:
    with pytest.raises(UpdateRuleError, match=match):
        UpdateRule().step(np.zeros(1), aggregate)


def test_bad_parameters_are_refused() -> None:
    for kwargs in ({"server_learning_rate": 0.0}, {"denominator": -1.0}, {"denominator": True}):
        with pytest.raises(UpdateRuleError):
            UpdateRule(**kwargs)
    with pytest.raises(UpdateRuleError, match="precision"):
        UpdateRule.from_parameters({**UpdateRule().parameters(), "precision": "float32"})
    with pytest.raises(UpdateRuleError, match="update rule"):
        UpdateRule.from_parameters({**UpdateRule().parameters(), "rule": "fedprox"})


def test_initial_weights_round_trip_and_are_pinned_in_the_card_section() -> None:
    w0 = np.array([0.1, -0.0, 3.0])
    back = read_initial_weights(initial_weights_bytes(w0), "w0")
    assert back.tobytes() == w0.tobytes()
    section = card_section(UpdateRule(), w0, 5, [1, 2])
    assert section["initial_weights"]["sha256"] == weights_sha256(w0)
    assert section["rounds"] == [1, 2] and section["initial_weights"]["seed"] == 5
    with pytest.raises(UpdateRuleError, match="unreadable"):
        read_initial_weights(b"not safetensors", "w0")
    assert parse_aggregate(["0.1"])[0] == 0.1
