"""Errors of key-group custody (additive shares under BFV, one key per group).

::

    GovernanceError
    └── CkksError                      (the trust's HE error root, scheme-agnostic in use)
        └── KeyGroupError
            ├── BfvParameterError      params not the agreed ones, or a ciphertext not fitting
            ├── FixedPointRangeError   a value that would wrap around the plaintext modulus
            ├── KeyGroupPolicyError    groups missing, fewer than two, or sharing a holder
            ├── GroupMismatchError     a share under another group's key, or a group left out
            └── GroupPublicationError  not every group has t matching attestations, or a conflict
"""

from __future__ import annotations

from governance.ckks.errors import CkksError


class KeyGroupError(CkksError):
    """Base of every key-group custody error."""


class BfvParameterError(KeyGroupError, ValueError):
    """BFV parameters differ from the agreed ones, or a ciphertext does not fit them."""


class FixedPointRangeError(KeyGroupError, ValueError):
    """A value is not finite, or so large that a sum of it could wrap modulo the prime."""


class KeyGroupPolicyError(KeyGroupError, ValueError):
    """The trust policy's key groups cannot give the property (fewer than two, shared holders)."""


class GroupMismatchError(KeyGroupError):
    """A share or attestation names another group than the key it is used with, or a
    contribution does not carry exactly one share per group."""


class GroupPublicationError(KeyGroupError):
    """Recombination refused: a group lacks ``t`` matching attestations, or one conflicts."""
