"""The coordinator's database: enrolled nodes, key material relay, rounds, submissions,
decryption requests, attestations and publications (tables in ``coordinator.store.tables``).

One class, :class:`CoordinatorStore`, so the protocol handlers, the statistics rounds and
federated training share one way in. Everything here is either public or opaque to the
coordinator (sealed key packages, ciphertexts, signed envelopes).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from coordinator.store import tables as t
from coordinator.store.errors import (
    AlreadyEnrolledError,
    AlreadyPublishedError,
    DuplicateSubmissionError,
    NotFoundError,
    RoundStateError,
    UnknownNodeError,
)
from coordinator.tables import migrate
from governance.attestation import ciphertext_digest
from governance.ckks import CkksParameters, EncryptedVector, KeyPackage, PublicContextRelease
from governance.envelope import Envelope
from kernel.db import MigratedEngines
from kernel.settings import Settings, load_settings


class NodeStatus(enum.StrEnum):
    """An enrolled node's standing; only an active node may call or be counted."""

    ACTIVE = "active"
    REVOKED = "revoked"


class RoundStatus(enum.StrEnum):
    """A protocol round takes submissions while open; closing it is final."""

    OPEN = "open"
    CLOSED = "closed"


class DecryptionStatus(enum.StrEnum):
    """A decryption request is served to key holders while open, and never after."""

    OPEN = "open"
    DONE = "done"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: The coordinator's engines, one per database URL per process, migrated on first use
#: (``migrate`` looked up each time, so a test can count the migrations).
ENGINES = MigratedEngines(lambda engine: migrate(engine))


def open_engine(settings: Settings | None = None) -> Engine:
    """The coordinator's engine (GCDT_DATABASE_URL or SQLite in GCDT_HOME), migrated once.

    Entry points take it from :class:`coordinator.context.CoordinatorContext`; this is
    the store's own door for tests and tools that need only the database.
    """
    settings = settings or load_settings()
    return ENGINES.engine(settings.database_url)


@dataclass(frozen=True)
class NodeRecord:
    node_id: str
    jurisdiction: str
    identity_public_key: bytes
    transport_public_key: bytes
    cert_serial: int
    key_holder: bool
    status: NodeStatus
    enrolled_at: dt.datetime


@dataclass(frozen=True)
class StoredSubmission:
    id: int
    round_id: int
    node_id: str
    kind: str
    envelope: Envelope
    vectors: tuple[EncryptedVector, ...] = field(repr=False)
    metadata: dict[str, Any]

    def vector_under(self, key_id: str) -> EncryptedVector:
        """The vector under ``key_id`` (under key-group custody a submission carries one
        share per group); the first vector when none is (single-key custody's one vector).
        """
        return next((v for v in self.vectors if v.key_id == key_id), self.vectors[0])


@dataclass(frozen=True)
class DecryptionRequest:
    request_id: str
    round_id: int
    subject_id: str
    key_id: str
    digest: str
    vector: EncryptedVector = field(repr=False)
    status: DecryptionStatus
    #: the round kind of the aggregate (how a key holder attests it)
    kind: str = ""
    #: what that kind needs to attest (e.g. a statistics round's terms)
    parameters: Mapping[str, str] = field(default_factory=dict)
    #: ids of the stored submissions in the sum
    submissions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Publication:
    subject_id: str
    kind: str
    body: dict[str, Any]
    log_index: int
    published_at: dt.datetime


def _node(row: Any) -> NodeRecord:
    return NodeRecord(
        node_id=row.node_id,
        jurisdiction=row.jurisdiction,
        identity_public_key=bytes.fromhex(row.identity_public_key),
        transport_public_key=bytes.fromhex(row.transport_public_key),
        cert_serial=int(row.cert_serial, 16),
        key_holder=bool(row.key_holder),
        status=NodeStatus(row.status),
        enrolled_at=row.enrolled_at,
    )


def _request(row: Any) -> DecryptionRequest:
    return DecryptionRequest(
        request_id=row.request_id,
        round_id=row.round_id,
        subject_id=row.subject_id,
        key_id=row.key_id,
        digest=row.digest,
        vector=EncryptedVector.from_bytes(bytes(row.vector)),
        status=DecryptionStatus(row.status),
        kind=row.kind,
        parameters=json.loads(row.parameters),
        submissions=tuple(int(i) for i in json.loads(row.submissions)),
    )


class CoordinatorStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- enrolled nodes --------------------------------------------------------------

    def register_node(
        self,
        *,
        node_id: str,
        jurisdiction: str,
        identity_public_key: bytes,
        transport_public_key: bytes,
        cert_serial: int,
        key_holder: bool,
    ) -> NodeRecord:
        values = {
            "node_id": node_id,
            "jurisdiction": jurisdiction,
            "identity_public_key": identity_public_key.hex(),
            "transport_public_key": transport_public_key.hex(),
            "cert_serial": f"{cert_serial:x}",
            "key_holder": key_holder,
            "status": NodeStatus.ACTIVE,
            "enrolled_at": _now(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.enrolled_nodes).values(**values))
        except IntegrityError as exc:
            raise AlreadyEnrolledError(
                f"node {node_id!r} (or certificate {cert_serial:x}) is already enrolled"
            ) from exc
        return self.node(node_id)

    def find_node(self, node_id: str) -> NodeRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.enrolled_nodes).where(t.enrolled_nodes.c.node_id == node_id)
            ).first()
        return None if row is None else _node(row)

    def node(self, node_id: str) -> NodeRecord:
        found = self.find_node(node_id)
        if found is None:
            raise UnknownNodeError(f"node {node_id!r} is not enrolled")
        return found

    def active_node(self, node_id: str, cert_serial: int | None = None) -> NodeRecord:
        """The enrolled, active node; with ``cert_serial``, also the certificate it holds."""
        node = self.node(node_id)
        if node.status != NodeStatus.ACTIVE:
            raise UnknownNodeError(f"node {node_id!r} is {node.status}")
        if cert_serial is not None and node.cert_serial != cert_serial:
            raise UnknownNodeError(
                f"node {node_id!r} presented certificate {cert_serial:x}, "
                f"enrolled certificate is {node.cert_serial:x}"
            )
        return node

    def nodes(self, *, status: NodeStatus | None = NodeStatus.ACTIVE) -> list[NodeRecord]:
        stmt = select(t.enrolled_nodes).order_by(t.enrolled_nodes.c.node_id)
        if status is not None:
            stmt = stmt.where(t.enrolled_nodes.c.status == status)
        with self.engine.connect() as conn:
            return [_node(r) for r in conn.execute(stmt)]

    def key_holders(self) -> list[NodeRecord]:
        return [n for n in self.nodes() if n.key_holder]

    def identity_keys(self, *, key_holders_only: bool = False) -> dict[str, bytes]:
        nodes = self.key_holders() if key_holders_only else self.nodes()
        return {n.node_id: n.identity_public_key for n in nodes}

    def set_key_holders(self, node_ids: set[str]) -> None:
        """Flag exactly ``node_ids`` as key holders (the member-signed policy's, see
        :mod:`coordinator.membership`); every other node is not one.
        """
        with self.engine.begin() as conn:
            conn.execute(update(t.enrolled_nodes).values(key_holder=False))
            if node_ids:
                conn.execute(
                    update(t.enrolled_nodes)
                    .where(t.enrolled_nodes.c.node_id.in_(sorted(node_ids)))
                    .values(key_holder=True)
                )

    def set_status(self, node_id: str, status: NodeStatus) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.enrolled_nodes)
                .where(t.enrolled_nodes.c.node_id == node_id)
                .values(status=status)
            )
        if not result.rowcount:
            raise UnknownNodeError(f"node {node_id!r} is not enrolled")

    # --- key material relay ----------------------------------------------------------

    def store_ceremony(self, release: PublicContextRelease, packages: Sequence[KeyPackage]) -> None:
        """Keep the public context and the sealed packages (opaque to us) of one ceremony."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.public_contexts).values(
                        key_id=release.key_id,
                        period=release.period,
                        ceremony_id=release.ceremony_id,
                        params=json.dumps(release.params.to_dict(), sort_keys=True),
                        public_context=release.public_context,
                        signature=release.signature,
                        uploaded_at=_now(),
                    )
                )
                for package in packages:
                    conn.execute(
                        insert(t.key_packages).values(
                            key_id=package.key_id,
                            recipient_id=package.recipient_id,
                            package=package.to_bytes(),
                        )
                    )
        except IntegrityError as exc:
            raise AlreadyEnrolledError(f"key {release.key_id} was uploaded before") from exc

    def public_release(self, key_id: str | None = None) -> PublicContextRelease:
        """The public context with ``key_id``, or the latest uploaded."""
        stmt = select(t.public_contexts)
        stmt = (
            stmt.where(t.public_contexts.c.key_id == key_id)
            if key_id
            else stmt.order_by(t.public_contexts.c.uploaded_at.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            raise NotFoundError(
                f"no public context {key_id}" if key_id else "no key ceremony has run yet"
            )
        return PublicContextRelease(
            ceremony_id=row.ceremony_id,
            key_id=row.key_id,
            period=row.period,
            params=CkksParameters.from_dict(json.loads(row.params)),
            public_context=bytes(row.public_context),
            signature=bytes(row.signature),
        )

    def key_package(self, key_id: str, recipient_id: str) -> KeyPackage:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.key_packages.c.package).where(
                    and_(
                        t.key_packages.c.key_id == key_id,
                        t.key_packages.c.recipient_id == recipient_id,
                    )
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no key package of key {key_id} for {recipient_id!r}")
        return KeyPackage.from_bytes(bytes(row.package))

    # --- rounds ----------------------------------------------------------------------

    def open_round(self, kind: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(t.rounds).values(kind=kind, status=RoundStatus.OPEN, opened_at=_now())
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def current_round(self, kind: str) -> int | None:
        """The newest open round of ``kind``, or None."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.max(t.rounds.c.round_id)).where(
                    t.rounds.c.kind == kind, t.rounds.c.status == RoundStatus.OPEN
                )
            ).scalar_one_or_none()
        return None if value is None else int(value)

    def close_round(self, round_id: int) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(t.rounds)
                .where(t.rounds.c.round_id == round_id, t.rounds.c.status == RoundStatus.OPEN)
                .values(status=RoundStatus.CLOSED, closed_at=_now())
            )
        if not result.rowcount:
            raise RoundStateError(f"round {round_id} is not open")

    # --- submissions -----------------------------------------------------------------

    def add_submission(
        self,
        *,
        round_id: int,
        node_id: str,
        kind: str,
        envelope: Envelope,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Any],
    ) -> int:
        try:
            with self.engine.begin() as conn:
                sid = conn.execute(
                    insert(t.submissions).values(
                        round_id=round_id,
                        node_id=node_id,
                        kind=kind,
                        envelope=envelope.to_bytes().decode("utf-8"),
                        metadata=json.dumps(dict(metadata), sort_keys=True),
                        received_at=_now(),
                    )
                ).inserted_primary_key
                assert sid is not None
                sid = sid[0]
                for position, vector in enumerate(vectors):
                    conn.execute(
                        insert(t.submission_vectors).values(
                            submission_id=sid, position=position, data=vector.to_bytes()
                        )
                    )
        except IntegrityError as exc:
            raise DuplicateSubmissionError(
                f"node {node_id!r} already submitted {kind} in round {round_id}"
            ) from exc
        return int(sid)

    def submissions(self, round_id: int, kind: str | None = None) -> list[StoredSubmission]:
        stmt = select(t.submissions).where(t.submissions.c.round_id == round_id)
        if kind is not None:
            stmt = stmt.where(t.submissions.c.kind == kind)
        return self._load_submissions(stmt)

    def submissions_by_id(self, ids: Sequence[int]) -> list[StoredSubmission]:
        """The stored submissions ``ids`` (a decryption request's), in id order."""
        if not ids:
            return []
        return self._load_submissions(
            select(t.submissions).where(t.submissions.c.id.in_([int(i) for i in ids]))
        )

    def _load_submissions(self, stmt: Any) -> list[StoredSubmission]:
        out = []
        with self.engine.connect() as conn:
            for row in conn.execute(stmt.order_by(t.submissions.c.id)).all():
                vectors = conn.execute(
                    select(t.submission_vectors.c.data)
                    .where(t.submission_vectors.c.submission_id == row.id)
                    .order_by(t.submission_vectors.c.position)
                ).scalars()
                out.append(
                    StoredSubmission(
                        id=row.id,
                        round_id=row.round_id,
                        node_id=row.node_id,
                        kind=row.kind,
                        envelope=Envelope.from_bytes(row.envelope.encode("utf-8")),
                        vectors=tuple(EncryptedVector.from_bytes(bytes(v)) for v in vectors),
                        metadata=json.loads(row.metadata),
                    )
                )
        return out

    # --- decryption requests and attestations ----------------------------------------

    def add_decryption_request(
        self,
        *,
        round_id: int,
        subject_id: str,
        vector: EncryptedVector,
        kind: str = "",
        parameters: Mapping[str, str] | None = None,
        submissions: Sequence[int] = (),
    ) -> DecryptionRequest:
        """Queue a summed ciphertext for the key holders to decrypt and attest.

        ``kind``/``parameters`` travel to the key holders (how to attest this aggregate);
        ``submissions`` names the stored submissions in the sum.
        """
        request_id = secrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.decryption_requests).values(
                    request_id=request_id,
                    round_id=round_id,
                    subject_id=subject_id,
                    key_id=vector.key_id,
                    digest=ciphertext_digest(vector),
                    vector=vector.to_bytes(),
                    status=DecryptionStatus.OPEN,
                    created_at=_now(),
                    kind=kind,
                    parameters=json.dumps(dict(parameters or {}), sort_keys=True),
                    submissions=json.dumps([int(i) for i in submissions]),
                )
            )
        return self.decryption_request(request_id)

    def decryption_request(self, request_id: str) -> DecryptionRequest:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.decryption_requests).where(
                    t.decryption_requests.c.request_id == request_id
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no decryption request {request_id}")
        return _request(row)

    def pending_decryption_requests(self, node_id: str) -> list[DecryptionRequest]:
        """Open requests this key holder has not attested yet."""
        attested = select(t.attestations.c.request_id).where(t.attestations.c.signer_id == node_id)
        stmt = (
            select(t.decryption_requests)
            .where(
                t.decryption_requests.c.status == DecryptionStatus.OPEN,
                t.decryption_requests.c.request_id.not_in(attested),
            )
            .order_by(t.decryption_requests.c.created_at)
        )
        with self.engine.connect() as conn:
            return [_request(r) for r in conn.execute(stmt)]

    def add_attestation(self, request_id: str, signer_id: str, envelope: Envelope) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.attestations).values(
                        request_id=request_id,
                        signer_id=signer_id,
                        envelope=envelope.to_bytes().decode("utf-8"),
                        received_at=_now(),
                    )
                )
        except IntegrityError as exc:
            raise DuplicateSubmissionError(
                f"{signer_id!r} already attested request {request_id}"
            ) from exc

    def attestations(self, request_id: str) -> list[Envelope]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.attestations.c.envelope)
                .where(t.attestations.c.request_id == request_id)
                .order_by(t.attestations.c.received_at)
            ).scalars()
            return [Envelope.from_bytes(r.encode("utf-8")) for r in rows]

    def close_decryption_request(
        self, request_id: str, status: DecryptionStatus = DecryptionStatus.DONE
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.decryption_requests)
                .where(t.decryption_requests.c.request_id == request_id)
                .values(status=status)
            )

    # --- publications ----------------------------------------------------------------

    def add_publication(
        self, subject_id: str, kind: str, body: Mapping[str, Any], log_index: int
    ) -> Publication:
        """Keep what the ``publication`` log entry at ``log_index`` published."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.publications).values(
                        subject_id=subject_id,
                        kind=kind,
                        body=json.dumps(dict(body), sort_keys=True),
                        log_index=log_index,
                        published_at=_now(),
                    )
                )
        except IntegrityError as exc:
            raise AlreadyPublishedError(f"{subject_id!r} is published already") from exc
        return self.publication(subject_id)

    def publication(self, subject_id: str) -> Publication:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.publications).where(t.publications.c.subject_id == subject_id)
            ).first()
        if row is None:
            raise NotFoundError(f"nothing published as {subject_id!r}")
        return _publication(row)

    def publications(self, kind: str | None = None) -> list[Publication]:
        """Every publication (of ``kind``), oldest first."""
        stmt = select(t.publications).order_by(t.publications.c.log_index)
        if kind is not None:
            stmt = stmt.where(t.publications.c.kind == kind)
        with self.engine.connect() as conn:
            return [_publication(r) for r in conn.execute(stmt)]


def _publication(row: Any) -> Publication:
    published_at = row.published_at
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=dt.UTC)
    return Publication(row.subject_id, row.kind, json.loads(row.body), row.log_index, published_at)
