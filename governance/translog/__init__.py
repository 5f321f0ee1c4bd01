"""The trust's append-only transparency log (RFC 9162-style Merkle log in SQL).

Operators use :class:`TransparencyLog`; auditors use :func:`verify_bundle` on an exported
bundle, offline (``gcdt-audit verify-log``).
"""

from governance.translog.bundle import load_bundle
from governance.translog.errors import (
    AppendConflictError,
    BundleFormatError,
    EntryError,
    LogStateError,
    TranslogError,
)
from governance.translog.log import BUNDLE_FORMAT, TransparencyLog
from governance.translog.records import (
    ConsistencyProof,
    EntryKind,
    InclusionProof,
    LogEntry,
    SignedTreeHead,
)
from governance.translog.verify import (
    BundleVerificationError,
    LogProblem,
    VerificationReport,
    verify_bundle,
)

__all__ = [
    "BUNDLE_FORMAT",
    "AppendConflictError",
    "BundleFormatError",
    "BundleVerificationError",
    "ConsistencyProof",
    "EntryError",
    "EntryKind",
    "InclusionProof",
    "LogEntry",
    "LogProblem",
    "LogStateError",
    "SignedTreeHead",
    "TranslogError",
    "TransparencyLog",
    "VerificationReport",
    "load_bundle",
    "verify_bundle",
]
