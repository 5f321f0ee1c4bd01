"""The CKKS parameters of the trust: chosen for additions only.

Ciphertexts are only ever summed (no multiplication, so no rescaling, no relinearisation
and no rotations): one multiplicative level is all the chain needs, and the smallest
ring that gives 128-bit security for it and 4096 slots per ciphertext is N = 8192.

Security: the Homomorphic Encryption Security Standard (Albrecht et al., 2018,
homomorphicencryption.org, Table 1, ternary secret, classical 128-bit) allows at most
log2(q) = 218 bits of total coefficient modulus for N = 8192; SEAL encodes the same
table as ``CoeffModulus::MaxBitCount(8192, sec_level_type::tc128) == 218``. Ours is
60 + 40 + 40 + 60 = 200 bits <= 218, hence ~128-bit security.

Precision (measured on this machine, three vectors of 4096 values uniform in [-M, M],
encrypted, summed, decrypted): max absolute error 1.2e-8 for M = 1e6, 1.1e-6 for
M = 1e9, 1.5e-3 for M = 1e12; relative error stays ~1e-12 (float64 encoding of values
times 2^40 is the limit, not the modulus). So the error is about max(2e-8, 2e-12 * |x|):
keep aggregated values below ~1e11 for 1e-3 absolute accuracy, or scale them.
Nothing overflows far beyond that: the data level keeps 60 + 40 + 40 = 140 bits, so
|sum| * 2^40 must stay below 2^139.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.ckks.errors import CkksParameterError

# Homomorphic Encryption Security Standard (2018), Table 1, classical 128-bit security,
# ternary secret: max total log2(q) per ring dimension N. Same values as SEAL's
# CoeffModulus::MaxBitCount(N, sec_level_type::tc128).
HE_STANDARD_MAX_LOG_Q_128 = {1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881}

POLY_MODULUS_DEGREE = 8192
COEFF_MOD_BIT_SIZES = (60, 40, 40, 60)
GLOBAL_SCALE_BITS = 40


@dataclass(frozen=True)
class CkksParameters:
    poly_modulus_degree: int = POLY_MODULUS_DEGREE
    coeff_mod_bit_sizes: tuple[int, ...] = COEFF_MOD_BIT_SIZES
    global_scale_bits: int = GLOBAL_SCALE_BITS

    def __post_init__(self) -> None:
        limit = HE_STANDARD_MAX_LOG_Q_128.get(self.poly_modulus_degree)
        if limit is None:
            raise CkksParameterError(
                f"poly_modulus_degree must be one of {sorted(HE_STANDARD_MAX_LOG_Q_128)}, "
                f"got {self.poly_modulus_degree!r}"
            )
        if len(self.coeff_mod_bit_sizes) < 2 or not all(
            isinstance(b, int) and 20 <= b <= 60 for b in self.coeff_mod_bit_sizes
        ):
            raise CkksParameterError(
                "coeff_mod_bit_sizes must be at least two integers in [20, 60], "
                f"got {self.coeff_mod_bit_sizes!r}"
            )
        if self.total_modulus_bits > limit:
            raise CkksParameterError(
                f"total coefficient modulus {self.total_modulus_bits} bits exceeds {limit} "
                f"bits, the 128-bit security limit for N={self.poly_modulus_degree}"
            )

    @property
    def total_modulus_bits(self) -> int:
        return sum(self.coeff_mod_bit_sizes)

    @property
    def data_level_moduli(self) -> int:
        """Primes a fresh ciphertext carries (the last prime is the special key-switch one)."""
        return len(self.coeff_mod_bit_sizes) - 1

    @property
    def slots(self) -> int:
        return self.poly_modulus_degree // 2

    @property
    def global_scale(self) -> float:
        return float(2**self.global_scale_bits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "poly_modulus_degree": self.poly_modulus_degree,
            "coeff_mod_bit_sizes": list(self.coeff_mod_bit_sizes),
            "global_scale_bits": self.global_scale_bits,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CkksParameters:
        try:
            return cls(
                int(data["poly_modulus_degree"]),
                tuple(int(b) for b in data["coeff_mod_bit_sizes"]),
                int(data["global_scale_bits"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CkksParameterError):
                raise
            raise CkksParameterError(f"malformed CKKS parameters {data!r}: {exc}") from exc


DEFAULT_PARAMETERS = CkksParameters()
