"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs, 0-based indices.

No maintained Python library builds and checks RFC 9162 proofs in the RFC's own format
(``pymerkle`` hashes the RFC way but has its own proof format and 1-based indices), so the
algorithms live here: a few dozen lines each, checked against transparency-dev's test
vectors. SHA-256 comes from :mod:`hashlib`; nothing here is a cryptographic primitive.

The tree over entries ``D[0:n]`` (RFC 9162 §2.1.1)::

    MTH({})      = SHA-256()
    MTH({d0})    = SHA-256(0x00 || d0)                       leaf hash
    MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of 2 < n

Proof *generation* is written against a :class:`NodeReader` -- something that returns the
hash of a *perfect* subtree (``2**level`` leaves starting at ``index * 2**level``) -- so the
same code serves the in-memory :class:`MerkleTree` and the SQL-backed transparency log
without rehashing the whole log: any range hash a proof needs is at most ``log2(n)``
perfect nodes combined.

Besides RFC 9162 inclusion (§2.1.3) and consistency (§2.1.4) proofs, this module handles
the *subtree* generalisation of both from the Merkle Tree Certificates draft
(draft-ietf-plants-merkle-tree-certs §4): a subtree ``[start, end)`` is valid when
``start`` is a multiple of ``BIT_CEIL(end - start)``. RFC 9162 consistency is the special
case ``start = 0``. transparency-dev ships vectors for both, and we test both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from governance.errors import GovernanceError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1: domain separation of leaves ...
NODE_PREFIX = b"\x01"  # ... from interior nodes (blocks second-preimage splicing).
EMPTY_ROOT = hashlib.sha256(b"").digest()


class MerkleError(GovernanceError):
    """Base of Merkle tree errors."""


class ProofError(MerkleError):
    """A proof does not verify, or its parameters cannot describe a valid proof."""


class TreeRangeError(MerkleError, ValueError):
    """A proof or hash was requested for sizes or indices the tree does not have."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash; the ``0x00`` prefix keeps a leaf from hashing like an interior node."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior-node hash; the ``0x01`` prefix keeps it apart from any leaf hash."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The ``k`` of RFC 9162 §2.1.1: largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _bit_ceil(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def is_valid_subtree(start: int, end: int) -> bool:
    """MTC draft §4.1: ``[start, end)`` is non-empty and aligned to ``BIT_CEIL(end - start)``."""
    return 0 <= start < end and start % _bit_ceil(end - start) == 0


class NodeReader(Protocol):
    def perfect_node(self, level: int, index: int) -> bytes:
        """Hash of leaves ``[index << level, (index + 1) << level)``."""
        ...


def subtree_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` for a valid subtree (or the empty tree), from perfect nodes."""
    if start == end:
        return EMPTY_ROOT
    if not is_valid_subtree(start, end):
        raise TreeRangeError(f"[{start}, {end}) is not a valid subtree")
    left_parts: list[bytes] = []
    while True:
        size = end - start
        if size & (size - 1) == 0:  # a power of two: one perfect node
            level = size.bit_length() - 1
            acc = reader.perfect_node(level, start >> level)
            break
        k = _largest_power_of_two_below(size)
        level = k.bit_length() - 1
        left_parts.append(reader.perfect_node(level, start >> level))
        start += k
    for left in reversed(left_parts):
        acc = node_hash(left, acc)
    return acc


