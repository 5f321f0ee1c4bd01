"""Shares encrypted under one group's BFV key: encrypt, check, sum, decrypt.

The ciphertexts travel in the trust's generic ciphertext frame
(:class:`governance.ckks.EncryptedVector`: key id, length, one serialized ciphertext per
chunk), so the coordinator's store, the trust protocol and the submission digests carry
them unchanged; what scheme a frame holds is told by its key id, which names exactly one
group's BFV key. Every ciphertext a party receives is loaded against that group's context
and checked for ring, modulus level and size before it is added or opened: a ciphertext
made under other parameters or another group's key would otherwise add or decrypt to
garbage without error.
"""

from __future__ import annotations

from collections.abc import Sequence

import tenseal as ts

from governance.ckks.errors import KeyIdMismatchError, MissingSecretKeyError, VectorShapeError
from governance.ckks.vectors import FRESH_CIPHERTEXT_SIZE, MAX_CHUNKS, EncryptedVector
from governance.keygroups.errors import BfvParameterError
from governance.keygroups.keys import BfvKey


def _chunk_lengths(length: int, slots: int) -> list[int]:
    full, rest = divmod(length, slots)
    return [slots] * full + ([rest] if rest else [])


def _require_key(key: BfvKey, vector: EncryptedVector, what: str) -> None:
    if vector.key_id != key.key_id:
        raise KeyIdMismatchError(
            f"{what}: share is under key {vector.key_id}, group {key.group!r}'s key is {key.key_id}"
        )


def encrypt_share(key: BfvKey, residues: Sequence[int]) -> EncryptedVector:
    """Encrypt one share (integers in [0, p)) with the group's public key."""
    data = [int(v) for v in residues]
    if not data:
        raise VectorShapeError("cannot encrypt an empty share")
    p = key.params.plain_modulus
    bad = next((i for i, v in enumerate(data) if not 0 <= v < p), None)
    if bad is not None:
        raise VectorShapeError(f"share value at index {bad} is not in [0, {p})")
    sizes = _chunk_lengths(len(data), key.params.slots)
    if len(sizes) > MAX_CHUNKS:
        raise VectorShapeError(
            f"share of {len(data)} values needs more than {MAX_CHUNKS} ciphertexts"
        )
    chunks, start = [], 0
    for size in sizes:
        chunks.append(bytes(ts.bfv_vector(key.context, data[start : start + size]).serialize()))
        start += size
    return EncryptedVector(key.key_id, len(data), tuple(chunks))


def _load_checked(key: BfvKey, vector: EncryptedVector) -> list[ts.BFVVector]:
    sizes = _chunk_lengths(vector.length, key.params.slots)
    if len(sizes) != len(vector.chunks):
        raise BfvParameterError(
            f"share of length {vector.length} needs {len(sizes)} ciphertexts, "
            f"got {len(vector.chunks)}"
        )
    first_parms_id = key.context.seal_context().data.first_parms_id()
    loaded = []
    for index, (chunk, size) in enumerate(zip(vector.chunks, sizes, strict=True)):
        where = f"ciphertext {index} of share under group {key.group!r} ({vector.key_id})"
        try:
            vec = ts.bfv_vector_from(key.context, chunk)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise BfvParameterError(f"{where} does not load into the context: {exc}") from exc
        cts = vec.ciphertext()
        problems = []
        if vec.size() != size:
            problems.append(f"holds {vec.size()} values, expected {size}")
        if len(cts) != 1:
            problems.append(f"has {len(cts)} SEAL ciphertexts, expected 1")
        else:
            ct = cts[0]
            if ct.poly_modulus_degree() != key.params.poly_modulus_degree:
                problems.append(f"poly modulus degree {ct.poly_modulus_degree()}")
            if ct.coeff_modulus_size() != key.params.data_level_moduli:
                problems.append(f"{ct.coeff_modulus_size()} coefficient moduli")
            if ct.parms_id() != first_parms_id:
                problems.append("encryption parameters id differs from the context's")
            if ct.size() != FRESH_CIPHERTEXT_SIZE:
                problems.append(f"size {ct.size()}, expected {FRESH_CIPHERTEXT_SIZE}")
        if problems:
            raise BfvParameterError(f"{where}: " + "; ".join(problems))
        loaded.append(vec)
    return loaded


def check_share(key: BfvKey, vector: EncryptedVector) -> None:
    """Refuse a share under another key or whose ciphertexts do not fit the group's context."""
    _require_key(key, vector, "check")
    _load_checked(key, vector)


def add_shares(key: BfvKey, vectors: Sequence[EncryptedVector]) -> EncryptedVector:
    """Slot-wise sum (mod p) of one group's shares; needs only the public context."""
    if not vectors:
        raise VectorShapeError("nothing to add")
    length = vectors[0].length
    for index, vector in enumerate(vectors):
        _require_key(key, vector, f"addend {index}")
        if vector.length != length:
            raise VectorShapeError(
                f"addend {index} has length {vector.length}, addend 0 has {length}"
            )
    total = _load_checked(key, vectors[0])
    for vector in vectors[1:]:
        for acc, part in zip(total, _load_checked(key, vector), strict=True):
            acc.add_(part)
    return EncryptedVector(key.key_id, length, tuple(bytes(v.serialize()) for v in total))


def decrypt_share(key: BfvKey, vector: EncryptedVector) -> list[int]:
    """Open a group's share (or share sum) as residues in [0, p)."""
    if not key.is_private:
        raise MissingSecretKeyError(
            f"group {key.group!r}'s context is public-only: it cannot decrypt"
        )
    _require_key(key, vector, "decrypt")
    p = key.params.plain_modulus
    out: list[int] = []
    for vec in _load_checked(key, vector):
        out.extend(int(v) % p for v in vec.decrypt())  # SEAL returns centred residues
    return out
