"""Three encrypted, DP rounds over Flower's simulation engine (Ray)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_public_key
from coordinator.federation.server_app import build_server_app
from coordinator.registry import ModelRegistry
from coordinator.store import CoordinatorStore
from governance.db import make_engine
from governance.privacy import PrivacyLedger
from governance.settings import load_settings
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from open_models.published import PublishedModel
from tests.federation.homes import assert_cannot_decrypt, make_federation
from trust_node.federation.client_app import build_client_app
from trust_node.federation.runtime import NodeRuntime

flwr_sim = pytest.importorskip("flwr.simulation")


@pytest.mark.slow
def test_three_encrypted_dp_rounds(tmp_path: Path) -> None:
    fed = make_federation(tmp_path, nodes=3, key_holders=2)
    config = FederationConfig(coordinator_home=fed.coordinator_home, rounds=3, quorum=2,
                              min_nodes=3, t=2, round_timeout_s=300, attest_timeout_s=120)
    flwr_sim.run_simulation(
        server_app=build_server_app(config),
        client_app=build_client_app([str(h) for h in fed.node_homes]),
        num_supernodes=3,
        backend_config={"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": 2}},
    )
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
        parts = [np.load(h / "federation" / run / f"round-{round_no}.npz")
                 for h in fed.node_homes]
        n = np.array([float(p["num_examples"]) for p in parts])
        deltas = np.stack([p["delta"] for p in parts])
        expected = expected + (deltas * n[:, None]).sum(axis=0) / n.sum()
    assert np.allclose(flatten(model.weights, layout), expected, atol=1e-4)

    # Every node installed the published model.
    for home in fed.node_homes:
        installed = PublishedModel.load(home / "models" / "current")
        assert installed.content_hash == content_hash

    # The coordinator held no secret key: its context cannot decrypt.
    assert_cannot_decrypt(load_public_key(CoordinatorStore(engine)))
    assert not list(fed.coordinator_home.rglob("*.keypkg"))

    # The ledger shows the accountant's epsilon for each node's three charges.
    for home in fed.node_homes:
        runtime = NodeRuntime.open(home)
        policy = runtime.policy
        charges = PrivacyLedger(runtime.engine).charges(
            runtime.node_id, "training", policy.privacy_budget.accounting_period)
        assert len(charges) == 3
        spent = runtime.ledger.spent(runtime.node_id, "training",
                                     policy.privacy_budget.accounting_period,
                                     policy.privacy_budget.delta)
        assert spent == pytest.approx(charges[-1].epsilon_after)
        assert 0 < spent <= policy.privacy_budget.epsilon
