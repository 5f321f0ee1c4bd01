"""Attack: two training rounds whose contributors differ by one node give away its count.

Real Flower simulation, real DP training, real TenSEAL, real key holders. Round 1 has
node-0, node-1 and node-2; in round 2 node-2 is gone (it stalls past the round timeout).
The attacker (anyone reading the transparency log, the model card or the attestation
envelopes) subtracts every number published for round 2 from round 1's and looks for
node-2's record count. Before issue 14 the last slot of every update was the node's exact
number of labelled records, so round 1's ``total_weight`` minus round 2's was exactly that.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flwr.app import Context, Error, Message
from flwr.clientapp.typing import ClientAppCallable

from coordinator.federation.config import FederationConfig
from coordinator.federation.server_app import build_server_app
from coordinator.registry import ModelRegistry
from coordinator.store import open_engine
from governance.envelope import Envelope
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from open_models.training import labelled
from tests.federation.homes import attesting, running_federation, start_ray
from tests.federation.test_dropout import _allow_two_contributors
from tests.trust_setup import settings_for
from trust_node.context import NodeContext
from trust_node.federation.client_app import build_client_app
from trust_node.federation.training import LocalUpdate, local_round
from trust_node.generate import generate
from trust_node.node_setup import init_node
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository
from trust_node.tenants import consented_records

flwr_sim = pytest.importorskip("flwr.simulation")

ROUND_TIMEOUT_S = 120.0  # round 1 also warms Ray actors up on a loaded two-core machine
GONE = 2  # node-2 answers round 1 only


def stall_mod(message: Message, context: Context, call_next: ClientAppCallable) -> Message:
    if message.metadata.message_type == "train":
        round_no = int(message.content.config_records["round"]["round"])  # type: ignore[arg-type]
        if round_no == 2 and int(context.node_config["partition-id"]) == GONE:
            time.sleep(ROUND_TIMEOUT_S + 5)
            return Message(Error(code=503, reason="node was gone"), reply_to=message)
    return call_next(message, context)


def _numbers(value: Any, path: str = "") -> dict[str, float]:
    """Every number inside a JSON value, by its path."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, int | float):
        return {path: float(value)}
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _numbers(item, f"{path}.{key}").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in _numbers(item, f"{path}[{i}]").items()
        }
    return {}


def _attested_weights(publication: dict[str, Any]) -> dict[int, float]:
    """The last attested value (the summed weight slot) of each accepted round."""
    weights = {}
    for round_no, envelopes in publication["attestations"].items():
        payload = Envelope.from_json(envelopes[0]).payload
        assert isinstance(payload, dict)
        weights[int(round_no)] = float(payload["values"][-1])
    return weights


@pytest.mark.slow
def test_a_dropped_node_count_cannot_be_computed_from_what_is_published(tmp_path: Path) -> None:
    with running_federation(tmp_path, nodes=3, key_holders=2, records=40) as fed, attesting(fed):
        _allow_two_contributors(fed.coordinator_home)
        gone = NodeContext.open(fed.node_homes[GONE])
        trained = consented_records(gone.repository, "training", policy=gone.node_policy)
        counts = {len(labelled(trained)), len(trained), int(trained["facility_id"].nunique())}
        config = FederationConfig(
            coordinator_home=fed.coordinator_home,
            rounds=2,
            quorum=2,
            min_nodes=3,
            t=2,
            round_timeout_s=ROUND_TIMEOUT_S,
            attest_timeout_s=120,
        )
        client = build_client_app([str(h) for h in fed.node_homes], outer_mods=[stall_mod])
        start_ray(num_cpus=3)
        flwr_sim.run_simulation(
            server_app=build_server_app(config),
            client_app=client,
            num_supernodes=3,
            backend_config={"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": 3}},
        )
    assert all(c > 1 for c in counts), counts  # a count of 1 would hide in any difference
    engine = open_engine(load_settings(home=fed.coordinator_home))
    log = TransparencyLog(engine, Identity.load(HomeLayout(fed.coordinator_home).identity_dir))
    entries = list(log.iter_entries())
    accepted = {
        e.payload["round"]: e.payload
        for e in entries
        if e.kind == "round" and e.payload.get("event") == "round_accepted"
    }
    assert accepted[1]["contributors"] == ["node-0", "node-1", "node-2"]
    assert accepted[2]["contributors"] == ["node-0", "node-1"]
    [publication] = [e.payload for e in entries if e.kind == "publication"]
    [(model_id, version, _, _)] = ModelRegistry(engine).list()
    card = ModelRegistry(engine).get(model_id, version).card

    # The attacker's differences: the log's round entries, the attested sums, the card.
    differences = {
        f"round_accepted{path}": one - _numbers(accepted[2]).get(path, 0.0)
        for path, one in _numbers(accepted[1]).items()
        if path != ".round"
    }
    weights = _attested_weights(publication)
    differences["attested weight slot"] = weights[1] - weights[2]
    learned = {name: d for name, d in differences.items() if round(d) in counts}
    assert learned == {}, f"node-2's count {sorted(counts)} is computable from {learned}"
    # What is published instead: the public unit weights, one per contributor.
    assert accepted[1]["total_weight"] == 3 and accepted[2]["total_weight"] == 2
    assert weights == {1: pytest.approx(3.0, abs=1e-3), 2: pytest.approx(2.0, abs=1e-3)}
    assert not any(round(v) in counts for v in _numbers(card["training"]).values())


def test_an_update_weighs_the_same_whatever_the_node_count(tmp_path: Path) -> None:
    """The same attack one level down, without Flower: the weight slot of a real node's
    update (what the coordinator sums and publishes) before and after the node gains
    facilities. Before issue 14 it was the exact labelled-record count."""
    settings = settings_for(tmp_path / "node")
    init_node(settings, "node-w", "IN")
    repo = SqlRecordRepository.from_url(settings.database_url)
    spec = FeatureSpec()
    flat = flatten(initial_weights(spec), weight_layout(spec))
    slots, counts = [], []
    for seed, records in ((1, 30), (2, 45)):
        data = generate(["IN"], records=records, seed=seed).records
        data["record_id"] = f"s{seed}-" + data["record_id"]
        data["facility_id"] = f"s{seed}-" + data["facility_id"]
        repo.add_batch(OPERATOR_TENANT, data, source="test", sha256="0" * 64)
        node = NodeContext.open(settings.home_dir)
        update = local_round(node, flat, run="weights", round_no=seed, clip_norm=1.0)
        assert isinstance(update, LocalUpdate), update
        slots.append(float(update.vector[-1]))
        counts.append(len(labelled(consented_records(node.repository, "training"))))
    repo.engine.dispose()
    assert counts[0] != counts[1]
    assert slots == [1.0, 1.0], f"weight slots {slots} follow the counts {counts}"
