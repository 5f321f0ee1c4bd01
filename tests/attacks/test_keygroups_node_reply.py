"""Attack on the node's real training reply under key-group custody.

The real ClientApp (local DP training, then its egress mod and guard) answers a ``train``
round that names two key groups. What leaves the node is one BFV share per group, each
under that group's public key, signed with the groups named in the envelope. Every holder
of one group (with the coordinator, which has the whole reply) decrypts its share to values
uniform over the modulus; only both groups together read the node's update, which is
exactly the plaintext the node kept for its own audit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, RecordDict
from scipy import stats

from governance.ckks import EncryptedVector, TransportKey
from governance.envelope import Envelope
from governance.identity import Identity
from governance.keygroups import (
    DEFAULT_BFV,
    BfvKey,
    KeyGroup,
    decode,
    decrypt_share,
    open_group_package,
    recombine,
    run_group_ceremony,
)
from kernel.wire import flower as wire
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.attacks.door_support import leave, message_to
from tests.federation.homes import Federation, running_federation
from trust_node import keygroup_keys
from trust_node.context import NodeContext

P = DEFAULT_BFV.plain_modulus
BITS = 16  # the round's fixed point: 2^-16
ALPHA = 1e-6  # a uniform share fails a test with this probability


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(tmp_path_factory.mktemp("kg-reply"), nodes=2, records=30) as f:
        yield f


def _groups_installed(home: Path) -> dict[str, BfvKey]:
    """Run each group's ceremony, install its public key in the node's home; return the
    holders' opened secret keys by group (the holders are outside this node)."""
    ceremony = Identity.generate("ceremony")
    node = NodeContext.open(home)
    secret = {}
    for name in ("group-a", "group-b"):
        holder = f"holder-{name}"
        transport = TransportKey.generate()
        group = KeyGroup(name, (holder,))
        out = run_group_ceremony(ceremony, group, {holder: transport.public_bytes}, "2026")
        keygroup_keys.install_public_key(node.state, out.public_key, ceremony.public_key)
        secret[name] = open_group_package(
            out.packages[holder],
            node_id=holder,
            group=group,
            transport_key=transport,
            ceremony_public_key=ceremony.public_key,
        )
    return secret


def _train(key_ids: list[str]) -> RecordDict:
    spec = FeatureSpec()
    weights = flatten(initial_weights(spec), weight_layout(spec))
    return RecordDict(
        {
            wire.GLOBAL_ARRAYS: ArrayRecord({wire.WEIGHTS: Array(np.asarray(weights))}),
            wire.ROUND_CONFIG: ConfigRecord(
                {
                    wire.RUN: "kg-run",
                    wire.ROUND: 1,
                    wire.KEY_GROUP_IDS: ",".join(key_ids),
                    wire.FIXED_POINT_BITS: BITS,
                    wire.CLIP_NORM: 1.0,
                    wire.ROUNDS_REMAINING: 1,
                }
            ),
        }
    )


def _uniform(residues: list[int]) -> bool:
    counts = np.bincount([r * 50 // P for r in residues], minlength=50)
    chi2 = stats.chisquare(counts).pvalue
    ks = stats.kstest([r / P for r in residues], "uniform").pvalue
    return bool(chi2 > ALPHA and ks > ALPHA)


def test_the_nodes_reply_is_one_uniform_share_per_group(fed: Federation) -> None:
    home = fed.node_homes[0]
    secret = _groups_installed(home)
    ids = [secret["group-a"].key_id, secret["group-b"].key_id]
    reply = leave(home, message_to(_train(ids), wire.TRAIN))
    assert not reply.has_error(), reply.error.reason if reply.has_error() else ""
    frame = wire.frame_from_bytes(reply.content.config_records[wire.UPDATE][wire.EGRESS])
    shares = [EncryptedVector.from_bytes(c) for c in frame.ciphertexts]
    assert [v.key_id for v in shares] == ids  # one share per group, in group order
    payload = Envelope.from_json(dict(frame.envelope)).payload
    assert isinstance(payload, dict)
    assert payload["metadata"]["key_groups"] == "group-a,group-b"
    assert [c["key_id"] for c in payload["ciphertexts"]] == ids

    kept = np.load(NodeContext.open(home).rounds_dir / "kg-run" / "round-1.npz")
    n = int(kept["num_examples"])
    truth = np.concatenate([kept["delta"] * n, [float(n)]])

    per_group = {g: decrypt_share(k, shares[i]) for i, (g, k) in enumerate(secret.items())}
    for group, residues in per_group.items():  # every holder of one group + the coordinator
        assert _uniform(residues), f"group {group}'s share is not uniform mod p"
        alone = np.asarray(decode(residues, fractional_bits=BITS))
        assert np.sum(np.abs(alone - truth) < 1e-3) < 10, f"group {group} reads the update"
    both = np.asarray(decode(recombine(list(per_group.values())), fractional_bits=BITS))
    assert np.max(np.abs(both - truth)) <= 2.0 ** -(BITS + 1) + 1e-12
    assert not _uniform([round(x * 2**BITS) % P for x in truth])  # the test can tell
