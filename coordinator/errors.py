"""The coordinator's one exception root.

Callers (CLI, gRPC servicers, portal) catch :class:`CoordinatorError` and report its
message; anything else is a bug. Each area refines it in its own ``errors`` module:

- ``coordinator.store.errors``       protocol and store errors, one gRPC status each
- ``coordinator.federation.errors``  federated training (``FederationError``)
- ``coordinator.statistics.errors``  statistics rounds
- ``coordinator.portal.errors``      the transparency portal (``PortalError``)
"""

from __future__ import annotations


class CoordinatorError(Exception):
    """Base of every error the coordinator reports."""
