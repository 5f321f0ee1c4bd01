"""Everything a node's ClientApp needs, loaded from the node's ``GCDT_HOME``.

Flower gives the ClientApp only ``context.node_config``; the SuperNode is started with
``--node-config 'gcdt-home="/path"'`` (``gcdt-node supernode`` does it), so one machine
can run several nodes. In the simulation engine, where node config holds only the
partition id, the app is built with the list of homes and picks its own.

The files are the ones the trust protocol set up (:mod:`trust_node.node_setup`):
``gcdt-node init`` (identity, transport key, signed node policy), ``gcdt-node enrol``
(certificate, trust root, coordinator key) and ``gcdt-node fetch-keys`` (the verified
public context release under ``keys/public/``, and for a key holder its custody under
``keys/``). Federation adds ``models/current/`` (the installed published model) and
``federation/<run>/`` (this node's own plaintext updates, never sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from governance.ckks import CkksKey
from governance.identity import Identity
from governance.policy import NodePolicy
from governance.privacy import PrivacyLedger
from governance.tables import migrate as migrate_governance
from kernel.db import make_engine
from kernel.settings import Settings, load_settings
from trust_node.errors import NodeSetupError
from trust_node.node_setup import NodeState, holder_key, load_node
from trust_node.store import SqlRecordRepository

MODELS_DIR = "models"
CURRENT_MODEL_DIR = "current"
ROUNDS_DIR = "federation"


@dataclass
class NodeRuntime:
    home: Path
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def open(cls, home: Path | str) -> NodeRuntime:
        path = Path(home)
        if not path.is_dir():
            raise NodeSetupError(f"node home {path} does not exist")
        return cls(path)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(home=self.home)

    @cached_property
    def state(self) -> NodeState:
        return load_node(self.settings)

    @property
    def identity(self) -> Identity:
        return self.state.identity

    @property
    def node_id(self) -> str:
        return self.identity.party_id

    @property
    def policy(self) -> NodePolicy:
        return self.state.node_policy

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            migrate_governance(self._engine)
        return self._engine

    @cached_property
    def repository(self) -> SqlRecordRepository:
        return SqlRecordRepository.from_url(self.settings.database_url)

    @cached_property
    def ledger(self) -> PrivacyLedger:
        return PrivacyLedger(self.engine)

    def secret_key(self, key_id: str) -> CkksKey:
        """This key holder's secret key (``gcdt-node fetch-keys`` installed its package)."""
        return holder_key(self.state, key_id)

    def public_key(self, key_id: str) -> CkksKey:
        """The verified public context of ``key_id`` installed by ``gcdt-node fetch-keys``."""
        public = self.state.public_key()
        if public is not None and public.key_id == key_id:
            return public
        raise NodeSetupError(
            f"node {self.node_id!r} has no public context for key {key_id} "
            f"(installed: {public.key_id if public else 'none'}); run `gcdt-node fetch-keys`"
        )

    @property
    def current_model_dir(self) -> Path:
        return self.home / MODELS_DIR / CURRENT_MODEL_DIR

    @property
    def rounds_dir(self) -> Path:
        return self.home / ROUNDS_DIR
