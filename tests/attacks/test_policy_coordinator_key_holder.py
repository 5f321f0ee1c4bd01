"""Attack: the coordinator makes a key holder of its own.

A real trust: three members, key group ``g1`` held by node-a and node-b (the founding
policy, signed by all three). The coordinator, which enrols nodes and keeps their
``key_holder`` flag, flags node-c a key holder in its store (as enrolment with
``--key-holder`` did). Then node-a runs the real key ceremony and every node fetches keys.

node-c is never sent a package (the ceremony seals to the policy's holders; the
coordinator serves packages to them only), is refused decryption requests, and its
attestation is never counted: the trust server refuses it and the auditors' key-holder
set (from the logged policy) does not contain it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from coordinator.context import CoordinatorContext
from coordinator.store import tables
from governance.attestation import attest
from governance.ckks import CkksKey, encrypt
from governance.policy.logged import key_holders_in_force
from kernel.wire import trust as wire
from tests.trust_setup import Trust, running_trust
from trust_node.context import NodeContext
from trust_node.errors import NodeSetupError
from trust_node.key_material import fetch_keys, run_key_ceremony
from trust_node.transport.client import TrustTransportError

NODES = ("node-a", "node-b", "node-c")
HOLDERS = ("node-a", "node-b")


@pytest.fixture
def trust(tmp_path: Path) -> Iterator[Trust]:
    with running_trust(tmp_path, NODES, HOLDERS, ceremony=False) as trust:
        context = CoordinatorContext(trust.coordinator)
        with context.engine.begin() as conn:  # the coordinator alone: its own store
            conn.execute(
                update(tables.enrolled_nodes)
                .where(tables.enrolled_nodes.c.node_id == "node-c")
                .values(key_holder=True)
            )
        yield trust


def test_a_key_holder_added_by_the_coordinator_gets_no_key_and_never_counts(
    trust: Trust,
) -> None:
    node_a = trust.nodes["node-a"]
    with node_a.client(trust.address) as client:
        ceremony = run_key_ceremony(node_a.state, client)
    assert ceremony["key_holders"] == ["node-a", "node-b"]
    store = CoordinatorContext(trust.coordinator).store
    with pytest.raises(Exception, match="no key package"):
        store.key_package(ceremony["key_id"], "node-c")

    fetched = {}
    for node_id in NODES:
        node = NodeContext(trust.nodes[node_id].settings)
        with node.client(trust.address) as client:
            fetched[node_id] = fetch_keys(node.state, client)
    assert {n: f["key_holder"] for n, f in fetched.items()} == {
        "node-a": True,
        "node-b": True,
        "node-c": False,
    }
    node_c = NodeContext(trust.nodes["node-c"].settings)
    with pytest.raises(NodeSetupError):
        node_c.secret_key(ceremony["key_id"])

    # a sum waiting for decryption, which node-c would like to attest
    public = node_c.public_key()
    assert public is not None
    round_id = store.open_round(wire.STATISTICS_ROUND)
    request = store.add_decryption_request(
        round_id=round_id,
        subject_id=f"stats-{round_id}",
        vector=encrypt(public, [1.0]),
        kind=wire.STATISTICS_ROUND,
        parameters=None,
        submissions=[],
    )
    with node_c.client(trust.address) as client:
        with pytest.raises(TrustTransportError, match="PERMISSION_DENIED"):
            client.decryption_requests()
        own = CkksKey.create()  # whatever node-c signs, the server must not take it
        attestation = attest(
            node_c.identity,
            own,
            encrypt(own.public(), [1.0]),
            subject_id=request.subject_id,
            round_id=round_id,
        )
        with pytest.raises(TrustTransportError, match="PERMISSION_DENIED"):
            client.submit_attestation(request.request_id, round_id, attestation)
    assert store.attestations(request.request_id) == []

    # the auditors count the holders the logged member-signed policy names, not the flag
    context = CoordinatorContext(trust.coordinator)
    entries = [(e.kind, e.payload) for e in context.translog.iter_entries()]
    assert set(key_holders_in_force(entries)) == {"node-a", "node-b"}
