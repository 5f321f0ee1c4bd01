"""Everything a node's ClientApp needs, loaded from the node's ``GCDT_HOME``.

Flower gives the ClientApp only ``context.node_config``; the SuperNode is started with
``--node-config 'gcdt-home="/path"'`` (``gcdt-node supernode`` does it), so one machine
can run several nodes. In the simulation engine, where node config holds only the
partition id, the app is built with the list of homes and picks its own.

Files (under ``GCDT_HOME``): ``identity/`` (Ed25519 identity, X25519 transport key),
``policies/node.toml`` (+ ``.sig``, signed by the node identity), ``ckks/ceremony.pub``
(hex of the ceremony's public key), ``ckks/custody/`` (sealed key packages of a key
holder), ``ckks/public/<key_id>.ctx`` (public contexts, for nodes holding no key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from governance.ckks import CkksError, CkksKey, KeyCustody, TransportKey, load_public_context
from governance.db import make_engine
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import NodePolicy, load_policy
from governance.privacy import PrivacyLedger
from governance.settings import load_settings
from governance.tables import migrate as migrate_governance
from trust_node.federation.errors import NodeSetupError
from trust_node.store import SqlRecordRepository

CKKS_DIR = "ckks"
CUSTODY_DIR = "custody"
PUBLIC_DIR = "public"
CEREMONY_PUBLIC_KEY_FILE = "ceremony.pub"
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
    def layout(self) -> HomeLayout:
        return HomeLayout(self.home)

    @cached_property
    def identity(self) -> Identity:
        try:
            return Identity.load(self.layout.identity_dir)
        except FileNotFoundError as exc:
            raise NodeSetupError(f"no node identity in {self.layout.identity_dir}") from exc

    @property
    def node_id(self) -> str:
        return self.identity.party_id

    @cached_property
    def policy(self) -> NodePolicy:
        return load_policy(self.layout.node_policy, "node", self.identity.public_key)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            settings = load_settings(home=self.home)
            self._engine = make_engine(settings.database_url)
            migrate_governance(self._engine)
        return self._engine

    @cached_property
    def repository(self) -> SqlRecordRepository:
        return SqlRecordRepository.from_url(load_settings(home=self.home).database_url)

    @cached_property
    def ledger(self) -> PrivacyLedger:
        return PrivacyLedger(self.engine)

    @property
    def ckks_dir(self) -> Path:
        return self.home / CKKS_DIR

    @cached_property
    def custody(self) -> KeyCustody | None:
        pub = self.ckks_dir / CEREMONY_PUBLIC_KEY_FILE
        if not (self.ckks_dir / CUSTODY_DIR).is_dir() or not pub.exists():
            return None
        return KeyCustody(
            self.ckks_dir / CUSTODY_DIR,
            node_id=self.node_id,
            transport_key=TransportKey.load(self.layout.identity_dir),
            ceremony_public_key=bytes.fromhex(pub.read_text().strip()),
        )

    def secret_key(self, key_id: str) -> CkksKey:
        if self.custody is None:
            raise NodeSetupError(f"node {self.node_id!r} is not a key holder (no custody)")
        try:
            return self.custody.key_for_id(key_id)
        except CkksError as exc:
            raise NodeSetupError(str(exc)) from exc

    def public_key(self, key_id: str) -> CkksKey:
        """The public context of ``key_id``: from custody if held, else the stored release."""
        path = self.ckks_dir / PUBLIC_DIR / f"{key_id}.ctx"
        if path.exists():
            return load_public_context(path.read_bytes(), expected_key_id=key_id)
        if self.custody is not None:
            return self.secret_key(key_id).public()
        raise NodeSetupError(f"node {self.node_id!r} has no public context for key {key_id}")

    @property
    def current_model_dir(self) -> Path:
        return self.home / MODELS_DIR / CURRENT_MODEL_DIR

    @property
    def rounds_dir(self) -> Path:
        return self.home / ROUNDS_DIR
