"""Errors of the coordinator's store and protocol handlers.

The gRPC servicers map each class to one status code (``coordinator/transport``):

- ``CoordinatorError``               base
  - ``UnknownNodeError``             not enrolled, or revoked / suspended -> PERMISSION_DENIED
  - ``AlreadyEnrolledError``         node id or certificate enrolled before -> ALREADY_EXISTS
  - ``NotFoundError``                no such key package, context, round, publication -> NOT_FOUND
  - ``RoundStateError``              no open round / round closed -> FAILED_PRECONDITION
  - ``DuplicateSubmissionError``     second submission of a node in a round -> ALREADY_EXISTS
  - ``InvalidRequestError``          malformed or inconsistent request -> INVALID_ARGUMENT
  - ``AlreadyPublishedError``        a subject is published once, never replaced -> ALREADY_EXISTS
"""

from __future__ import annotations


class CoordinatorError(Exception):
    """Base of every error the coordinator reports."""


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


class AlreadyPublishedError(CoordinatorError):
    """The subject is published already; a publication is never replaced."""
