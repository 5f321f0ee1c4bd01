"""Build the statistics service from a coordinator's state (``GCDT_HOME``), and plug it
into the trust server's handlers."""

from __future__ import annotations

from typing import Any

from coordinator.statistics.service import StatisticsService
from coordinator.statistics.wiring import register
from coordinator.store.repository import CoordinatorStore
from governance.ckks import CkksKey, open_public_release
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import load_policy
from governance.policy.models import TrustPolicy
from governance.translog import TransparencyLog
from kernel.settings import Settings


def _public_key(store: CoordinatorStore) -> CkksKey:
    release = store.public_release()
    ceremony = store.node(release.ceremony_id)
    return open_public_release(release, ceremony_public_key=ceremony.identity_public_key)


def service_for(settings: Settings, store: CoordinatorStore | None = None) -> StatisticsService:
    layout = HomeLayout(settings.home_dir)
    identity = Identity.load(layout.identity_dir)
    policy = load_policy(layout.trust_policy, "trust", identity.public_key)
    assert isinstance(policy, TrustPolicy)
    store = store or CoordinatorStore.open(settings)
    log = TransparencyLog(store.engine, identity)
    return StatisticsService(store, log, lambda: _public_key(store), policy.publication)


def install(handlers: Any, settings: Settings) -> StatisticsService:
    """Register statistics with the server's ``TrustHandlers`` (same store and log)."""
    service = service_for(settings, handlers.store)
    register(handlers, service)
    return service
