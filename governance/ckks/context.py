"""TenSEAL CKKS contexts, their key ids, and the only two ways they become bytes.

The public form carries the public key only: no secret key, and no Galois or
relinearisation keys (they serve rotations and multiplications we never do, and with
Galois keys the context grows from ~0.5 MB to ~35 MB). The secret form exists for the
ceremony's hand-over and is produced only when the caller says, by keyword, that it
means to export the secret key.

Decrypting with the wrong key yields garbage silently, so every context is paired with
a key id: the truncated SHA-256 of its public bytes (deterministic: re-serialising a
loaded context gives the same bytes), which every ciphertext carries too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import tenseal as ts

from governance.ckks.errors import (
    CkksParameterError,
    KeyIdMismatchError,
    MissingSecretKeyError,
    SecretExportRefusedError,
    UnexpectedSecretKeyError,
)
from governance.ckks.params import DEFAULT_PARAMETERS, CkksParameters

KEY_ID_HEX_CHARS = 32  # 128 bits of SHA-256: collision-free for any number of keys we make


def new_secret_context(params: CkksParameters = DEFAULT_PARAMETERS) -> ts.Context:
    """A fresh CKKS context holding a new secret key (only the ceremony calls this)."""
    ctx = ts.context(
        ts.SCHEME_TYPE.CKKS,
        poly_modulus_degree=params.poly_modulus_degree,
        coeff_mod_bit_sizes=list(params.coeff_mod_bit_sizes),
    )
    ctx.global_scale = params.global_scale
    return ctx


def public_context_bytes(ctx: ts.Context) -> bytes:
    """The context with its public key only: what the coordinator may hold."""
    return bytes(
        ctx.serialize(
            save_public_key=True,
            save_secret_key=False,
            save_galois_keys=False,
            save_relin_keys=False,
        )
    )


def secret_context_bytes(
    ctx: ts.Context, *, i_understand_this_exports_the_secret_key: bool = False
) -> bytes:
    """The context with its secret key; refused unless the keyword flag is True."""
    if i_understand_this_exports_the_secret_key is not True:
        raise SecretExportRefusedError(
            "refusing to serialize a CKKS secret key: pass "
            "i_understand_this_exports_the_secret_key=True to export it"
        )
    if not ctx.is_private():
        raise MissingSecretKeyError("this context holds no secret key to export")
    return bytes(
        ctx.serialize(
            save_public_key=True,
            save_secret_key=True,
            save_galois_keys=False,
            save_relin_keys=False,
        )
    )


def key_id_of_public_bytes(data: bytes) -> str:
    """The key id of public-context bytes (SHA-256, first 32 hex chars), recomputed from the
    bytes so a claimed key id is checked, never trusted.
    """
    return hashlib.sha256(data).hexdigest()[:KEY_ID_HEX_CHARS]


def key_id_of(ctx: ts.Context) -> str:
    """A context's key id, always taken from its public form, so a key holder's secret context
    and the coordinator's public one carry the same id.
    """
    return key_id_of_public_bytes(public_context_bytes(ctx))


def check_context_params(ctx: ts.Context, params: CkksParameters) -> None:
    """Refuse a context whose ring, modulus chain or scale is not ``params``."""
    seal = ctx.seal_context().data
    key_level = seal.key_context_data()
    first = seal.first_context_data()
    found: dict[str, Any] = {
        "poly_modulus_degree": key_level.parms().poly_modulus_degree(),
        "total_modulus_bits": key_level.total_coeff_modulus_bit_count(),
        "data_level_moduli": first.chain_index() + 1,
        "global_scale": ctx.global_scale,
    }
    expected: dict[str, Any] = {
        "poly_modulus_degree": params.poly_modulus_degree,
        "total_modulus_bits": params.total_modulus_bits,
        "data_level_moduli": params.data_level_moduli,
        "global_scale": params.global_scale,
    }
    wrong = [
        f"{k} is {found[k]!r}, expected {expected[k]!r}"
        for k in expected
        if found[k] != expected[k]
    ]
    if wrong:
        raise CkksParameterError("CKKS context parameters differ: " + "; ".join(wrong))


@dataclass(frozen=True, eq=False)
class CkksKey:
    """A context together with its key id, its period and the parameters it was made with."""

    key_id: str
    context: ts.Context = field(repr=False)
    params: CkksParameters = DEFAULT_PARAMETERS
    period: str | None = None

    @property
    def is_private(self) -> bool:
        return bool(self.context.is_private())

    @classmethod
    def create(
        cls, params: CkksParameters = DEFAULT_PARAMETERS, period: str | None = None
    ) -> CkksKey:
        ctx = new_secret_context(params)
        return cls(key_id_of(ctx), ctx, params, period)

    def public_bytes(self) -> bytes:
        return public_context_bytes(self.context)

    def public(self) -> CkksKey:
        """A public-only copy (as the coordinator would load it)."""
        return load_public_context(
            self.public_bytes(),
            expected_key_id=self.key_id,
            params=self.params,
            period=self.period,
        )


def _check_key_id(found: str, expected_key_id: str | None) -> None:
    if expected_key_id is not None and found != expected_key_id:
        raise KeyIdMismatchError(f"context has key id {found}, expected {expected_key_id}")


def _context_from(data: bytes, what: str) -> ts.Context:
    try:
        return ts.context_from(data)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise CkksParameterError(
            f"bytes offered as a {what} CKKS context do not load: {exc}"
        ) from exc


def load_public_context(
    data: bytes,
    *,
    expected_key_id: str | None = None,
    params: CkksParameters = DEFAULT_PARAMETERS,
    period: str | None = None,
) -> CkksKey:
    """Load a public context; refuse bytes that carry a secret key or other parameters."""
    ctx = _context_from(data, "public")
    if ctx.is_private() or ctx.has_secret_key():
        raise UnexpectedSecretKeyError(
            "bytes offered as a public CKKS context carry a secret key; refusing to hold it"
        )
    check_context_params(ctx, params)
    key_id = key_id_of_public_bytes(data)
    _check_key_id(key_id, expected_key_id)
    return CkksKey(key_id, ctx, params, period)


def load_secret_context(
    data: bytes,
    *,
    expected_key_id: str | None = None,
    params: CkksParameters = DEFAULT_PARAMETERS,
    period: str | None = None,
) -> CkksKey:
    """Load a secret context (a key holder's); refuse one without its secret key."""
    ctx = _context_from(data, "secret")
    if not ctx.is_private():
        raise MissingSecretKeyError("bytes offered as a secret CKKS context hold no secret key")
    check_context_params(ctx, params)
    key_id = key_id_of(ctx)
    _check_key_id(key_id, expected_key_id)
    return CkksKey(key_id, ctx, params, period)
