"""Three encrypted, DP rounds over Flower's simulation engine (Ray), then the audit.

One federation per module: the first test checks the arithmetic, the ledger and the
coordinator's lack of secret keys; the second exports the coordinator through its portal
and runs ``gcdt-audit verify-model`` and ``reproduce-eval`` on it, then tampers.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from coordinator.context import CoordinatorContext
from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_public_key
from coordinator.federation.server_app import build_server_app
from coordinator.portal.services import TransparencyService, public_log
from coordinator.registry import ModelRegistry
from coordinator.store import CoordinatorStore
from governance.audit_cli import app as audit_app
from governance.privacy import PrivacyLedger
from kernel.db import make_engine
from kernel.settings import load_settings
from open_models.evaluation_set import EVALUATION_SET_FILE
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from open_models.published import PublishedModel
from tests.federation.homes import (
    JURISDICTIONS,
    Federation,
    assert_cannot_decrypt,
    attesting,
    running_federation,
    start_ray,
)
from trust_node.context import NodeContext
from trust_node.federation.client_app import build_client_app
from trust_node.federation.evaluation_set import write_evaluation_set

flwr_sim = pytest.importorskip("flwr.simulation")


@dataclass
class Simulated:
    fed: Federation
    tmp: Path


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    tmp = tmp_path_factory.mktemp("simulation")
    evaluation = write_evaluation_set(tmp / "evaluation_set.json", JURISDICTIONS, records=20)
    with running_federation(tmp, nodes=3, key_holders=2) as fed, attesting(fed):
        config = FederationConfig(
            coordinator_home=fed.coordinator_home,
            rounds=3,
            quorum=2,
            min_nodes=3,
            t=2,
            round_timeout_s=300,
            attest_timeout_s=120,
            evaluation_set=evaluation,
        )
        start_ray(num_cpus=2)
        flwr_sim.run_simulation(
            server_app=build_server_app(config),
            client_app=build_client_app([str(h) for h in fed.node_homes]),
            num_supernodes=3,
            backend_config={"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": 2}},
        )
    return Simulated(fed, tmp)


@pytest.mark.slow
def test_three_encrypted_dp_rounds(simulated: Simulated) -> None:
    fed, tmp_path = simulated.fed, simulated.tmp
    engine = make_engine(load_settings(home=fed.coordinator_home).database_url)
    registry = ModelRegistry(engine)
    [(model_id, version, content_hash, log_index)] = registry.list()
    assert log_index >= 0
    registry.export(model_id, version, tmp_path / "export")
    model = PublishedModel.load(tmp_path / "export")

    # The aggregate equals plaintext FedAvg of the same clipped, noised node updates.
    spec = FeatureSpec()
    layout = weight_layout(spec)
    expected = flatten(initial_weights(spec, 0), layout)
    run = version
    for round_no in (1, 2, 3):
        parts = [np.load(h / "federation" / run / f"round-{round_no}.npz") for h in fed.node_homes]
        deltas = np.stack([p["delta"] for p in parts])
        # every update weighs the public constant 1: the plain mean (issue 14)
        expected = expected + deltas.mean(axis=0)
    assert np.allclose(flatten(model.weights, layout), expected, atol=1e-4)

    # Every node installed the published model.
    for home in fed.node_homes:
        installed = PublishedModel.load(home / "models" / "current")
        assert installed.content_hash == content_hash

    # The coordinator held no secret key: its context cannot decrypt.
    assert_cannot_decrypt(
        load_public_key(
            CoordinatorStore(engine), CoordinatorContext.open(fed.coordinator_home).trust_policy
        )
    )
    assert not list(fed.coordinator_home.rglob("*.keypkg"))

    # The ledger shows the accountant's epsilon for each node's three charges.
    for home in fed.node_homes:
        runtime = NodeContext.open(home)
        policy = runtime.node_policy
        charges = PrivacyLedger(runtime.engine).charges(
            runtime.node_id, "facility", policy.privacy_budget.accounting_period
        )
        assert len(charges) == 3
        spent = runtime.ledger.spent(
            runtime.node_id,
            "facility",
            policy.privacy_budget.accounting_period,
            policy.privacy_budget.delta,
        )
        assert spent == pytest.approx(charges[-1].epsilon_after)
        assert 0 < spent <= policy.privacy_budget.epsilon


runner = CliRunner()


def _audit(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(audit_app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def _codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


@pytest.mark.slow
def test_published_model_verifies_and_reproduces(simulated: Simulated) -> None:
    fed = simulated.fed
    settings = load_settings(home=fed.coordinator_home)
    engine = make_engine(settings.database_url)
    data = TransparencyService(engine, public_log(engine, fed.coordinator_home)).export()
    [(model_id, version, _, _)] = ModelRegistry(engine).list()
    engine.dispose()
    export = simulated.tmp / "export.zip"
    export.write_bytes(data)

    code, report = _audit("verify-model", model_id, "--export", str(export), "--strict")
    assert code == 0, report
    assert report["rounds"] == [1, 2, 3] and report["t"] == 2
    code, report = _audit("reproduce-eval", model_id, "--export", str(export))
    assert code == 0, report

    # The card states what each node signed and the ledger holds; footprint and baselines.
    directory = simulated.tmp / "unpacked"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(directory)
    model_dir = directory / "models" / model_id / version
    card = PublishedModel.load(model_dir).card
    nodes = {n["node_id"]: n for n in card["federation"]["nodes"]}
    assert len(nodes) == 3
    for home in fed.node_homes:
        runtime = NodeContext.open(home)
        period = runtime.node_policy.privacy_budget.accounting_period
        last = PrivacyLedger(runtime.engine).charges(runtime.node_id, "facility", period)[-1]
        assert nodes[runtime.node_id]["epsilon_spent"] == pytest.approx(last.epsilon_after)
        assert (
            nodes[runtime.node_id]["epsilon_budget"] == runtime.node_policy.privacy_budget.epsilon
        )
    footprint = card["compute_footprint"]
    assert {f["node_id"] for f in footprint["per_node"]} == set(nodes)
    assert all(f["rounds_trained"] == 3 for f in footprint["per_node"])
    measured = [f for f in footprint["per_node"] if f["energy_kwh"] is not None]
    if measured:  # codecarbon measured on this machine
        assert footprint["total"]["energy_kwh"] == pytest.approx(
            sum(f["energy_kwh"] for f in measured)
        )
    assert set(card["evaluation"]["overall"]) == {"model", "tier1", "cbam_default"}
    assert card["evaluation"]["jurisdiction_route_worst_best_ratio"] is not None
    assert card["evaluation"]["dataset"]["file"] == EVALUATION_SET_FILE
    assert card["t"] == 2 and card["intended_use"] and card["limits"]

    # Tampering: one flipped weight byte, and an altered evaluation set.
    weights = model_dir / "weights.safetensors"
    original = weights.read_bytes()
    flipped = bytearray(original)
    flipped[-1] ^= 0x01
    weights.write_bytes(bytes(flipped))
    code, report = _audit("verify-model", model_id, "--export", str(directory))
    assert code != 0 and "weights-hash" in _codes(report)
    weights.write_bytes(original)
    code, report = _audit("verify-model", model_id, "--export", str(directory))
    assert code == 0, report
    evaluation = model_dir / EVALUATION_SET_FILE
    doc = json.loads(evaluation.read_bytes())
    doc["truth"][0]["true_direct_tco2e"] *= 0.5
    evaluation.write_text(json.dumps(doc))
    code, report = _audit("reproduce-eval", model_id, "--export", str(directory))
    assert code != 0 and "evaluation-set-hash" in _codes(report)
