"""Fixed-point encoding modulo the prime, and additive shares of it.

Encoding: x -> round(x * 2^f), taken modulo p. A sum of n encoded values is exact as long
as the true integer sum stays inside (-(p-1)/2, (p-1)/2]; :func:`encode` refuses any value
whose magnitude could break that for ``max_contributors`` addends, so a sum of up to that
many contributions never wraps and :func:`decode` (centred lift, then / 2^f) is exact up
to the rounding of each addend: |error| <= n * 2^-(f+1).

Shares: for K groups, shares 1..K-1 are drawn uniformly from Z_p with ``secrets.randbelow``
(the operating system's CSPRNG) and share K is x - (s_1 + ... + s_{K-1}) mod p. Any K-1
shares are then independent and uniform whatever x is (a one-time pad over Z_p, applied
slot by slot), so every proper subset of groups learns nothing; all K shares sum to x.
Sums commute with sharing: the sum over nodes of each group's shares, added over the
groups, is the sum of the nodes' values modulo p.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence

from governance.keygroups.errors import FixedPointRangeError, KeyGroupPolicyError
from governance.keygroups.params import DEFAULT_FRACTIONAL_BITS, PLAIN_MODULUS

#: Fewest key groups: one group alone would hold the whole key (issue 13: K >= 2).
MIN_GROUPS = 2


def half_range(modulus: int = PLAIN_MODULUS) -> int:
    """The largest magnitude a centred residue modulo ``modulus`` represents."""
    return (modulus - 1) // 2


def encode(
    values: Sequence[float],
    *,
    fractional_bits: int = DEFAULT_FRACTIONAL_BITS,
    max_contributors: int,
    modulus: int = PLAIN_MODULUS,
) -> list[int]:
    """``round(x * 2^f)`` of every value as signed integers (not yet reduced mod p).

    Refuses (:class:`FixedPointRangeError`, naming the index) a non-finite value or one
    whose encoding exceeds ``half_range // max_contributors``.
    """
    if max_contributors < 1:
        raise FixedPointRangeError(f"max_contributors must be >= 1, got {max_contributors}")
    bound = half_range(modulus) // max_contributors
    scale = 2**fractional_bits
    out = []
    for index, value in enumerate(values):
        number = float(value)
        if not math.isfinite(number):
            raise FixedPointRangeError(f"value at index {index} is not finite: {number!r}")
        encoded = round(number * scale)
        if abs(encoded) > bound:
            raise FixedPointRangeError(
                f"value at index {index} ({number!r}) exceeds ±{bound / scale:.6g}: a sum of "
                f"{max_contributors} such values at 2^-{fractional_bits} would wrap modulo "
                f"{modulus}"
            )
        out.append(encoded)
    if not out:
        raise FixedPointRangeError("cannot encode an empty vector")
    return out


def centred(residue: int, modulus: int = PLAIN_MODULUS) -> int:
    """The representative of ``residue`` mod ``modulus`` in (-(p-1)/2, (p-1)/2]."""
    r = residue % modulus
    return r - modulus if r > half_range(modulus) else r


def decode(
    residues: Sequence[int],
    *,
    fractional_bits: int = DEFAULT_FRACTIONAL_BITS,
    modulus: int = PLAIN_MODULUS,
) -> list[float]:
    """Residues mod p back to floats (exact when the encoded sum did not wrap)."""
    scale = 2**fractional_bits
    return [centred(r, modulus) / scale for r in residues]


def split(encoded: Sequence[int], groups: int, *, modulus: int = PLAIN_MODULUS) -> list[list[int]]:
    """``groups`` additive shares of ``encoded`` modulo ``modulus``, each in [0, p)."""
    if groups < MIN_GROUPS:
        raise KeyGroupPolicyError(
            f"a contribution is split over >= {MIN_GROUPS} groups, got {groups}"
        )
    random_shares = [[secrets.randbelow(modulus) for _ in encoded] for _ in range(groups - 1)]
    last = [
        (value - sum(share[i] for share in random_shares)) % modulus
        for i, value in enumerate(encoded)
    ]
    return [*random_shares, last]


def recombine(group_sums: Sequence[Sequence[int]], *, modulus: int = PLAIN_MODULUS) -> list[int]:
    """The sum of every group's (decrypted) share sum, modulo ``modulus``."""
    if len(group_sums) < MIN_GROUPS:
        raise KeyGroupPolicyError(
            f"recombination needs every group's sum (>= {MIN_GROUPS}), got {len(group_sums)}"
        )
    length = len(group_sums[0])
    if any(len(s) != length for s in group_sums):
        raise FixedPointRangeError(f"group sums differ in length: {[len(s) for s in group_sums]}")
    return [sum(s[i] for s in group_sums) % modulus for i in range(length)]
