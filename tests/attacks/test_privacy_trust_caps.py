"""Attack: a hosting operator sets epsilon 1000 for its tenants' data, above the trust's cap.

A real trust (coordinator, three enrolled nodes, key ceremony, mutual-TLS trust server).
Before issue 14 ``node_within_trust`` was called only from tests: a node policy above the
trust policy's caps was applied, trained on and counted. Now the node refuses to apply it
(``gcdt-node policy apply``), refuses to start a release under it if it is installed anyway
(the operator signing the file by hand), and the coordinator does not count a reply whose
signed report declares a budget above the cap (a node running modified code).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, RecordDict
from typer.testing import CliRunner

from coordinator.aggregation import AggregationPipeline
from coordinator.context import CoordinatorContext
from coordinator.federation.aggregate import CkksSummer
from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_trust_keys
from coordinator.federation.rounds import FederatedTraining, RoundOutcome, TrainingRoundStatus
from governance.policy import policy_to_toml, write_policy
from kernel.wire import flower as wire
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.attacks.door_support import leave, message_to
from tests.trust_setup import Trust, running_trust
from trust_node.cli import app
from trust_node.context import NodeContext
from trust_node.federation import training as node_training
from trust_node.federation.training import LocalRefusal, local_round
from trust_node.generate import generate
from trust_node.privacy import TrustCapError
from trust_node.statistics.flow import submit_statistics
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository

LOOSE = 1000.0  # the operator's epsilon; the trust's cap is the default 8


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    nodes = ("node-a", "node-b", "node-c")
    with running_trust(tmp_path_factory.mktemp("caps"), nodes, nodes[:2]) as trust:
        for node in trust.nodes.values():
            data = generate(["IN"], records=30, seed=1)
            repo = SqlRecordRepository.from_url(node.settings.database_url)
            repo.add_batch(OPERATOR_TENANT, data.records, source="test", sha256="0" * 64)
            repo.engine.dispose()
        yield trust


def _loosen(node: NodeContext) -> None:
    """The operator signs a policy above the cap by hand (no ``policy apply``)."""
    policy = node.node_policy
    budget = policy.privacy_budget.model_copy(update={"epsilon": LOOSE})
    write_policy(
        policy.model_copy(update={"version": policy.version + 1, "privacy_budget": budget}),
        node.layout.node_policy,
        node.identity,
    )


def test_policy_apply_above_the_cap_is_refused(trust: Trust, tmp_path: Path) -> None:
    node = trust.nodes["node-a"]
    policy = node.node_policy
    budget = policy.privacy_budget.model_copy(update={"epsilon": LOOSE})
    edited = tmp_path / "node-policy.toml"
    edited.write_bytes(
        policy_to_toml(
            policy.model_copy(update={"version": policy.version + 1, "privacy_budget": budget})
        )
    )
    result = CliRunner().invoke(
        app, ["policy", "apply", str(edited), "--home", str(node.settings.home_dir)]
    )
    assert result.exit_code == 1
    assert "exceeds the trust's cap" in result.output
    assert NodeContext.open(node.settings.home_dir).node_policy.version == policy.version


def test_no_release_starts_under_a_policy_above_the_cap(trust: Trust) -> None:
    node = trust.nodes["node-c"]
    _loosen(node)
    node = NodeContext.open(node.settings.home_dir)
    spec = FeatureSpec()
    flat = flatten(initial_weights(spec), weight_layout(spec))
    refused = local_round(node, flat, run="caps", round_no=1, clip_norm=1.0)
    assert isinstance(refused, LocalRefusal) and "exceeds the trust's cap" in refused.reason
    with pytest.raises(TrustCapError, match=r"privacy_budget\.epsilon: 1000\.0 exceeds"):
        submit_statistics(node, address=trust.address)
    period = node.node_policy.privacy_budget.accounting_period
    assert node.ledger.charges(node.node_id, "facility", period) == []


def _round(trust: Trust) -> tuple[FederatedTraining, RoundOutcome, int]:
    ctx = CoordinatorContext.open(trust.coordinator.home_dir)
    keys = load_trust_keys(ctx.store, ctx.trust_policy)
    spec = FeatureSpec()
    start = flatten(initial_weights(spec), weight_layout(spec))
    config = FederationConfig(coordinator_home=trust.coordinator.home_dir, rounds=1)
    training = FederatedTraining(
        None,  # type: ignore[arg-type]  # replies are handed in below, not fetched
        config,
        summer=CkksSummer(keys.public_key, start.size + 1),
        pipeline=AggregationPipeline(ctx.store, ctx.translog, keys.public_key),
        node_keys=ctx.store.identity_keys,
        nonces=ctx.nonces,
        run_name="caps",
        initial_weights=start,
        model_version="caps",
        privacy_cap=ctx.trust_policy.privacy_budget.unit_account()[1],
    )
    return training, RoundOutcome(round=1, status=TrainingRoundStatus.SKIPPED), start.size


def test_the_coordinator_does_not_count_a_declared_budget_above_the_cap(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    node_c = trust.nodes["node-c"]
    _loosen(node_c)
    # node-c runs modified code that skips its own cap check; its reply is still signed
    monkeypatch.setattr(node_training, "check_trust_caps", lambda *_: None)
    training, outcome, _ = _round(trust)
    content = RecordDict(
        {
            wire.GLOBAL_ARRAYS: ArrayRecord(
                {wire.WEIGHTS: Array(np.ascontiguousarray(training.weights))}
            ),
            wire.ROUND_CONFIG: training._round_config(1),
        }
    )
    replies = [
        leave(trust.nodes[n].settings.home_dir, message_to(content, wire.TRAIN))
        for n in ("node-a", "node-c")
    ]
    stored = training.pipeline.open_round("training")
    training._keep_updates(replies, 1, stored, outcome)
    assert outcome.contributors == ["node-a"]
    [(who, why)] = outcome.rejected
    assert who == "node-c" and "epsilon_budget 1000 > cap 8" in why
