"""Merkle tree algorithms against the RFC definitions, for every size, leaf and pair of sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.translog import merkle

# RFC 6962 / transparency-dev reference leaves and the roots of their prefixes.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

N = 17
ENTRIES = [f"entry-{i}".encode() for i in range(N)]


def reference_mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written recursively exactly as the RFC states it."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])
    ).digest()


@pytest.fixture(scope="module")
def tree() -> merkle.MerkleTree:
    return merkle.MerkleTree.from_entries(ENTRIES)


def test_reference_roots() -> None:
    tree = merkle.MerkleTree.from_entries(REFERENCE_LEAVES)
    assert [tree.root(n).hex() for n in range(1, 9)] == REFERENCE_ROOTS
    assert tree.root(0) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


def test_roots_match_recursive_definition(tree: merkle.MerkleTree) -> None:
    for n in range(N + 1):
        assert tree.root(n) == reference_mth(ENTRIES[:n])


def test_domain_separation() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    # An interior node's hash input, fed as a leaf, must not collide with the node.
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)


@pytest.mark.parametrize("size", range(1, N + 1))
def test_inclusion_every_leaf(tree: merkle.MerkleTree, size: int) -> None:
    root = tree.root(size)
    for index in range(size):
        proof = tree.inclusion_proof(index, size)
        leaf = merkle.leaf_hash(ENTRIES[index])
        merkle.verify_inclusion(index, size, leaf, proof, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)
        if size > 1:
            other = (index + 1) % size
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(other, size, leaf, proof, root)
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(index, size, leaf, bad, root)


@pytest.mark.parametrize("new", range(1, N + 1))
def test_consistency_every_pair(tree: merkle.MerkleTree, new: int) -> None:
    new_root = tree.root(new)
    for old in range(1, new + 1):
        old_root = tree.root(old)
        proof = tree.consistency_proof(old, new)
        merkle.verify_consistency(old, new, old_root, new_root, proof)
        if old < new:
            # A forked history (different entry inside the old tree) must not verify.
            forked = merkle.MerkleTree.from_entries([b"fork", *ENTRIES[1:new]])
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, forked.root(old), new_root, proof)
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, old_root, forked.root(new), proof)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(old, new, old_root, new_root, bad)
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])


def test_subtree_consistency_every_valid_subtree(tree: merkle.MerkleTree) -> None:
    checked = 0
    for size in range(1, N + 1):
        root = tree.root(size)
        for start in range(size):
            for end in range(start + 1, size + 1):
                if not merkle.is_valid_subtree(start, end):
                    continue
                sub = reference_mth(ENTRIES[start:end])
                assert merkle.subtree_hash(tree, start, end) == sub
                proof = tree.subtree_consistency_proof(start, end, size)
                merkle.verify_subtree_consistency(start, end, size, proof, sub, root)
                with pytest.raises(merkle.ProofError):
                    merkle.verify_subtree_consistency(
                        start, end, size, proof, merkle.leaf_hash(b"x"), root
                    )
                checked += 1
    assert checked > 200


def test_proof_requests_out_of_range(tree: merkle.MerkleTree) -> None:
    with pytest.raises(merkle.TreeRangeError):
        tree.inclusion_proof(N, N)
    with pytest.raises(merkle.TreeRangeError):
        tree.consistency_proof(0, 3)
    with pytest.raises(merkle.TreeRangeError):
        tree.consistency_proof(5, 4)
    with pytest.raises(merkle.TreeRangeError):
        tree.root(N + 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_random_trees(entries: list[bytes], data: st.DataObject) -> None:
    tree = merkle.MerkleTree.from_entries(entries)
    n = len(entries)
    assert tree.root() == reference_mth(entries)
    index = data.draw(st.integers(0, n - 1))
    merkle.verify_inclusion(
        index, n, merkle.leaf_hash(entries[index]), tree.inclusion_proof(index), tree.root()
    )
    old = data.draw(st.integers(1, n))
    merkle.verify_consistency(old, n, tree.root(old), tree.root(), tree.consistency_proof(old))
