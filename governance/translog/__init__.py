"""The trust's append-only transparency log (RFC 9162 Merkle log in SQL, C2SP formats).

Operators use :class:`TransparencyLog` (checkpoints as C2SP signed notes, tlog-tiles,
tlog-proof files); witnesses use :mod:`.witness`; auditors use :func:`verify_bundle` on an
exported bundle, offline, against keys they pinned (``gcdt-audit verify-log``).
"""

from governance.translog.bundle import load_bundle
from governance.translog.checkpoint import Checkpoint, TlogProof
from governance.translog.errors import (
    AppendConflictError,
    BundleFormatError,
    EntryError,
    LogStateError,
    TranslogError,
)
from governance.translog.log import BUNDLE_FORMAT, TransparencyLog
from governance.translog.note import NoteError, NoteSigner, VerifierKey
from governance.translog.records import (
    ConsistencyProof,
    EntryKind,
    InclusionProof,
    LogEntry,
    SignedTreeHead,
    log_origin,
    log_verifier,
)
from governance.translog.verify import (
    Anchors,
    BundleVerificationError,
    LogProblem,
    VerificationReport,
    verify_bundle,
)

__all__ = [
    "BUNDLE_FORMAT",
    "Anchors",
    "AppendConflictError",
    "BundleFormatError",
    "BundleVerificationError",
    "Checkpoint",
    "ConsistencyProof",
    "EntryError",
    "EntryKind",
    "InclusionProof",
    "LogEntry",
    "LogProblem",
    "LogStateError",
    "NoteError",
    "NoteSigner",
    "SignedTreeHead",
    "TlogProof",
    "TranslogError",
    "TransparencyLog",
    "VerificationReport",
    "VerifierKey",
    "load_bundle",
    "log_origin",
    "log_verifier",
    "verify_bundle",
]
