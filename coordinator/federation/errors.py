"""Errors of the coordinator's federated training.

``FederationError`` is the root; a round that cannot proceed is logged and skipped, never
raised out of the loop, so these surface only for misconfiguration or a broken run.
"""

from __future__ import annotations


class FederationError(Exception):
    """Root of coordinator federation errors."""


class FederationConfigError(FederationError):
    """The run configuration is missing a value or holds a bad one (names the key)."""


class SubmissionRejectedError(FederationError):
    """A node's submission failed a check (key id, parameters, length); names the node."""


class RegistryError(FederationError):
    """The model registry refused a publication or cannot find a model."""
