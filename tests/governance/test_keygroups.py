"""Key-group custody parts: fixed point, shares, discrete Gaussian noise, BFV shares, the
per-group ceremony and the recombination gate (the attacks are in ``tests/attacks``)."""

from __future__ import annotations

import numpy as np
import pytest

from governance.ckks import KeyIdMismatchError, MissingSecretKeyError, TransportKey
from governance.ckks.errors import (
    KeyPackageError,
    KeyPackageSignatureError,
    MalformedKeyPackageError,
)
from governance.identity import Identity
from governance.keygroups import (
    DEFAULT_BFV,
    BfvKey,
    BfvParameterError,
    BfvParameters,
    FixedPointRangeError,
    GroupKeyPackage,
    GroupMismatchError,
    GroupPublicKey,
    KeyGroup,
    KeyGroupPolicyError,
    add_discrete_gaussian,
    add_shares,
    check_groups,
    decode,
    decrypt_share,
    encode,
    encrypt_share,
    key_groups,
    load_group_key,
    open_group_package,
    open_group_public_key,
    recombine,
    run_group_ceremony,
    share_contribution,
    split,
)

P = DEFAULT_BFV.plain_modulus


@pytest.fixture(scope="module")
def key_a() -> BfvKey:
    return BfvKey.create("group-a")


def test_parameters_are_the_measured_ones() -> None:
    assert P == 2_199_023_190_017 and P.bit_length() == 41 and P % 16384 == 1
    assert sum(DEFAULT_BFV.coeff_mod_bit_sizes) == 218  # 128-bit limit for N = 8192
    with pytest.raises(BfvParameterError, match="not prime"):
        BfvParameters(plain_modulus=P + 16384 * 3)  # ≡ 1 mod 16384, composite (divisible by 3)
    with pytest.raises(BfvParameterError, match="128-bit"):
        BfvParameters(coeff_mod_bit_sizes=(60, 60, 60, 60))


def test_encode_refuses_what_could_wrap_and_decodes_signed_values() -> None:
    encoded = encode([1.5, -2.25, 0.0], max_contributors=10)
    assert encoded == [1.5 * 2**20, -2.25 * 2**20, 0]
    assert decode([e % P for e in encoded]) == [1.5, -2.25, 0.0]
    with pytest.raises(FixedPointRangeError, match="index 1"):
        encode([1.0, 2e5], max_contributors=10)  # 10 * 2e5 > 1,048,575
    with pytest.raises(FixedPointRangeError, match="not finite"):
        encode([float("nan")], max_contributors=1)


