"""Attack: every holder of one key group, colluding with the coordinator, reads one node's
contribution.

The coordinator has every ciphertext a node sent; the holders of group A have group A's
secret key. Together they decrypt the node's group-A share (no verification stands in
their way: they are the adversary). Under single-key custody that was the node's update.
Now it is one additive share modulo p: uniform over Z_p whatever the node's values, so
the decrypted residues pass a chi-square and a Kolmogorov-Smirnov test of uniformity over
the modulus and carry nothing of the node's values. The same coalition with group B
instead learns as little. With three groups, any two colluding learn as little
(any K-1 shares are jointly uniform). Only a holder of *every* group reads it (the positive control:
recombining both shares gives the node's values back, so the test can tell reading from
not reading).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from scipy import stats

from governance.keygroups import (
    DEFAULT_BFV,
    BfvKey,
    decode,
    decrypt_share,
    recombine,
    share_contribution,
)
from kernel.wire import trust as wire
from tests.attacks.keygroups_support import (
    CONTRIBUTORS,
    VALUES,
    Custody,
    World,
    make_custody,
    open_world,
    submit_round,
)

P = DEFAULT_BFV.plain_modulus
BINS = 50
#: p-values below this are "not uniform". A truly uniform share fails one test with
#: probability 1e-6; the node's plain contribution fails it with p ~ 0.
ALPHA = 1e-6


@pytest.fixture(scope="module")
def custody() -> Custody:
    return make_custody()


@pytest.fixture
def world(tmp_path: Path, custody: Custody) -> Iterator[World]:
    yield from open_world(tmp_path, custody)


def _private_rows() -> dict[str, list[float]]:
    rng = random.Random(13)
    return {n: [rng.uniform(-1.0, 1.0) for _ in range(VALUES)] for n in CONTRIBUTORS}


def _looks_uniform_mod_p(residues: list[int]) -> None:
    counts = [0] * BINS
    for r in residues:
        assert 0 <= r < P
        counts[r * BINS // P] += 1
    chi2 = stats.chisquare(counts)
    ks = stats.kstest([r / P for r in residues], "uniform")
    assert chi2.pvalue > ALPHA, f"share residues not uniform mod p (chi-square p={chi2.pvalue})"
    assert ks.pvalue > ALPHA, f"share residues not uniform mod p (KS p={ks.pvalue})"


def _carries_nothing_of(decoded: list[float], private: list[float]) -> None:
    close = sum(1 for d, x in zip(decoded, private, strict=True) if abs(d - x) < 1e-3)
    assert close < 10, f"{close} of {len(private)} values read within 1e-3"
    r = stats.pearsonr(decoded, private).statistic
    assert abs(r) < 0.15, f"decoded share correlates with the contribution (r={r})"


@pytest.mark.parametrize("colluding_group", ["group-a", "group-b"])
def test_one_group_with_the_coordinator_reads_only_uniform_noise(
    world: World, colluding_group: str
) -> None:
    rows = _private_rows()
    round_id, _ = submit_round(world, rows)
    victim = world.pipeline.store.submissions(round_id, wire.TRAINING_ROUND)[0]
    holders = next(g for g in world.custody.groups if g.group == colluding_group).holders
    for holder in holders:  # every holder of the group, each with its own opened key
        key = world.custody.holder_keys[holder]
        share = next(v for v in victim.vectors if v.key_id == key.key_id)
        residues = decrypt_share(key, share)
        _looks_uniform_mod_p(residues)
        _carries_nothing_of(decode(residues), rows[victim.node_id])
        # and the other group's share does not open with this group's key
        other = next(v for v in victim.vectors if v.key_id != key.key_id)
        with pytest.raises(Exception, match="key"):
            decrypt_share(key, other)


def test_a_holder_of_every_group_is_needed_to_read_one_contribution(world: World) -> None:
    rows = _private_rows()
    round_id, _ = submit_round(world, rows)
    victim = world.pipeline.store.submissions(round_id, wire.TRAINING_ROUND)[0]
    per_group = []
    for group in world.custody.groups:
        key = world.custody.holder_keys[group.holders[0]]
        per_group.append(
            decrypt_share(key, next(v for v in victim.vectors if v.key_id == key.key_id))
        )
    read = decode(recombine(per_group))
    assert max(abs(a - b) for a, b in zip(read, rows[victim.node_id], strict=True)) <= 2.0**-21
    # the plain contribution itself is far from uniform: the statistical test can tell
    with pytest.raises(AssertionError):
        _looks_uniform_mod_p([round(x * 2**20) % P for x in rows[victim.node_id]])


def test_with_three_groups_any_two_colluding_still_read_only_noise() -> None:
    keys = [BfvKey.create(f"group-{g}") for g in "abc"]
    private = _private_rows()[CONTRIBUTORS[0]]
    shares = share_contribution(private, [k.public() for k in keys])
    for left_out in range(3):
        coalition = [k for i, k in enumerate(keys) if i != left_out]
        together = recombine([decrypt_share(k, shares[k.group]) for k in coalition])
        _looks_uniform_mod_p(together)
        _carries_nothing_of(decode(together), private)
