"""The coordinator's database: how it is opened and what the trust protocol keeps in it."""

from coordinator.store.errors import (
    AlreadyEnrolledError,
    AlreadyPublishedError,
    CoordinatorError,
    DuplicateSubmissionError,
    InvalidRequestError,
    NotFoundError,
    RoundStateError,
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
    "AlreadyPublishedError",
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
    "UnknownNodeError",
    "open_engine",
]
