"""The node's composition root: every entry point gets the node's parts from here.

A node is one ``GCDT_HOME`` (keys, policies, installed keys and models) and one database
(records, tenants, consent, refusal log, privacy ledger, accountability register). The
CLI, the node API, the Flower ClientApp and its egress mod, and the statistics flow used
to assemble these each in their own way, each opening (and migrating) its own engine;
the egress mod did so on every reply. Now :class:`NodeContext` assembles them once:

* the engine comes from a per-process factory (:data:`ENGINES`), created and migrated the
  first time a process asks for that database, the way Flower's
  ``LinkStateFactory.state()`` hands out the state it already has;
* repositories, the ledger, the refusal log and the register are thin views over it,
  made on first use;
* the signed files are loaded once per context (:attr:`state`), and the egress guard and
  the gRPC client are built from them, so nothing leaves except through the guard.

A context is cheap: a command makes one per invocation; the ClientApp keeps one per home.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from governance.accountability import AccountabilityRegister
from governance.ckks import CkksKey
from governance.identity import Identity
from governance.keygroups import BfvKey
from governance.policy import NodePolicy
from governance.tables import migrate as migrate_governance
from kernel.db import MigratedEngines
from kernel.db import upgrade as run_upgrade
from kernel.settings import Settings, load_settings
from trust_node import keygroup_keys
from trust_node.egress import EgressGuard, SqlRefusalLog
from trust_node.errors import NodeSetupError, StoreError
from trust_node.node_setup import NodeLayout, NodeState, holder_key, load_node
from trust_node.store import SqlRecordRepository
from trust_node.store.tables import MIGRATIONS_DIR, VERSION_TABLE
from trust_node.tenants import ConsentLog, TenantRegistry
from trust_node.transport.client import TrustClient

if TYPE_CHECKING:
    from governance.privacy import PrivacyLedger

MODELS_DIR = "models"
CURRENT_MODEL_DIR = "current"
ROUNDS_DIR = "federation"


def migrate(engine: Engine) -> None:
    """Node tables and the governance tables a node keeps (ledger, log, nonces)."""
    run_upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
    migrate_governance(engine)


#: The node's engines, one per database URL per process (``migrate`` looked up on each
#: first use, so a test can count the migrations).
ENGINES = MigratedEngines(lambda engine: migrate(engine))


class NodeContext:
    """One node's parts, assembled from its settings (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def open(cls, home: Path | str) -> NodeContext:
        """The context of an existing node home (the ClientApp is told it, never creates it)."""
        path = Path(home)
        if not path.is_dir():
            raise NodeSetupError(f"node home {path} does not exist")
        return cls(load_settings(home=path))

    @property
    def home(self) -> Path:
        return self.settings.home_dir

    # -- the database -------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        url = self.settings.database_url
        try:
            return ENGINES.engine(url)
        except SQLAlchemyError as exc:
            where = make_url(url).render_as_string(hide_password=True)
            raise StoreError(f"cannot open the store at {where}: {exc}") from exc

    @cached_property
    def repository(self) -> SqlRecordRepository:
        return SqlRecordRepository(self.engine)

    @cached_property
    def tenants(self) -> TenantRegistry:
        return TenantRegistry(self.engine)

    @cached_property
    def consent(self) -> ConsentLog:
        return ConsentLog(self.engine)

    @cached_property
    def refusals(self) -> SqlRefusalLog:
        return SqlRefusalLog(self.engine)

    @cached_property
    def accountability(self) -> AccountabilityRegister:
        return AccountabilityRegister(self.engine)

    @cached_property
    def ledger(self) -> PrivacyLedger:
        # Imported on use: the ledger pulls in Opacus/torch, which most verbs never need.
        from governance.privacy import PrivacyLedger

        return PrivacyLedger(self.engine)

    # -- the signed files ---------------------------------------------------------------

    @cached_property
    def state(self) -> NodeState:
        return load_node(self.settings)

    @property
    def layout(self) -> NodeLayout:
        return self.state.layout

    @property
    def identity(self) -> Identity:
        return self.state.identity

    @property
    def node_id(self) -> str:
        return self.state.node_id

    @property
    def node_policy(self) -> NodePolicy:
        return self.state.node_policy

    @property
    def coordinator(self) -> dict[str, Any]:
        return self.state.coordinator

    def public_key(self) -> CkksKey | None:
        """The installed public CKKS context (latest), verified when it was installed."""
        return self.state.public_key()

    def public_key_for(self, key_id: str) -> CkksKey:
        """The installed public context of ``key_id``; a round under another key is refused."""
        public = self.public_key()
        if public is not None and public.key_id == key_id:
            return public
        raise NodeSetupError(
            f"node {self.node_id!r} has no public context for key {key_id} "
            f"(installed: {public.key_id if public else 'none'}); run `gcdt-node fetch-keys`"
        )

    def secret_key(self, key_id: str) -> CkksKey:
        """This key holder's secret key (``gcdt-node fetch-keys`` installed its package)."""
        return holder_key(self.state, key_id)

    # -- the way out --------------------------------------------------------------------

    def group_public_keys(self, key_ids: Sequence[str]) -> list[BfvKey]:
        """The installed key groups' public keys a round names (key-group custody)."""
        return keygroup_keys.public_keys(self.state, key_ids)

    def group_secret_key(self, key_id: str) -> BfvKey:
        """This holder's key-group key ``key_id`` (its sealed package, opened again)."""
        return keygroup_keys.secret_key(self.state, key_id)

    def guard(
        self,
        public_key: CkksKey | None = None,
        *,
        installed: bool = True,
        group_keys: Sequence[BfvKey] = (),
    ) -> EgressGuard:
        """The egress guard; it checks ciphertexts against ``public_key``.

        Without one it uses the installed public context, unless ``installed`` is false
        (a reply that carries no ciphertext need not load it).
        """
        if public_key is None and installed:
            public_key = self.public_key()
        return EgressGuard(
            self.node_policy,
            self.identity,
            refusals=self.refusals,
            public_key=public_key,
            group_keys=group_keys,
        )

    def client(self, address: str | None = None, guard: EgressGuard | None = None) -> TrustClient:
        """A mutual-TLS client to the coordinator; every call leaves through ``guard``."""
        target = address or self.coordinator.get("address")
        if not target:
            raise NodeSetupError("no coordinator address: pass --address")
        layout = self.layout
        return TrustClient(
            str(target),
            guard=guard or self.guard(),
            tls_key=layout.tls_key.read_bytes(),
            tls_cert=layout.tls_cert.read_bytes(),
            ca_cert=layout.ca_cert.read_bytes(),
        )

    # -- federation files ---------------------------------------------------------------

    @property
    def current_model_dir(self) -> Path:
        return self.home / MODELS_DIR / CURRENT_MODEL_DIR

    @property
    def rounds_dir(self) -> Path:
        return self.home / ROUNDS_DIR
