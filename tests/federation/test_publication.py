"""What the coordinator publishes from a run's outcome, and the node's training report.

The full path (simulation, export, ``gcdt-audit``) is in ``test_simulation.py``; these
check the pieces whose edge cases a three-round run does not reach: a node whose policy
keeps its report home, an unmeasured footprint, a skipped round's spend, a bad evaluation
set, and the node's report fields passing (or not) its egress policy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coordinator.federation.errors import FederationConfigError
from coordinator.federation.publication import (
    footprints,
    node_entries,
    publication_payload,
    read_evaluation_set_file,
    round_claims,
)
from coordinator.federation.rounds import RoundOutcome, TrainingResult, training_report
from kernel.wire import flower as wire
from open_models.evaluation_set import EvaluationSet, read_evaluation_set
from open_models.features import FeatureSpec
from open_models.footprint import Footprint
from open_models.network import initial_weights
from open_models.published import PublishedModel
from trust_node.cli import app as node_app
from trust_node.federation.training import LocalUpdate, report_fields


def _result() -> TrainingResult:
    r1 = RoundOutcome(
        1,
        "accepted",
        contributors=["a", "b"],
        aggregate_digest="d1",
        log_index=5,
        attestations=[{"sig": 1}],
        reports={
            "a": {
                "epsilon_spent": 1.0,
                "epsilon_budget": 5.0,
                "dp_delta": 1e-5,
                "energy_kwh": 0.5,
                "co2_kg": 0.2,
            },
            "b": {"epsilon_spent": 2.0},
        },
    )
    r2 = RoundOutcome(
        2,
        "skipped",
        contributors=["a"],
        log_index=9,
        reports={"a": {"epsilon_spent": 1.5, "energy_kwh": 0.25, "co2_kg": 0.1}},
    )
    return TrainingResult(np.zeros(3), [r1, r2])


def test_training_report_keeps_only_finite_non_negative_decimals() -> None:
    report = training_report(
        {
            "epsilon_spent": "1.25",
            "epsilon_budget": "nan",
            "dp_delta": "-1",
            "energy_kwh": 3,
            "co2_kg": "x",
            "other": "2",
        }
    )
    assert report == {"epsilon_spent": 1.25}


def test_nodes_are_accepted_contributors_with_their_last_spend() -> None:
    result = _result()
    nodes = node_entries(result, {"a": "DE", "b": "IN"})
    assert [n["node_id"] for n in nodes] == ["a", "b"]
    assert nodes[0]["epsilon_spent"] == 1.5  # the skipped round still spent privacy
    assert nodes[0]["jurisdiction"] == "DE" and nodes[0]["rounds_contributed"] == 1
    assert nodes[1]["epsilon_budget"] is None  # b's policy kept it home


def test_footprints_sum_over_rounds_and_name_unmeasured_nodes() -> None:
    per_node = {f["node_id"]: f for f in footprints(_result(), {"a": "DE", "b": "IN"})}
    assert per_node["a"]["energy_kwh"] == pytest.approx(0.75)
    assert per_node["a"]["co2_kg"] == pytest.approx(0.3)
    assert per_node["a"]["rounds_measured"] == 2
    assert per_node["b"]["energy_kwh"] is None and per_node["b"]["reason"]


def test_publication_carries_t_and_envelopes_of_accepted_rounds() -> None:
    from coordinator.federation.config import FederationConfig

    config = FederationConfig(coordinator_home=Path("."), t=2)
    model = PublishedModel("m", "v", initial_weights(FeatureSpec(), 0))
    payload = publication_payload(config, "run-1", model, _result())
    assert payload["content_hash"] == model.content_hash and payload["run"] == "run-1"
    assert payload["t"] == 2 and payload["attestations"] == {"1": [{"sig": 1}]}
    assert [c["status"] for c in round_claims(_result())] == ["accepted", "skipped"]


def test_node_report_fields_are_strings_and_omit_an_unmeasured_footprint() -> None:
    update = LocalUpdate(
        np.zeros(2), 1, 0.75, 8.0, 1e-5, Footprint("DE", energy_kwh=1e-7, co2_kg=4e-8)
    )
    fields = report_fields(update)
    assert set(fields) == set(wire.REPORT_FIELDS)
    assert all(isinstance(v, str) for v in fields.values())
    assert training_report(fields)["epsilon_spent"] == 0.75
    unmeasured = LocalUpdate(np.zeros(2), 1, 0.75, 8.0, 1e-5, Footprint("EU", reason="x"))
    assert set(report_fields(unmeasured)) == {"epsilon_spent", "epsilon_budget", "dp_delta"}


def test_evaluation_set_verb_is_deterministic_and_read_back(tmp_path: Path) -> None:
    runner = CliRunner()
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        result = runner.invoke(
            node_app,
            [
                "evaluation-set",
                str(path),
                "--jurisdictions",
                "DE,IN",
                "--records",
                "5",
                "--seed",
                "3",
            ],
        )
        assert result.exit_code == 0, result.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    records, truth = read_evaluation_set(paths[0].read_bytes())
    assert set(records["jurisdiction"]) == {"DE", "IN"} and len(truth) == len(records)
    assert records["record_id"].str.contains("-EVAL").all()
    assert not records["facility_id"].str.contains("-F").any()
    dataset = EvaluationSet.read(paths[0]).dataset()
    assert dataset["seed"] == 3 and "seed=3" in dataset["generator"]
    assert dataset["sha256"] == hashlib.sha256(paths[0].read_bytes()).hexdigest()


def test_a_file_that_is_not_an_evaluation_set_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "records.json"
    bad.write_text('{"records": []}')
    with pytest.raises(FederationConfigError, match="evaluation set"):
        read_evaluation_set_file(bad)
    with pytest.raises(FederationConfigError, match="cannot read"):
        read_evaluation_set_file(tmp_path / "missing.json")
