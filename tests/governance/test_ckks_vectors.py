"""CKKS parameters, public/secret contexts and encrypted vectors (TenSEAL, real keys)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tenseal as ts

from governance.ckks import (
    DEFAULT_PARAMETERS,
    CiphertextParameterError,
    CkksKey,
    CkksParameterError,
    CkksParameters,
    EncryptedVector,
    KeyIdMismatchError,
    MissingSecretKeyError,
    SecretExportRefusedError,
    UnexpectedSecretKeyError,
    VectorShapeError,
    add,
    add_all,
    check_ciphertext,
    decrypt,
    encrypt,
    key_id_of,
    load_public_context,
    load_secret_context,
    public_context_bytes,
    secret_context_bytes,
)
from governance.errors import GovernanceError


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create(period="2025")


@pytest.fixture(scope="module")
def public_key(secret_key: CkksKey) -> CkksKey:
    """What the coordinator holds: the context loaded from the public bytes."""
    return load_public_context(secret_key.public_bytes(), expected_key_id=secret_key.key_id)


@pytest.fixture(scope="module")
def other_key() -> CkksKey:
    return CkksKey.create(period="2025")


def test_default_parameters_are_within_the_128_bit_limit() -> None:
    p = DEFAULT_PARAMETERS
    assert (p.poly_modulus_degree, p.coeff_mod_bit_sizes, p.global_scale_bits) == (
        8192,
        (60, 40, 40, 60),
        40,
    )
    assert p.total_modulus_bits == 200 <= 218
    assert p.slots == 4096 and p.data_level_moduli == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coeff_mod_bit_sizes": (60, 60, 60, 60)}, "exceeds 218 bits"),
        ({"poly_modulus_degree": 5000}, "poly_modulus_degree"),
        ({"coeff_mod_bit_sizes": (60,)}, "coeff_mod_bit_sizes"),
    ],
)
def test_insecure_or_malformed_parameters_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(CkksParameterError, match=message):
        CkksParameters(**kwargs)


def test_public_bytes_carry_no_secret_and_no_evaluation_keys(
    secret_key: CkksKey, public_key: CkksKey
) -> None:
    data = public_context_bytes(secret_key.context)
    loaded = ts.context_from(data)
    assert not loaded.is_private()
    assert not loaded.has_secret_key()
    assert not loaded.has_galois_keys() and not loaded.has_relin_keys()
    assert loaded.has_public_key()
    assert len(data) < 1_000_000  # public key only; with Galois keys it is ~35 MB
    assert not public_key.is_private
    assert key_id_of(loaded) == secret_key.key_id


def test_public_context_cannot_decrypt_a_submission(
    secret_key: CkksKey, public_key: CkksKey
) -> None:
    """Invariant 2: the coordinator's context cannot open what a node sent."""
    submission = encrypt(secret_key.public(), [12.5, -3.0, 1e6])
    vec = ts.ckks_vector_from(public_key.context, submission.chunks[0])
    with pytest.raises(ValueError, match="secret"):
        vec.decrypt()  # TenSEAL itself refuses: there is no secret key to use
    with pytest.raises(MissingSecretKeyError):
        decrypt(public_key, submission)


def test_secret_key_is_serialized_only_on_explicit_request(secret_key: CkksKey) -> None:
    with pytest.raises(SecretExportRefusedError):
        secret_context_bytes(secret_key.context)
    with pytest.raises(SecretExportRefusedError):
        secret_context_bytes(secret_key.context, i_understand_this_exports_the_secret_key=1)  # type: ignore[arg-type]
    data = secret_context_bytes(secret_key.context, i_understand_this_exports_the_secret_key=True)
    restored = load_secret_context(data, expected_key_id=secret_key.key_id)
    assert restored.is_private and restored.key_id == secret_key.key_id


def test_secret_bytes_offered_as_public_are_refused(secret_key: CkksKey) -> None:
    data = secret_context_bytes(secret_key.context, i_understand_this_exports_the_secret_key=True)
    with pytest.raises(UnexpectedSecretKeyError):
        load_public_context(data)
    with pytest.raises(MissingSecretKeyError):
        load_secret_context(secret_key.public_bytes())
    with pytest.raises(KeyIdMismatchError):
        load_public_context(secret_key.public_bytes(), expected_key_id="0" * 32)


def test_encrypt_sum_decrypt_precision(secret_key: CkksKey, public_key: CkksKey) -> None:
    """Three nodes' vectors of 5000 values in [-1e6, 1e6] (two ciphertexts each).

    Measured on this machine: max abs error ~1.5e-8; the contract is 1e-3.
    """
    rng = np.random.default_rng(7)
    values = [rng.uniform(-1e6, 1e6, 5000) for _ in range(3)]
    encrypted = [encrypt(public_key, v.tolist()) for v in values]
    assert all(len(e.chunks) == 2 for e in encrypted)
    total = add_all(public_key, encrypted)  # on the coordinator: public context only
    check_ciphertext(public_key, total)
    result = np.array(decrypt(secret_key, total))
    error = np.max(np.abs(result - sum(values)))
    assert error < 1e-3
    assert error < 1e-6  # what we actually get; fails loudly if precision degrades


