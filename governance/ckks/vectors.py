"""Encrypted vectors that carry their key id, and the checks that keep garbage out.

A vector longer than one ciphertext's slots (N/2 = 4096) is split into chunks, one
ciphertext each. Everything that combines or opens vectors first checks key ids and
lengths, and every ciphertext a party receives is loaded against the expected context
and checked for ring size, modulus level, scale and size before it is used — a
ciphertext made under other parameters would otherwise decrypt to noise without error.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import tenseal as ts

from governance.ckks.context import KEY_ID_HEX_CHARS, CkksKey
from governance.ckks.errors import (
    CiphertextParameterError,
    KeyIdMismatchError,
    MissingSecretKeyError,
    VectorShapeError,
)

WIRE_MAGIC = b"GCDTCKV1"
# Largest vector we accept: 256 ciphertexts (~85 MB), far above any model or statistic
# we send; bounds what a malicious peer can make us allocate.
MAX_CHUNKS = 256
FRESH_CIPHERTEXT_SIZE = 2  # polynomials in a fresh or summed (never multiplied) ciphertext


@dataclass(frozen=True)
class EncryptedVector:
    key_id: str
    length: int
    chunks: tuple[bytes, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key_id) != KEY_ID_HEX_CHARS or any(
            c not in "0123456789abcdef" for c in self.key_id
        ):
            raise VectorShapeError(f"key id must be {KEY_ID_HEX_CHARS} hex chars: {self.key_id!r}")
        if self.length < 1:
            raise VectorShapeError(f"encrypted vector length must be >= 1, got {self.length}")
        if not 1 <= len(self.chunks) <= MAX_CHUNKS:
            raise VectorShapeError(
                f"encrypted vector has {len(self.chunks)} ciphertexts, expected 1..{MAX_CHUNKS}"
            )

    @property
    def nbytes(self) -> int:
        return sum(len(c) for c in self.chunks)

    def to_bytes(self) -> bytes:
        """Framing: magic, key id, length, chunk count, then length-prefixed chunks."""
        parts = [
            WIRE_MAGIC,
            self.key_id.encode("ascii"),
            struct.pack(">II", self.length, len(self.chunks)),
        ]
        for chunk in self.chunks:
            parts.append(struct.pack(">Q", len(chunk)))
            parts.append(chunk)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> EncryptedVector:
        head = len(WIRE_MAGIC) + KEY_ID_HEX_CHARS + 8
        if len(data) < head or not data.startswith(WIRE_MAGIC):
            raise CiphertextParameterError("not an encrypted vector (bad magic or too short)")
        key_id = data[len(WIRE_MAGIC) : len(WIRE_MAGIC) + KEY_ID_HEX_CHARS].decode(
            "ascii", errors="replace"
        )
        length, count = struct.unpack(">II", data[head - 8 : head])
        if count > MAX_CHUNKS:
            raise CiphertextParameterError(f"encrypted vector claims {count} ciphertexts")
        offset, chunks = head, []
        for index in range(count):
            if offset + 8 > len(data):
                raise CiphertextParameterError(f"encrypted vector truncated at ciphertext {index}")
            (size,) = struct.unpack(">Q", data[offset : offset + 8])
            offset += 8
            if offset + size > len(data):
                raise CiphertextParameterError(f"encrypted vector truncated at ciphertext {index}")
            chunks.append(data[offset : offset + size])
            offset += size
        if offset != len(data):
            raise CiphertextParameterError("trailing bytes after the last ciphertext")
        return cls(key_id, length, tuple(chunks))


def _chunk_lengths(length: int, slots: int) -> list[int]:
    full, rest = divmod(length, slots)
    return [slots] * full + ([rest] if rest else [])


def _require_key(key: CkksKey, vector: EncryptedVector, what: str) -> None:
    if vector.key_id != key.key_id:
        raise KeyIdMismatchError(
            f"{what}: ciphertext is under key {vector.key_id}, context is key {key.key_id}"
        )


def encrypt(key: CkksKey, values: Sequence[float]) -> EncryptedVector:
    """Encrypt with the public key (the secret key is not needed, nor used)."""
    data = [float(v) for v in values]
    if not data:
        raise VectorShapeError("cannot encrypt an empty vector")
    bad = next((i for i, v in enumerate(data) if not math.isfinite(v)), None)
    if bad is not None:
        raise VectorShapeError(f"value at index {bad} is not finite: {data[bad]!r}")
    chunks, start = [], 0
    for size in _chunk_lengths(len(data), key.params.slots):
        vec = ts.ckks_vector(key.context, data[start : start + size])
        chunks.append(bytes(vec.serialize()))
        start += size
    if len(chunks) > MAX_CHUNKS:
        raise VectorShapeError(
            f"vector of {len(data)} values needs more than {MAX_CHUNKS} ciphertexts"
        )
    return EncryptedVector(key.key_id, len(data), tuple(chunks))


def _load_checked(key: CkksKey, vector: EncryptedVector) -> list[ts.CKKSVector]:
    expected_sizes = _chunk_lengths(vector.length, key.params.slots)
    if len(expected_sizes) != len(vector.chunks):
        raise CiphertextParameterError(
            f"vector of length {vector.length} needs {len(expected_sizes)} ciphertexts, "
            f"got {len(vector.chunks)}"
        )
    seal = key.context.seal_context().data
    first_parms_id = seal.first_parms_id()
    loaded = []
    for index, (chunk, size) in enumerate(zip(vector.chunks, expected_sizes, strict=True)):
        where = f"ciphertext {index} of vector under key {vector.key_id}"
        try:
            vec = ts.ckks_vector_from(key.context, chunk)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise CiphertextParameterError(
                f"{where} does not load into the context: {exc}"
            ) from exc
        cts = vec.ciphertext()
        problems = []
        if vec.size() != size:
            problems.append(f"holds {vec.size()} values, expected {size}")
        if len(cts) != 1:
            problems.append(f"has {len(cts)} SEAL ciphertexts, expected 1")
        else:
            ct = cts[0]
            if ct.poly_modulus_degree() != key.params.poly_modulus_degree:
                problems.append(
                    f"poly modulus degree {ct.poly_modulus_degree()}, "
                    f"expected {key.params.poly_modulus_degree}"
                )
            if ct.coeff_modulus_size() != key.params.data_level_moduli:
                problems.append(
                    f"{ct.coeff_modulus_size()} coefficient moduli, "
                    f"expected {key.params.data_level_moduli}"
                )
            if ct.parms_id() != first_parms_id:
                problems.append("encryption parameters id differs from the context's")
            if ct.scale != key.params.global_scale:
                problems.append(f"scale {ct.scale!r}, expected {key.params.global_scale!r}")
            if ct.size() != FRESH_CIPHERTEXT_SIZE:
                problems.append(f"size {ct.size()}, expected {FRESH_CIPHERTEXT_SIZE}")
        if problems:
            raise CiphertextParameterError(f"{where}: " + "; ".join(problems))
        loaded.append(vec)
    return loaded


def check_ciphertext(key: CkksKey, vector: EncryptedVector) -> None:
    """Refuse a vector under another key or whose ciphertexts do not fit ``key``'s context."""
    _require_key(key, vector, "check")
    _load_checked(key, vector)


def add(key: CkksKey, a: EncryptedVector, b: EncryptedVector) -> EncryptedVector:
    """Slot-wise sum; needs only the public context."""
    return add_all(key, [a, b])


def add_all(key: CkksKey, vectors: Sequence[EncryptedVector]) -> EncryptedVector:
    """Slot-wise sum of many vectors, each checked before it is used."""
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


def decrypt(key: CkksKey, vector: EncryptedVector) -> list[float]:
    """Open a vector with the secret key it was made under; anything else is refused."""
    if not key.is_private:
        raise MissingSecretKeyError(
            f"context of key {key.key_id} is public-only: it cannot decrypt"
        )
    _require_key(key, vector, "decrypt")
    values: list[float] = []
    for vec in _load_checked(key, vector):
        values.extend(float(v) for v in vec.decrypt())
    return values
