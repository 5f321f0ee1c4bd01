"""Errors of the coordinator's federated training.

``FederationError`` (a :class:`~coordinator.errors.CoordinatorError`) is the root; a
round that cannot proceed is logged and skipped, never raised out of the loop, so these
surface only for misconfiguration or a broken run.
"""

from __future__ import annotations

from coordinator.errors import CoordinatorError
from coordinator.store.errors import SubmissionRejectedError


class FederationError(CoordinatorError):
    """Root of coordinator federation errors."""


class FederationConfigError(FederationError):
    """The run configuration is missing a value or holds a bad one (names the key)."""


class RegistryError(FederationError):
    """The model registry refused a publication or cannot find a model."""


__all__ = [
    "FederationConfigError",
    "FederationError",
    "RegistryError",
    "SubmissionRejectedError",
]