def test_add_of_two_matches_plaintext(secret_key: CkksKey, public_key: CkksKey) -> None:
    a = encrypt(public_key, [1.0, 2.0, 3.0])
    b = encrypt(public_key, [10.0, 20.0, 30.0])
    assert decrypt(secret_key, add(public_key, a, b)) == pytest.approx([11.0, 22.0, 33.0], abs=1e-6)


def test_wrong_key_id_is_refused(
    secret_key: CkksKey, public_key: CkksKey, other_key: CkksKey
) -> None:
    ours = encrypt(public_key, [1.0, 2.0])
    theirs = encrypt(other_key, [1.0, 2.0])
    with pytest.raises(KeyIdMismatchError) as info:
        decrypt(other_key, ours)
    assert isinstance(info.value, GovernanceError)
    with pytest.raises(KeyIdMismatchError, match="addend 1"):
        add(public_key, ours, theirs)
    with pytest.raises(KeyIdMismatchError):
        check_ciphertext(public_key, theirs)


def test_length_mismatch_is_refused(public_key: CkksKey) -> None:
    with pytest.raises(VectorShapeError, match="addend 1 has length 3"):
        add(public_key, encrypt(public_key, [1.0, 2.0]), encrypt(public_key, [1.0, 2.0, 3.0]))


@pytest.mark.parametrize("values", [[], [1.0, float("nan")], [float("inf")]])
def test_bad_plaintext_is_refused(public_key: CkksKey, values: list[float]) -> None:
    with pytest.raises(VectorShapeError):
        encrypt(public_key, values)


def _relabel(vector_bytes: bytes, key: CkksKey, length: int) -> EncryptedVector:
    """A ciphertext from elsewhere, dressed up with our key id (what a bad peer could send)."""
    return EncryptedVector(key.key_id, length, (vector_bytes,))


@pytest.mark.parametrize(
    ("degree", "bits"),
    [(16384, [60, 40, 40, 60]), (8192, [60, 40, 60]), (4096, [40, 20, 40])],
)
def test_ciphertext_from_other_parameters_is_refused(
    secret_key: CkksKey, degree: int, bits: list[int]
) -> None:
    foreign = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=degree, coeff_mod_bit_sizes=bits)
    foreign.global_scale = 2**20 if degree == 4096 else 2**40
    vector = _relabel(ts.ckks_vector(foreign, [1.0, 2.0]).serialize(), secret_key, 2)
    with pytest.raises(CiphertextParameterError):
        decrypt(secret_key, vector)


def test_multiplied_ciphertext_is_refused(secret_key: CkksKey) -> None:
    vec = ts.ckks_vector(secret_key.context, [1.0, 2.0])
    vec.square_()  # rescaled: one modulus fewer, another scale — not an additive aggregate
    with pytest.raises(CiphertextParameterError, match="coefficient moduli"):
        check_ciphertext(secret_key, _relabel(vec.serialize(), secret_key, 2))


def test_garbage_and_wrong_shapes_are_refused(secret_key: CkksKey, public_key: CkksKey) -> None:
    with pytest.raises(CiphertextParameterError, match="does not load"):
        check_ciphertext(public_key, _relabel(b"\x00" * 64, public_key, 2))
    real = encrypt(public_key, [1.0, 2.0, 3.0])
    with pytest.raises(CiphertextParameterError, match="holds 3 values, expected 2"):
        check_ciphertext(public_key, EncryptedVector(real.key_id, 2, real.chunks))
    with pytest.raises(CiphertextParameterError, match="needs 2 ciphertexts"):
        check_ciphertext(public_key, EncryptedVector(real.key_id, 5000, real.chunks))


def test_wire_bytes_round_trip_and_truncation(public_key: CkksKey) -> None:
    vector = encrypt(public_key, list(range(4100)))
    data = vector.to_bytes()
    assert EncryptedVector.from_bytes(data) == vector
    with pytest.raises(CiphertextParameterError, match="truncated"):
        EncryptedVector.from_bytes(data[:-10])
    with pytest.raises(CiphertextParameterError, match="trailing"):
        EncryptedVector.from_bytes(data + b"x")
    with pytest.raises(CiphertextParameterError, match="magic"):
        EncryptedVector.from_bytes(b"nope" + data)


def test_relative_precision_holds_for_large_values(
    secret_key: CkksKey, public_key: CkksKey
) -> None:
    """Measured: relative error ~1e-12 whatever the magnitude (float64 encoding bound)."""
    rng = np.random.default_rng(11)
    values = [rng.uniform(1e11, 1e12, 64) for _ in range(3)]
    total = np.array(
        decrypt(secret_key, add_all(public_key, [encrypt(public_key, v.tolist()) for v in values]))
    )
    assert np.max(np.abs(total - sum(values)) / sum(values)) < 1e-9
