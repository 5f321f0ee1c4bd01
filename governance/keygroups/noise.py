"""Differential-privacy noise in integers, drawn before a contribution is split.

The noise is the discrete Gaussian N_Z(0, sigma^2) of Canonne, Kamath and Steinke, "The
Discrete Gaussian for Differential Privacy" (NeurIPS 2020): it lives on the same integer
grid as the fixed-point encoding (x -> round(x * 2^f)), so adding it needs no
floating-point sampling (no Mironov-2012-style leaks through float rounding of a
continuous sample), and it is sampled exactly by rejection from discrete Laplace
proposals with rational arithmetic.

We do not implement the sampler: OpenDP (``opendp``, maintained by the OpenDP project,
Harvard) implements that exact algorithm in Rust and draws its randomness from a
cryptographically secure generator (OpenSSL / the OS). Its discrete Gaussian on integers
still sits behind OpenDP's ``contrib`` flag (not yet vetted by their review process); we
enable that flag here, in this one module, and use only the ``make_gaussian`` measurement
on an integer vector domain.

``sigma`` is a parameter (the privacy slice sizes it per node); this module only turns a
sigma in value units into one in fixed-point units, sigma * 2^f.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from governance.keygroups.errors import FixedPointRangeError
from governance.keygroups.params import DEFAULT_FRACTIONAL_BITS

#: OpenDP's integer type for the grid: encoded values stay below 2^41 (the prime), so i64
#: holds value plus noise with 22 bits to spare.
_INT = "i64"
_I64_MAX = 2**63 - 1


@cache
def _opendp() -> Any:
    """OpenDP, loaded on first use (its native library costs ~1 s to load, and most
    processes that import this package, e.g. key holders, never draw noise)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")  # the discrete Gaussian is contrib-gated (module doc)
    return dp


def add_discrete_gaussian(
    encoded: Sequence[int], sigma: float, *, fractional_bits: int = DEFAULT_FRACTIONAL_BITS
) -> list[int]:
    """``encoded`` plus independent N_Z(0, (sigma * 2^f)^2) noise per entry.

    ``sigma`` is in value units (what the privacy accountant sized); 0 adds nothing.
    """
    if not math.isfinite(sigma) or sigma < 0:
        raise FixedPointRangeError(f"noise sigma must be finite and >= 0, got {sigma!r}")
    values = [int(v) for v in encoded]
    if sigma == 0:
        return values
    if any(abs(v) > _I64_MAX // 2 for v in values):
        raise FixedPointRangeError("encoded values exceed the 64-bit noise domain")
    dp = _opendp()
    measurement = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=_INT)),
        dp.l2_distance(T=_INT),
        scale=float(sigma) * 2**fractional_bits,
    )
    noisy = measurement(values)
    return [int(v) for v in noisy]
