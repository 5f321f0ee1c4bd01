"""The coordinator's database: how it is opened and what the trust protocol keeps in it."""

from coordinator.errors import CoordinatorError
from coordinator.store.errors import (
    AlreadyEnrolledError,
    AlreadyPublishedError,
    DuplicateSubmissionError,
    InvalidRequestError,
    NotFoundError,
    RoundStateError,
    SubmissionRejectedError,
    UnknownNodeError,
)
from coordinator.store.repository import (
    CoordinatorStore,
    DecryptionRequest,
    DecryptionStatus,
    NodeRecord,
    NodeStatus,
    Publication,
    RoundStatus,
    StoredSubmission,
    open_engine,
)

__all__ = [
    "AlreadyEnrolledError",
    "AlreadyPublishedError",
    "CoordinatorError",
    "CoordinatorStore",
    "DecryptionRequest",
    "DecryptionStatus",
    "DuplicateSubmissionError",
    "InvalidRequestError",
    "NodeRecord",
    "NodeStatus",
    "NotFoundError",
    "Publication",
    "RoundStateError",
    "RoundStatus",
    "StoredSubmission",
    "SubmissionRejectedError",
    "UnknownNodeError",
    "open_engine",
]
