"""The coordinator's database: how it is opened and what the trust protocol keeps in it."""

from coordinator.errors import CoordinatorError
from coordinator.store.errors import (
    AlreadyEnrolledError,
    DuplicateSubmissionError,
    InvalidRequestError,
    NotFoundError,
    RoundStateError,
    SubmissionRejectedError,
    UnknownNodeError,
)
from coordinator.store.repository import (
    ACTIVE,
    REVOKED,
    CoordinatorStore,
    DecryptionRequest,
    NodeRecord,
    Publication,
    StoredSubmission,
    open_engine,
)

__all__ = [
    "ACTIVE",
    "REVOKED",
    "AlreadyEnrolledError",
    "CoordinatorError",
    "CoordinatorStore",
    "DecryptionRequest",
    "DuplicateSubmissionError",
    "InvalidRequestError",
    "NodeRecord",
    "NotFoundError",
    "Publication",
    "RoundStateError",
    "StoredSubmission",
    "SubmissionRejectedError",
    "UnknownNodeError",
    "open_engine",
]
