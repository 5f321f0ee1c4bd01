"""The accountability register: every model invocation, hash-chained, verifiable offline.

The node writes it (:class:`AccountabilityRegister`); an auditor checks an export with
``gcdt-audit verify-register`` (:func:`check_export`, :func:`verify_register`).
"""

from governance.accountability.errors import (
    AccountabilityError,
    RegisterFormatError,
    RegisterIntegrityError,
)
from governance.accountability.register import (
    HASHED_FIELDS,
    AccountabilityRegister,
    ModelRef,
    canonical_hash,
)
from governance.accountability.verify import (
    RegisterCheck,
    check_export,
    parse_export,
    read_export,
    verify_register,
)

__all__ = [
    "HASHED_FIELDS",
    "AccountabilityError",
    "AccountabilityRegister",
    "ModelRef",
    "RegisterCheck",
    "RegisterFormatError",
    "RegisterIntegrityError",
    "canonical_hash",
    "check_export",
    "parse_export",
    "read_export",
    "verify_register",
]
