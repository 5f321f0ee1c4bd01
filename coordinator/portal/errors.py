"""What can go wrong serving the transparency API and portal.

``PortalError`` (a :class:`~coordinator.errors.CoordinatorError`) is the root; routes
turn :class:`NotPublishedError` into 404 and :class:`BadRequestError` into 400, never
into a stack trace.
"""

from __future__ import annotations

from coordinator.errors import CoordinatorError


class PortalError(CoordinatorError):
    """Base of the portal's errors."""


class NotPublishedError(PortalError):
    """The model, benchmark, file or log entry asked for was never published."""


class BadRequestError(PortalError):
    """A query parameter is out of range (e.g. a proof for a tree size the log never had)."""
