"""One key group's BFV key: a TenSEAL context, its key id, the group it belongs to.

Same discipline as the CKKS custody (``governance.ckks.context``): the public form holds the
public key only; the secret form is exported only when the caller says so by keyword; the
key id is the truncated SHA-256 of the public bytes, recomputed from the bytes, never
trusted. The group name travels with the key so a share encrypted under group A's key can
never be summed or decrypted as group B's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tenseal as ts

from governance.ckks.context import (
    key_id_of_public_bytes,
    public_context_bytes,
)
from governance.ckks.errors import (
    KeyIdMismatchError,
    MissingSecretKeyError,
    SecretExportRefusedError,
    UnexpectedSecretKeyError,
)
from governance.keygroups.errors import BfvParameterError
from governance.keygroups.params import DEFAULT_BFV, BfvParameters


def new_secret_context(params: BfvParameters = DEFAULT_BFV) -> ts.Context:
    """A fresh BFV context holding a new secret key (only a group's ceremony calls this).

    A fresh TenSEAL BFV context serializes differently before and after its first use
    (measured with TenSEAL 0.3.18: the public bytes change once, on the first encryption,
    then stay fixed, and a context loaded from them serializes to the same bytes). Key ids
    are hashes of those bytes, so the context is used once here, before any id is taken.
    """
    ctx = ts.context(
        ts.SCHEME_TYPE.BFV,
        poly_modulus_degree=params.poly_modulus_degree,
        plain_modulus=params.plain_modulus,
        coeff_mod_bit_sizes=list(params.coeff_mod_bit_sizes),
    )
    ts.bfv_vector(ctx, [0])  # first use: the serialized form is stable from here on
    return ctx


def check_context_params(ctx: ts.Context, params: BfvParameters) -> None:
    """Refuse a context that is not BFV with exactly ``params`` (ring, chain, prime)."""
    seal = ctx.seal_context().data
    key_level = seal.key_context_data()
    found = {
        "scheme": "bfv" if key_level.parms().scheme() == ts.SCHEME_TYPE.BFV.value else "other",
        "poly_modulus_degree": key_level.parms().poly_modulus_degree(),
        "total_modulus_bits": key_level.total_coeff_modulus_bit_count(),
        "data_level_moduli": seal.first_context_data().chain_index() + 1,
        # SEAL keeps (t + 1) / 2 as the plain upper-half threshold; t itself is not exposed
        "plain_modulus": 2 * key_level.plain_upper_half_threshold() - 1,
    }
    expected = {
        "scheme": "bfv",
        "poly_modulus_degree": params.poly_modulus_degree,
        "total_modulus_bits": sum(params.coeff_mod_bit_sizes),
        "data_level_moduli": params.data_level_moduli,
        "plain_modulus": params.plain_modulus,
    }
    wrong = [f"{k} is {found[k]!r}, expected {v!r}" for k, v in expected.items() if found[k] != v]
    if wrong:
        raise BfvParameterError("BFV context parameters differ: " + "; ".join(wrong))


@dataclass(frozen=True, eq=False)
class BfvKey:
    """A group's context (public, or a holder's secret one) with key id and group name."""

    group: str
    key_id: str
    context: ts.Context = field(repr=False)
    params: BfvParameters = DEFAULT_BFV
    period: str | None = None

    @property
    def is_private(self) -> bool:
        return bool(self.context.is_private())

    @classmethod
    def create(
        cls, group: str, params: BfvParameters = DEFAULT_BFV, period: str | None = None
    ) -> BfvKey:
        ctx = new_secret_context(params)
        return cls(group, key_id_of_public_bytes(public_context_bytes(ctx)), ctx, params, period)

    def public_bytes(self) -> bytes:
        return public_context_bytes(self.context)

    def secret_bytes(self, *, i_understand_this_exports_the_secret_key: bool = False) -> bytes:
        if i_understand_this_exports_the_secret_key is not True:
            raise SecretExportRefusedError(
                f"refusing to serialize group {self.group!r}'s BFV secret key: pass "
                "i_understand_this_exports_the_secret_key=True to export it"
            )
        if not self.is_private:
            raise MissingSecretKeyError(f"group {self.group!r}'s context holds no secret key")
        return bytes(
            self.context.serialize(
                save_public_key=True,
                save_secret_key=True,
                save_galois_keys=False,
                save_relin_keys=False,
            )
        )

    def public(self) -> BfvKey:
        """A public-only copy (what the coordinator and contributing nodes hold)."""
        return load_group_key(
            self.public_bytes(),
            group=self.group,
            expected_key_id=self.key_id,
            params=self.params,
            period=self.period,
            secret=False,
        )


def load_group_key(
    data: bytes,
    *,
    group: str,
    expected_key_id: str | None = None,
    params: BfvParameters = DEFAULT_BFV,
    period: str | None = None,
    secret: bool,
) -> BfvKey:
    """Load a group's public (``secret=False``) or secret context and check it.

    A public load refuses bytes carrying a secret key; a secret load refuses bytes without.
    """
    try:
        ctx = ts.context_from(data)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise BfvParameterError(
            f"bytes offered as group {group!r}'s context do not load: {exc}"
        ) from exc
    if secret and not ctx.is_private():
        raise MissingSecretKeyError(f"bytes offered as group {group!r}'s secret key hold none")
    if not secret and (ctx.is_private() or ctx.has_secret_key()):
        raise UnexpectedSecretKeyError(
            f"bytes offered as group {group!r}'s public context carry a secret key"
        )
    check_context_params(ctx, params)
    key_id = key_id_of_public_bytes(public_context_bytes(ctx) if secret else data)
    if expected_key_id is not None and key_id != expected_key_id:
        raise KeyIdMismatchError(
            f"group {group!r}'s context has key id {key_id}, expected {expected_key_id}"
        )
    return BfvKey(group, key_id, ctx, params, period)
