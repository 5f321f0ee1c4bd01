"""Attack: the coordinator asks one key group to decrypt one node's share alone.

After a real training round under key-group custody, the coordinator turned adversary
queues, as group A's sum, node-0's group-A share by itself (writing its store directly,
skipping its own pipeline's check). A share alone is uniform noise, but if every group
decrypted node-0's share alone the node's update would be read; so group A's holders,
pulling over the real trust protocol, refuse it (too few contributors) and log why, and
nothing is attested. Group B's holders do not hold group A's key and refuse it too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coordinator.context import CoordinatorContext
from coordinator.federation.keygroups import load_training_groups
from kernel.wire import trust as wire
from tests.federation.homes import Federation, running_federation
from tests.federation.keygroups_setup import GROUPS, install_groups, train_one_round
from trust_node.attestation import attest_pending, key_holder
from trust_node.cli_attest import key_holder_duties
from trust_node.context import NodeContext


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(
        tmp_path_factory.mktemp("kg-lone"), nodes=4, records=40, key_holders=4
    ) as f:
        install_groups(f)
        yield f


def test_one_nodes_share_alone_is_refused_by_every_holder(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = train_one_round(fed, monkeypatch, "kg-lone")
    assert result.rounds[0].contributors, "no real submissions to attack"
    context = CoordinatorContext.open(fed.coordinator_home)
    store = context.store
    stored = next(subs for r in range(1, 50) if (subs := store.submissions(r, wire.TRAINING_ROUND)))
    victim = next(s for s in stored if s.node_id == "node-0")
    groups = load_training_groups(fed.coordinator_home)
    assert groups is not None and groups.groups[0].group == "group-a"
    share = victim.vector_under(groups.public_keys[0].key_id)
    assert share.key_id == groups.public_keys[0].key_id
    request = store.add_decryption_request(
        round_id=1,
        subject_id="model-update:attack:1",
        vector=share,
        kind=wire.TRAINING_ROUND,
        parameters={"key_group": "group-a"},
        submissions=[victim.id],
    )
    answered = []
    for home in fed.node_homes:  # every holder of both groups pulls and answers
        node = NodeContext.open(home)
        with node.client(fed.address) as client:
            answered += attest_pending(client, key_holder(node), key_holder_duties())
    assert [a for a in answered if a.request_id == request.request_id] == []
    assert store.attestations(request.request_id) == []
    for home in fed.node_homes:
        node = NodeContext.open(home)
        reasons = [r.reason for r in node.refusals.entries() if request.request_id in r.reason]
        assert reasons, f"{node.node_id} did not log a refusal"
        holds_a = node.node_id in GROUPS[0].holders
        assert ("contributor" if holds_a else "holds no key-group key") in reasons[0], reasons
    context.engine.dispose()
