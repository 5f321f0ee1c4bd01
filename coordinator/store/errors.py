"""Errors of the coordinator's store and protocol handlers.

The gRPC servicers map each class to one status code (``coordinator/transport``):

- ``CoordinatorError``               root (``coordinator.errors``)
  - ``UnknownNodeError``             not enrolled, or revoked / suspended -> PERMISSION_DENIED
  - ``AlreadyEnrolledError``         node id or certificate enrolled before -> ALREADY_EXISTS
  - ``NotFoundError``                no such key package, context, round, publication -> NOT_FOUND
  - ``RoundStateError``              no open round / round closed -> FAILED_PRECONDITION
  - ``DuplicateSubmissionError``     second submission of a node in a round -> ALREADY_EXISTS
  - ``InvalidRequestError``          malformed or inconsistent request -> INVALID_ARGUMENT
    - ``SubmissionRejectedError``    a node's submission failed a check (training or
                                     statistics); recorded with its reason, never its content
  - ``AlreadyPublishedError``        a subject is published once, never replaced -> ALREADY_EXISTS
"""

from __future__ import annotations

from coordinator.errors import CoordinatorError


class UnknownNodeError(CoordinatorError):
    """The node is not enrolled, or no longer active."""


class AlreadyEnrolledError(CoordinatorError):
    """The node id or certificate serial is enrolled already."""


class NotFoundError(CoordinatorError):
    """The asked-for item does not exist."""


class RoundStateError(CoordinatorError):
    """The round is not open (or there is no open round of that kind)."""


class DuplicateSubmissionError(CoordinatorError):
    """The node already submitted this kind in this round."""


class InvalidRequestError(CoordinatorError):
    """The request is malformed or inconsistent with what it refers to."""


class SubmissionRejectedError(InvalidRequestError):
    """A node's submission failed a check (key id, parameters, length); names the node.

    One class for every round kind: the training loop records it and drops the
    submission, the statistics service records it and the servicer answers
    INVALID_ARGUMENT.
    """


class AlreadyPublishedError(CoordinatorError):
    """The subject is published already; a publication is never replaced."""