def test_shares_sum_to_the_value_and_each_proper_subset_is_uniform() -> None:
    values = [12345, -7, 0, P // 3]
    shares = split(values, 3)
    assert len(shares) == 3
    assert recombine(shares) == [v % P for v in values]
    with pytest.raises(KeyGroupPolicyError):
        split(values, 1)
    # the same value, shared many times: each share's top bit is a fair coin
    many = [split([0], 2)[k][0] for k in (0, 1) for _ in range(400)]
    high = sum(1 for s in many if s > P // 2) / len(many)
    assert 0.4 < high < 0.6


def test_discrete_gaussian_is_integer_and_has_the_asked_spread() -> None:
    noisy = add_discrete_gaussian([0] * 4000, 2.0, fractional_bits=4)
    assert all(isinstance(v, int) for v in noisy)
    assert float(np.std(noisy)) == pytest.approx(2.0 * 16, rel=0.1)
    assert add_discrete_gaussian([5, 6], 0.0) == [5, 6]
    with pytest.raises(FixedPointRangeError):
        add_discrete_gaussian([0], -1.0)


def test_bfv_shares_add_exactly_mod_p_and_stay_in_their_group(key_a: BfvKey) -> None:
    pub = key_a.public()
    assert not pub.is_private
    x, y = [P - 1, 5, 7], [3, P - 2, 0]
    total = add_shares(pub, [encrypt_share(pub, x), encrypt_share(pub, y)])
    assert decrypt_share(key_a, total) == [2, 3, 7]
    with pytest.raises(MissingSecretKeyError):
        decrypt_share(pub, total)
    other = BfvKey.create("group-b")
    with pytest.raises(KeyIdMismatchError):
        decrypt_share(other, total)
    with pytest.raises(KeyIdMismatchError):
        add_shares(pub, [total, encrypt_share(other.public(), x)])


def test_public_load_refuses_secret_bytes_and_other_parameters(key_a: BfvKey) -> None:
    secret = key_a.secret_bytes(i_understand_this_exports_the_secret_key=True)
    with pytest.raises(Exception, match="secret key"):
        load_group_key(secret, group="group-a", secret=False)
    with pytest.raises(BfvParameterError, match="plain_modulus"):
        load_group_key(
            key_a.public_bytes(),
            group="group-a",
            params=BfvParameters(plain_modulus=65537),
            secret=False,
        )


def test_policy_groups_need_two_disjoint_groups() -> None:
    policy = {
        "key_groups": [{"group": "b", "holders": ["n3"]}, {"group": "a", "holders": ["n1", "n2"]}]
    }
    assert [g.group for g in key_groups(policy)] == ["a", "b"]
    with pytest.raises(KeyGroupPolicyError, match="at least 2"):
        check_groups([KeyGroup("a", ("n1",))])
    with pytest.raises(KeyGroupPolicyError, match="both"):
        check_groups([KeyGroup("a", ("n1",)), KeyGroup("b", ("n1",))])
    with pytest.raises(KeyGroupPolicyError, match="no key_groups"):
        key_groups({})


def test_group_ceremony_seals_to_exactly_the_groups_holders() -> None:
    ceremony = Identity.generate("ceremony")
    transport = {n: TransportKey.generate() for n in ("n1", "n2", "n3")}
    group = KeyGroup("group-a", ("n1", "n2"))
    with pytest.raises(KeyPackageError, match="only"):
        run_group_ceremony(
            ceremony, group, {n: t.public_bytes for n, t in transport.items()}, "2026"
        )
    out = run_group_ceremony(
        ceremony, group, {n: transport[n].public_bytes for n in group.holders}, "2026"
    )
    assert set(out.packages) == {"n1", "n2"}
    key = open_group_package(
        out.packages["n1"],
        node_id="n1",
        group=group,
        transport_key=transport["n1"],
        ceremony_public_key=ceremony.public_key,
    )
    public = open_group_public_key(out.public_key, ceremony_public_key=ceremony.public_key)
    assert key.key_id == public.key_id == out.key_id and key.is_private
    assert decrypt_share(key, encrypt_share(public, [1, 2])) == [1, 2]
    with pytest.raises(GroupMismatchError):
        open_group_package(
            out.packages["n1"],
            node_id="n1",
            group=KeyGroup("group-b", ("n1",)),
            transport_key=transport["n1"],
            ceremony_public_key=ceremony.public_key,
        )
    with pytest.raises(KeyPackageSignatureError):
        open_group_public_key(out.public_key, ceremony_public_key=Identity.generate("x").public_key)


def test_key_id_is_stable_after_the_key_is_used(key_a: BfvKey) -> None:
    pub = key_a.public()
    decrypt_share(key_a, encrypt_share(pub, [1]))
    assert key_a.public().key_id == pub.key_id == key_a.key_id


def test_noise_is_added_before_splitting_and_survives_recombination(key_a: BfvKey) -> None:
    key_b = BfvKey.create("group-b")
    values = [0.25 * (i % 7) for i in range(2000)]
    shares = share_contribution(values, [key_a.public(), key_b.public()], sigma=0.01)
    read = decode(recombine([decrypt_share(k, shares[k.group]) for k in (key_a, key_b)]))
    noise = [r - v for r, v in zip(read, values, strict=True)]
    assert float(np.std(noise)) == pytest.approx(0.01, rel=0.15)
    assert all(abs(n) < 0.1 for n in noise)  # 10 sigma: the values themselves are intact


def test_group_packages_and_public_keys_survive_their_byte_framing() -> None:
    ceremony = Identity.generate("ceremony")
    transport = TransportKey.generate()
    group = KeyGroup("group-a", ("n1",))
    out = run_group_ceremony(ceremony, group, {"n1": transport.public_bytes}, "2026")
    package = GroupKeyPackage.from_bytes(out.packages["n1"].to_bytes())
    key = open_group_package(
        package,
        node_id="n1",
        group=group,
        transport_key=transport,
        ceremony_public_key=ceremony.public_key,
    )
    public = open_group_public_key(
        GroupPublicKey.from_bytes(out.public_key.to_bytes()),
        ceremony_public_key=ceremony.public_key,
    )
    assert key.key_id == public.key_id == out.key_id
    renamed = out.packages["n1"].to_bytes().replace(b'"group-a"', b'"group-b"')
    with pytest.raises(KeyPackageSignatureError):
        open_group_package(
            GroupKeyPackage.from_bytes(renamed),
            node_id="n1",
            group=KeyGroup("group-b", ("n1",)),
            transport_key=transport,
            ceremony_public_key=ceremony.public_key,
        )
    with pytest.raises(MalformedKeyPackageError):
        GroupKeyPackage.from_bytes(b'{"type": "gcdt.keygroup.key-package.v1"}')
    with pytest.raises(MalformedKeyPackageError):
        GroupPublicKey.from_bytes(b"not json")
