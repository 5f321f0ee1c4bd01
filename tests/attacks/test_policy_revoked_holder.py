"""Attack: a revoked key holder's key stays in use.

A real trust: four members, key group ``g1`` held by node-a, node-b and node-c, node-a's
ceremony installed everywhere (key K1). The coordinator revokes node-c
(``gcdt-coordinator revoke``): node-c knew K1, so K1 must never be used again.

After the revocation, before any new ceremony: the coordinator refuses a submission under
K1, no node fetches K1 any more, and the remaining holders refuse to decrypt a sum under
K1 (the coordinator skipping its own check and queueing one). Then node-a runs a new
ceremony: it is sealed to node-a and node-b only (K2), every remaining node takes K2,
submissions under K2 are accepted and under K1 still refused; node-c can fetch nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordinator.cli import app as coordinator_app
from coordinator.context import CoordinatorContext
from governance.ckks import CkksKey, encrypt
from kernel.wire import trust as wire
from open_models.benchmark_values import RoundTerms
from tests.trust_setup import Trust, running_trust
from trust_node.attestation import attest_pending, key_holder
from trust_node.cli_attest import key_holder_duties
from trust_node.context import NodeContext
from trust_node.egress import EgressRefusedError
from trust_node.errors import NodeSetupError
from trust_node.key_material import fetch_keys, run_key_ceremony
from trust_node.transport.client import TrustTransportError

NODES = ("node-a", "node-b", "node-c", "node-d")
HOLDERS = ("node-a", "node-b", "node-c")
REMAINING = ("node-a", "node-b", "node-d")


@pytest.fixture
def trust(tmp_path: Path) -> Iterator[Trust]:
    with running_trust(tmp_path, NODES, HOLDERS) as trust:
        yield trust


def _node(trust: Trust, node_id: str) -> NodeContext:
    return NodeContext(trust.nodes[node_id].settings)


def _submit(trust: Trust, node_id: str, key: CkksKey) -> None:
    """``node_id`` submits a statistics contribution under ``key`` in a fresh round."""
    store = CoordinatorContext(trust.coordinator).store
    round_id = store.open_round(wire.STATISTICS_ROUND)
    length = RoundTerms(
        round_id=round_id,
        years=(2023,),
        noise_multiplier=1.0,
        noise_shares=2,  # more than the one curious contributor the terms tolerate
        key_id=key.key_id,
        epsilon=1.0,
        delta=1e-5,
        k=1,
        m=1,
    ).catalogue.vector_length
    with _node(trust, node_id).client(trust.address) as client:
        client.submit(wire.STATISTICS_ROUND, round_id, [encrypt(key, [1.0] * length)])


def _holders_refuse_a_sum_under(trust: Trust, key: CkksKey, holders: tuple[str, ...]) -> None:
    """The coordinator queues a sum under ``key`` itself; each holder's pull loop refuses."""
    store = CoordinatorContext(trust.coordinator).store
    round_id = store.open_round(wire.TRAINING_ROUND)
    request = store.add_decryption_request(
        round_id=round_id,
        subject_id=f"model-update:revoked:{round_id}",
        vector=encrypt(key, [1.0, 2.0]),
        kind=wire.TRAINING_ROUND,
        parameters=None,
        submissions=[],
    )
    for holder in holders:
        node = _node(trust, holder)
        with node.client(trust.address) as client:
            assert attest_pending(client, key_holder(node), key_holder_duties()) == []
        reasons = [r.reason for r in node.refusals.entries()]
        assert any(key.key_id in r and "retired" in r for r in reasons), (holder, reasons)
    assert store.attestations(request.request_id) == []


def test_revoking_a_holder_retires_its_key_until_a_new_ceremony(trust: Trust) -> None:
    old = _node(trust, "node-d").public_key()
    assert old is not None

    result = CliRunner().invoke(
        coordinator_app,
        ["revoke", "node-c", "--home", str(trust.coordinator.home_dir), "--json"],
        env={"GCDT_DATABASE_URL": trust.coordinator.database_url},
    )
    assert result.exit_code == 0, result.output
    entries = list(CoordinatorContext(trust.coordinator).translog.iter_entries())
    assert entries[-1].kind == "revocation"
    assert entries[-1].payload["key_groups_to_rotate"] == ["g1"]

    # before the rotation: K1 is refused by the coordinator and by every remaining node
    with pytest.raises(TrustTransportError, match="revoked"):
        _submit(trust, "node-d", old)
    for node_id in REMAINING:
        node = _node(trust, node_id)
        with node.client(trust.address) as client, pytest.raises(NodeSetupError):
            fetch_keys(node.state, client)
    _holders_refuse_a_sum_under(trust, old, ("node-a", "node-b"))

    # the rotation: a remaining holder runs the ceremony, sealed to the remaining holders
    node_a = _node(trust, "node-a")
    with node_a.client(trust.address) as client:
        ceremony = run_key_ceremony(node_a.state, client)
    assert ceremony["key_holders"] == ["node-a", "node-b"]
    assert ceremony["key_id"] != old.key_id
    for node_id in REMAINING:
        node = _node(trust, node_id)
        with node.client(trust.address) as client:
            fetched = fetch_keys(node.state, client)
        assert fetched["key_id"] == ceremony["key_id"]
        assert fetched["key_holder"] == (node_id in ("node-a", "node-b"))
    new = _node(trust, "node-d").public_key()
    assert new is not None and new.key_id == ceremony["key_id"]
    _submit(trust, "node-d", new)
    with pytest.raises(EgressRefusedError, match="under key"):  # its own door refuses K1 now
        _submit(trust, "node-d", old)
    _holders_refuse_a_sum_under(trust, old, ("node-a", "node-b"))

    # node-c, revoked, gets nothing more
    node_c = _node(trust, "node-c")
    with node_c.client(trust.address) as client, pytest.raises(TrustTransportError):
        client.key_material()
    with pytest.raises(Exception, match="no key package"):
        CoordinatorContext(trust.coordinator).store.key_package(ceremony["key_id"], "node-c")
