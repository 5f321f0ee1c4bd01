"""The coordinator's composition root: every entry point gets the coordinator's parts here.

The coordinator is one ``GCDT_HOME`` (trust root, identity, TLS key, signed trust policy)
and one database (enrolled nodes, rounds, submissions, publications, the transparency
log, nonces, the model registry). The CLI verbs, the trust server, the Flower ServerApp,
the statistics service and the portal used to open and migrate that database each on
their own. :class:`CoordinatorContext` assembles the parts once: the engine comes from
the store's per-process factory (created and migrated the first time a process asks, as
Flower's ``LinkStateFactory.state()`` hands out the state it has), and the store, log,
nonce store and registry are views over it, made on first use. A context is cheap; a
command or a server makes one and hands its parts down.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from coordinator.membership import current_policy
from coordinator.registry import ModelRegistry
from coordinator.store import CoordinatorStore, open_engine
from governance.identity import Identity
from governance.nonces import SqlNonceStore
from governance.pki import HomeLayout
from governance.policy.models import TrustPolicy
from governance.translog import TransparencyLog
from kernel.settings import Settings, load_settings


class CoordinatorContext:
    """One coordinator's parts, assembled from its settings (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def open(cls, home: Path | str) -> CoordinatorContext:
        return cls(load_settings(home=Path(home)))

    @cached_property
    def layout(self) -> HomeLayout:
        return HomeLayout(self.settings.home_dir)

    # -- the database -------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        return open_engine(self.settings)

    @cached_property
    def store(self) -> CoordinatorStore:
        return CoordinatorStore(self.engine)

    @cached_property
    def nonces(self) -> SqlNonceStore:
        return SqlNonceStore(self.engine)

    @cached_property
    def models(self) -> ModelRegistry:
        return ModelRegistry(self.engine)

    @cached_property
    def translog(self) -> TransparencyLog:
        """The log, able to append and sign: it holds the coordinator's identity."""
        return TransparencyLog(self.engine, self.identity)

    # -- the signed files ---------------------------------------------------------------

    @cached_property
    def identity(self) -> Identity:
        return Identity.load(self.layout.identity_dir)

    @cached_property
    def trust_policy(self) -> TrustPolicy:
        """The member-signed policy in force (chain verified), or the memberless draft
        before founding (:func:`coordinator.membership.current_policy`)."""
        return current_policy(self.layout.trust_policy, self.layout.trust_draft)
