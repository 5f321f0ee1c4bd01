"""Build the statistics service from the coordinator's parts, and plug it into the trust
server's handlers."""

from __future__ import annotations

from typing import Any

from coordinator.context import CoordinatorContext
from coordinator.statistics.service import StatisticsService
from coordinator.statistics.wiring import register
from coordinator.store.repository import CoordinatorStore
from governance.ckks import CkksKey, open_public_release


def _public_key(store: CoordinatorStore) -> CkksKey:
    release = store.public_release()
    ceremony = store.node(release.ceremony_id)
    return open_public_release(release, ceremony_public_key=ceremony.identity_public_key)


def service_for(context: CoordinatorContext) -> StatisticsService:
    """The statistics service over the coordinator's one store, log and current trust policy."""
    store = context.store
    return StatisticsService(
        store, context.translog, lambda: _public_key(store), context.trust_policy.publication
    )


def install(handlers: Any, context: CoordinatorContext) -> StatisticsService:
    """Register statistics with the server's ``TrustHandlers`` (same store and log)."""
    service = service_for(context)
    register(handlers, service)
    return service
