"""API tokens: 256 random bits shown once, stored only as a SHA-256 digest.

Why plain SHA-256 and not a slow password KDF (scrypt, Argon2): a KDF's work factor
exists to slow down guessing of *low-entropy* human secrets. These tokens are 32 bytes
from :func:`secrets.token_urlsafe` (the OS CSPRNG), so an attacker holding the database
faces a 2^256 preimage search that no work factor changes meaningfully; a fast hash lets
every request be checked in microseconds without a denial-of-service lever. The digest is
the lookup key (an attacker cannot steer which stored digest a guess lands near), and the
found row is compared again with :func:`hmac.compare_digest` (constant time).
The role prefix (``gcdt_t_`` tenant, ``gcdt_o_`` operator) lets secret scanners spot
leaked tokens; it carries no tenant name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final, Literal

Role = Literal["tenant", "operator"]
TOKEN_BYTES: Final = 32  # 256 bits
PREFIX: Final[dict[str, str]] = {"tenant": "gcdt_t_", "operator": "gcdt_o_"}


def new_token(role: Role) -> str:
    """A fresh token for ``role``: shown once to its holder, never stored."""
    return PREFIX[role] + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored and looked up instead of the token (see the module docstring)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    """Compare in constant time, so response timing says nothing about a guess."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
