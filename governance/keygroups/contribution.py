"""A node's contribution under key-group custody: noise, encode, split, encrypt per group.

Order matters: DP noise is added on the integer fixed-point grid *before* splitting
(``noise``), so the shares carry a noised value and no group, nor all of them together,
ever holds the node's exact value. Then share k is encrypted under group k's public key.
The result maps each group's name to its encrypted share; :func:`group_of_vector` is how
a receiver tells which group a share (or a sum) belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from governance.ckks.vectors import EncryptedVector
from governance.keygroups.encoding import encode, split
from governance.keygroups.errors import GroupMismatchError
from governance.keygroups.keys import BfvKey
from governance.keygroups.noise import add_discrete_gaussian
from governance.keygroups.params import DEFAULT_FRACTIONAL_BITS
from governance.keygroups.vectors import encrypt_share


@dataclass(frozen=True)
class Encoding:
    """How values become residues: fixed-point bits and how many addends a sum may have."""

    fractional_bits: int = DEFAULT_FRACTIONAL_BITS
    max_contributors: int = 1024  # the benchmark's largest sum is 1,000 contributions


def share_contribution(
    values: Sequence[float],
    group_keys: Sequence[BfvKey],
    *,
    sigma: float = 0.0,
    encoding: Encoding = Encoding(),
) -> dict[str, EncryptedVector]:
    """Noise (discrete Gaussian, ``sigma`` in value units), encode, split over the groups
    and encrypt share k under ``group_keys[k]``; returns ``{group: encrypted share}``."""
    groups = [k.group for k in group_keys]
    if len(set(groups)) != len(groups):
        raise GroupMismatchError(f"a group's key is given twice: {groups}")
    moduli = {k.params.plain_modulus for k in group_keys}
    if len(moduli) != 1:
        raise GroupMismatchError("the groups' keys use different plaintext moduli")
    modulus = moduli.pop()
    encoded = encode(
        values,
        fractional_bits=encoding.fractional_bits,
        max_contributors=encoding.max_contributors,
        modulus=modulus,
    )
    noisy = add_discrete_gaussian(encoded, sigma, fractional_bits=encoding.fractional_bits)
    shares = split(noisy, len(group_keys), modulus=modulus)
    return {
        key.group: encrypt_share(key, share) for key, share in zip(group_keys, shares, strict=True)
    }


def group_of_vector(vector: EncryptedVector, group_keys: Mapping[str, BfvKey]) -> str:
    """The group whose key ``vector`` is under; refuses a key id of no group."""
    for group, key in group_keys.items():
        if key.key_id == vector.key_id:
            return group
    raise GroupMismatchError(f"ciphertext under key {vector.key_id} belongs to no key group")
