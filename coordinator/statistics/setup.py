"""Build the statistics service from the coordinator's parts, and plug it into the trust
server's handlers."""

from __future__ import annotations

from typing import Any

from coordinator import membership
from coordinator.context import CoordinatorContext
from coordinator.statistics.service import StatisticsService
from coordinator.statistics.wiring import register
from governance.ckks import CkksKey


def _public_key(context: CoordinatorContext) -> CkksKey:
    """The latest public key, checked against the trust policy in force at each call."""
    return membership.public_key(
        context.store,
        membership.current_policy(context.layout.trust_policy, context.layout.trust_draft),
    )


def service_for(context: CoordinatorContext) -> StatisticsService:
    """The statistics service over the coordinator's one store, log and current trust policy."""
    store = context.store
    return StatisticsService(
        store, context.translog, lambda: _public_key(context), context.trust_policy.publication
    )


def install(handlers: Any, context: CoordinatorContext) -> StatisticsService:
    """Register statistics with the server's ``TrustHandlers`` (same store and log)."""
    service = service_for(context)
    register(handlers, service)
    return service