# --- Proof generation ------------------------------------------------------------------


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, deepest sibling first."""
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if index < mid:
            path.append(subtree_hash(reader, mid, hi))
            hi = mid
        else:
            path.append(subtree_hash(reader, lo, mid))
            lo = mid
    path.reverse()
    return path


def subtree_consistency_proof(reader: NodeReader, start: int, end: int, size: int) -> list[bytes]:
    """MTC draft §4.4.1 ``SUBTREE_PROOF(start, end, D[0:size])``."""
    if not is_valid_subtree(start, end) or end > size:
        raise TreeRangeError(f"[{start}, {end}) is not a valid subtree of a tree of size {size}")
    path: list[bytes] = []
    lo, hi, complete = 0, size, True
    while not (start == lo and end == hi):
        mid = lo + _largest_power_of_two_below(hi - lo)
        if end <= mid:
            path.append(subtree_hash(reader, mid, hi))
            hi = mid
        elif start >= mid:
            path.append(subtree_hash(reader, lo, mid))
            lo = mid
        else:  # start == lo: the subtree straddles mid, its left part is a full node
            path.append(subtree_hash(reader, lo, mid))
            lo = start = mid
            complete = False
    if not complete:
        path.append(subtree_hash(reader, lo, hi))
    path.reverse()
    return path


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[0:new_size])``."""
    if not 0 < old_size <= new_size:
        raise TreeRangeError(
            f"no consistency proof from size {old_size} to size {new_size} "
            "(sizes must satisfy 0 < old <= new)"
        )
    if old_size == new_size:
        return []
    return subtree_consistency_proof(reader, 0, old_size, new_size)


