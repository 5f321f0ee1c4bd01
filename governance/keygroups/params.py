"""The BFV parameters of key-group custody: exact sums of integers modulo one prime.

Each contribution is fixed-point encoded, split into additive shares modulo the plaintext
modulus ``p`` and each share encrypted under one group's BFV key. Shares are only ever
summed, so the scheme needs no multiplication at all; BFV (not CKKS) because the shares
must add *exactly* modulo ``p``: one rounding error in a share would not cancel.

* Ring: N = 8192, giving 8192 batching slots per ciphertext (BFV batches N slots).
* Coefficient modulus: 43 + 43 + 44 + 44 + 44 = 218 bits, SEAL's ``BFVDefault(8192)``
  and exactly the Homomorphic Encryption Security Standard limit for N = 8192 at 128-bit
  classical security (Albrecht et al. 2018, Table 1; ``governance.ckks.params``).
* Plaintext modulus: the largest 41-bit prime ≡ 1 mod 2N = 16384 (batching needs
  p ≡ 1 mod 2N, SEAL ``PlainModulus::Batching``): 2^41 - 65535 = 2,199,023,190,017
  (found by searching down from 2^41 - 1 in steps of 16384 with a Miller–Rabin test; the
  constant is re-checked for primality at import by :func:`_is_prime`).
* Measured here (TenSEAL 0.3.18): 432,503 bytes per serialized ciphertext; 2,000 sums of
  the same ciphertext still decrypt exactly (noise budget is far from exhausted at the
  1,000 contributions the benchmark sums).

Fixed point: a value x becomes round(x * 2^f); with f = 20 (resolution 9.5e-7) an
aggregate must stay within ±(p-1)/2 / 2^20 ≈ ±1,048,575 (see ``encoding``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.ckks.params import HE_STANDARD_MAX_LOG_Q_128
from governance.keygroups.errors import BfvParameterError

POLY_MODULUS_DEGREE = 8192
COEFF_MOD_BIT_SIZES = (43, 43, 44, 44, 44)  # SEAL CoeffModulus::BFVDefault(8192), 218 bits
PLAIN_MODULUS = 2**41 - 65535  # largest 41-bit prime ≡ 1 (mod 16384), see module doc
DEFAULT_FRACTIONAL_BITS = 20  # 2^-20 resolution, as measured in issue 13
_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)  # deterministic below 3.3e24


def _is_prime(n: int) -> bool:
    """Miller–Rabin with the first 12 primes as bases: exact for n < 3.3e24 (Sorenson &
    Webster 2015), far above our 41-bit moduli."""
    if n < 2:
        return False
    for q in _WITNESSES:
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _WITNESSES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@dataclass(frozen=True)
class BfvParameters:
    poly_modulus_degree: int = POLY_MODULUS_DEGREE
    coeff_mod_bit_sizes: tuple[int, ...] = COEFF_MOD_BIT_SIZES
    plain_modulus: int = PLAIN_MODULUS

    def __post_init__(self) -> None:
        limit = HE_STANDARD_MAX_LOG_Q_128.get(self.poly_modulus_degree)
        if limit is None:
            raise BfvParameterError(
                f"poly_modulus_degree must be one of {sorted(HE_STANDARD_MAX_LOG_Q_128)}, "
                f"got {self.poly_modulus_degree!r}"
            )
        if sum(self.coeff_mod_bit_sizes) > limit:
            raise BfvParameterError(
                f"total coefficient modulus {sum(self.coeff_mod_bit_sizes)} bits exceeds "
                f"{limit} bits, the 128-bit security limit for N={self.poly_modulus_degree}"
            )
        if not _is_prime(self.plain_modulus):
            raise BfvParameterError(f"plain modulus {self.plain_modulus} is not prime")
        if self.plain_modulus % (2 * self.poly_modulus_degree) != 1:
            raise BfvParameterError(
                f"plain modulus {self.plain_modulus} is not 1 mod 2N = "
                f"{2 * self.poly_modulus_degree}: BFV batching needs it"
            )

    @property
    def slots(self) -> int:
        return self.poly_modulus_degree

    @property
    def data_level_moduli(self) -> int:
        return len(self.coeff_mod_bit_sizes) - 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": "bfv",
            "poly_modulus_degree": self.poly_modulus_degree,
            "coeff_mod_bit_sizes": list(self.coeff_mod_bit_sizes),
            "plain_modulus": self.plain_modulus,
        }

    @classmethod
    def from_dict(cls, data: Any) -> BfvParameters:
        try:
            if data["scheme"] != "bfv":
                raise BfvParameterError(f"not BFV parameters: scheme {data['scheme']!r}")
            return cls(
                int(data["poly_modulus_degree"]),
                tuple(int(b) for b in data["coeff_mod_bit_sizes"]),
                int(data["plain_modulus"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BfvParameterError):
                raise
            raise BfvParameterError(f"malformed BFV parameters {data!r}: {exc}") from exc


DEFAULT_BFV = BfvParameters()
