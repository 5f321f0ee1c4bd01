"""The sufficient-statistics family over the real federation: Flower simulation, TenSEAL,
key holders attesting over mutual TLS, node ledgers.

What it proves: each node's release leaves only as a CKKS ciphertext through the egress
mod, is charged to its training account (two Gaussian releases, within budget), and the
published linear model is exactly ``calibrate(fit(round-1 sum), round-2 sum)`` of the
sums the key holders signed (recomputed here from the signed attestations in the log).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coordinator.context import CoordinatorContext
from coordinator.federation.config import FederationConfig
from coordinator.federation.server_app import build_server_app
from governance.envelope import Envelope
from governance.privacy import PrivacyLedger
from open_models.linear.basis import Basis
from open_models.linear.model import DEFAULT_RIDGE, LinearModel, calibrate, fit
from open_models.linear.vectors import unpack_sum
from tests.federation.homes import attesting, running_federation, start_ray
from trust_node.context import NodeContext
from trust_node.federation.client_app import build_client_app

flwr_sim = pytest.importorskip("flwr.simulation")


def _publication(home: Path) -> dict[str, Any]:
    context = CoordinatorContext.open(home)
    try:
        for entry in context.translog.iter_entries():
            payload = json.loads(entry.payload_bytes)
            if entry.kind == "publication" and payload.get("family") == "linear":
                return dict(payload)
    finally:
        context.engine.dispose()
    raise AssertionError("no linear publication in the coordinator's log")


def _attested(payload: dict[str, Any], round_no: int) -> np.ndarray:
    envelopes = [Envelope.from_json(e) for e in payload["attestations"][str(round_no)]]
    values = [tuple(e.payload["values"]) for e in envelopes if isinstance(e.payload, dict)]
    assert len(values) >= 2 and len(set(values)) == 1  # t matching signed decryptions
    return np.array([float(v) for v in values[0]])


@pytest.mark.slow
def test_linear_family_over_the_real_federation(tmp_path: Path) -> None:
    with running_federation(tmp_path, nodes=3, key_holders=2, records=120) as fed:
        with attesting(fed):
            config = FederationConfig(
                coordinator_home=fed.coordinator_home,
                rounds=2,
                quorum=2,
                min_nodes=3,
                t=2,
                round_timeout_s=300,
                attest_timeout_s=120,
                family="linear",
            )
            start_ray(num_cpus=2)
            flwr_sim.run_simulation(
                server_app=build_server_app(config),
                client_app=build_client_app([str(h) for h in fed.node_homes]),
                num_supernodes=3,
                backend_config={
                    "client_resources": {"num_cpus": 1},
                    "init_args": {"num_cpus": 2},
                },
            )
        payload = _publication(fed.coordinator_home)
        # The basis's indicators are the enrolled nodes' jurisdictions (the coordinator's
        # registry), stated in the published model.
        basis = Basis.from_dict(payload["model"]["basis"])
        statistics, nodes = unpack_sum(_attested(payload, 1), basis, "statistics")
        histogram, _ = unpack_sum(_attested(payload, 2), basis, "calibration")
        assert nodes == pytest.approx(3.0, abs=1e-3)
        recomputed = calibrate(fit(statistics, basis, DEFAULT_RIDGE), histogram)
        published = LinearModel.from_dict(payload["model"])
        for mine, theirs in zip(recomputed.theta, published.theta, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
        assert recomputed.quantiles == published.quantiles

        for home in fed.node_homes:
            runtime = NodeContext.open(home)
            budget = runtime.node_policy.privacy_budget
            charges = PrivacyLedger(runtime.engine).charges(
                runtime.node_id,
                budget.unit,
                budget.accounting_period,  # the one account
            )
            assert len(charges) == 2
            assert 0 < charges[-1].epsilon_after <= budget.epsilon