# --- Proof verification -----------------------------------------------------------------


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not a {HASH_SIZE}-byte SHA-256 hash")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        _check_hash(f"proof[{i}]", element)


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``proof`` implies for leaf hash ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash("leaf hash", leaf)
    _check_proof_hashes(proof)
    left_steps: list[bool] = []  # True: our node is the left child at this depth
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if index < mid:
            left_steps.append(True)
            hi = mid
        else:
            left_steps.append(False)
            lo = mid
    if len(proof) != len(left_steps):
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} needs "
            f"{len(left_steps)} hashes, got {len(proof)}"
        )
    acc = leaf
    for is_left, sibling in zip(reversed(left_steps), proof, strict=True):
        acc = node_hash(acc, sibling) if is_left else node_hash(sibling, acc)
    return acc


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows leaf hash ``leaf`` at ``index``."""
    _check_hash("root hash", root)
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} in tree of size {size} gives root "
            f"{computed.hex()}, expected {root.hex()}"
        )


def verify_subtree_inclusion(
    index: int, start: int, end: int, leaf: bytes, proof: Sequence[bytes], subtree_root: bytes
) -> None:
    """MTC draft §4.3: ``leaf`` is at ``index`` in subtree ``[start, end)`` hashing to ``root``."""
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a valid subtree")
    if not start <= index < end:
        raise ProofError(f"leaf index {index} is outside subtree [{start}, {end})")
    verify_inclusion(index - start, end - start, leaf, proof, subtree_root)


def verify_subtree_consistency(
    start: int,
    end: int,
    size: int,
    proof: Sequence[bytes],
    subtree_root: bytes,
    root: bytes,
) -> None:
    """MTC draft §4.4.3: subtree ``[start, end)`` hashing to ``subtree_root`` is in the tree
    of ``size`` leaves with ``root``.

    Walks the same decomposition as :func:`subtree_consistency_proof` (fixed by the three
    sizes alone), then folds the proof bottom-up, recomputing both hashes.
    """
    if start == end:
        _verify_empty_subtree(start, size, proof, subtree_root)
        return
    if not is_valid_subtree(start, end) or end > size:
        raise ProofError(f"[{start}, {end}) is not a valid subtree of a tree of size {size}")
    steps, complete, start = _subtree_steps(start, end, size)
    expected = len(steps) + (0 if complete else 1)
    if len(proof) != expected:
        raise ProofError(f"consistency proof needs {expected} hashes, got {len(proof)}")
    _check_proof_hashes(proof)
    sub, tree = _fold_subtree_proof(steps, complete, proof, subtree_root)
    if sub != subtree_root:
        raise ProofError(
            f"consistency proof gives subtree [{start}, {end}) hash {sub.hex()}, "
            f"expected {subtree_root.hex()}"
        )
    if tree != root:
        raise ProofError(
            f"consistency proof gives root {tree.hex()} for size {size}, expected {root.hex()}"
        )


def _verify_empty_subtree(
    start: int, size: int, proof: Sequence[bytes], subtree_root: bytes
) -> None:
    """An empty subtree is trivially contained; only its position or hash can be wrong."""
    if start > size:
        raise ProofError(f"empty subtree at {start} lies beyond a tree of size {size}")
    if proof:
        raise ProofError("proof for an empty subtree must be empty")
    if subtree_root != EMPTY_ROOT:
        raise ProofError("empty subtree's hash is not the empty-tree hash")


def _subtree_steps(start: int, end: int, size: int) -> tuple[list[str], bool, int]:
    """The walk from the root down to ``[start, end)``: its steps, whether the subtree is
    a node of the tree (no split), and where the subtree's right part starts after splits.

    Steps are "L" (went left), "R" (went right), "S" (split at a full left node).
    """
    steps: list[str] = []
    lo, hi, complete = 0, size, True
    while not (start == lo and end == hi):
        mid = lo + _largest_power_of_two_below(hi - lo)
        if end <= mid:
            steps.append("L")
            hi = mid
        elif start >= mid:
            steps.append("R")
            lo = mid
        else:
            steps.append("S")
            lo = start = mid
            complete = False
    return steps, complete, start


def _fold_subtree_proof(
    steps: list[str], complete: bool, proof: Sequence[bytes], subtree_root: bytes
) -> tuple[bytes, bytes]:
    """Fold the proof bottom-up along ``steps``: (subtree hash, tree root) it implies."""
    remaining = iter(proof)
    if complete:
        sub = tree = subtree_root
    else:
        sub = tree = next(remaining)
    for step, sibling in zip(reversed(steps), remaining, strict=True):
        if step == "L":
            tree = node_hash(tree, sibling)
        else:
            tree = node_hash(sibling, tree)
            if step == "S":
                sub = node_hash(sibling, sub)
    return sub, tree


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise :class:`ProofError` unless the tree of ``old_size`` leaves
    with ``old_root`` is a prefix of the tree of ``new_size`` leaves with ``new_root``."""
    if old_size <= 0:  # checked before the equal-size shortcut: size 0 proves nothing
        raise ProofError(f"no consistency proof exists from size {old_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"trees of equal size {old_size} have different roots")
        return
    verify_subtree_consistency(0, old_size, new_size, proof, old_root, new_root)


# --- In-memory tree ---------------------------------------------------------------------


class MerkleTree:
    """An append-only tree keeping every perfect node: O(1) amortised per append,
    O(log n) per root or proof, O(n) memory. Used by the offline verifier and tests."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_leaf_hash(h)

    @classmethod
    def from_entries(cls, entries: Sequence[bytes]) -> MerkleTree:
        return cls([leaf_hash(e) for e in entries])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append_leaf_hash(self, h: bytes) -> None:
        if len(h) != HASH_SIZE:
            raise TreeRangeError(f"leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
        self._levels[0].append(h)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            row = self._levels[level]
            parent = node_hash(row[-2], row[-1])
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(parent)
            level += 1

    def append(self, entry: bytes) -> bytes:
        h = leaf_hash(entry)
        self.append_leaf_hash(h)
        return h

    def perfect_node(self, level: int, index: int) -> bytes:
        try:
            return self._levels[level][index]
        except IndexError:
            raise TreeRangeError(f"no perfect node at level {level}, index {index}") from None

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise TreeRangeError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return subtree_hash(self, 0, self._size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self, index, self._size(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(self, old_size, self._size(new_size))

    def subtree_consistency_proof(
        self, start: int, end: int, size: int | None = None
    ) -> list[bytes]:
        return subtree_consistency_proof(self, start, end, self._size(size))


def reader_from(perfect_node: Callable[[int, int], bytes]) -> NodeReader:
    """Adapt a plain ``(level, index) -> hash`` function to :class:`NodeReader`."""

    class _Reader:
        def perfect_node(self, level: int, index: int) -> bytes:
            return perfect_node(level, index)

    return _Reader()
