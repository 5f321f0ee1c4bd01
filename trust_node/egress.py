"""The egress guard: the one door out of a node (invariant 1).

Every message a node sends — trust-protocol requests over gRPC, statistics
submissions, attestations, Flower replies — is first described as an :class:`Outbound`
and handed to :meth:`EgressGuard.release`, which either returns the bytes the transport
may send or refuses with :class:`EgressRefusedError` after writing the reason to the
node's refusal log (table ``egress_refusals``).

What may pass (``docs/threat-model.md`` §4.3), checked against the signed node policy:

* the message **kind** must be in ``data_sovereignty.allowed_outbound``;
* **ciphertexts** only in ``ciphertext_update`` / ``ciphertext_statistics`` messages, and
  only real CKKS ciphertexts under the trust's public context (loaded and parameter-
  checked, so raw bytes dressed as a "ciphertext" are refused);
* **attestations** only in ``attestation`` messages: envelopes of kind ``attestation``
  signed by this node, in the documented shape (``governance.attestation``);
* **key material** (sealed CKKS key packages, the public context) only in
  ``enrolment`` messages (trust set-up: public keys and sealed packages), and only when
  this node's identity signed it as the ceremony;
* **metadata**: every value is a string, an integer or a boolean — never a float — and
  every key is either a protocol field or listed in ``data_sovereignty.metadata_fields``:

  - a **protocol field** (:data:`PROTOCOL_FIELDS`) has a strict pattern, may ride only
    in the methods :data:`METHOD_PROTOCOL_FIELDS` names for it, and ``round_id`` must be
    the message's own round id;
  - a **listed field** is typed: ``node_id``, ``jurisdiction``, ``policy_version`` and
    ``software_version`` must be this node's own value (:data:`BOUND_FIELDS`); the
    training report (:data:`REPORT_FIELDS`) is the one numeric metadata, decimal
    strings in ``model_update`` replies only; any other listed field carries a boolean
    or a word of letters, ``_`` and ``-`` (no digit, no integer), as the policy
    declares no type for it.

Nothing else exists in an :class:`Outbound`, so there is no field through which a record
could leave. The guard signs what it releases (:mod:`governance.signed_requests`): the
envelope binds a digest of every part, a fresh nonce and the round id.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Engine, Integer, String, Table, Text, select

from governance.attestation import ATTESTATION_KIND, AttestationError, check_payload
from governance.ckks import (
    CkksError,
    CkksKey,
    EncryptedVector,
    KeyPackage,
    PublicContextRelease,
    check_ciphertext,
    verify_key_package,
)
from governance.envelope import Envelope, open_envelope
from governance.errors import EnvelopeError
from governance.identity import Identity, verify_signature
from governance.keygroups import BfvKey, check_share
from governance.policy.models import NodePolicy, OutboundKind
from governance.signed_requests import METHOD_PATTERN, Scalar, seal_request, summarize
from kernel.wire import flower as flower_wire
from kernel.wire import trust as trust_wire
from kernel.wire.flower import ReleasedFrame, frame_to_bytes
from trust_node.errors import NodeError
from trust_node.store.tables import metadata

CIPHERTEXT_KINDS: frozenset[str] = frozenset(
    {trust_wire.CIPHERTEXT_UPDATE, trust_wire.CIPHERTEXT_STATISTICS}
)

#: Protocol identifiers, each with the only shape it may take. None of them can hold a
#: measured quantity or a free-text record field.
PROTOCOL_FIELDS: Mapping[str, re.Pattern[str] | type] = {
    "round_id": int,
    "period": re.compile(r"^(19|20|21)\d\d(-Q[1-4]|-(0[1-9]|1[0-2]))?\Z"),
    "key_id": re.compile(r"^[0-9a-f]{32}\Z"),
    # key-group custody: the groups' names, in the order of the shares (one per group)
    "key_groups": re.compile(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63})+\Z"
    ),
    "request_id": re.compile(r"^[0-9a-f]{32}\Z"),
    "layout_digest": re.compile(r"^sha256:[0-9a-f]{64}\Z"),
    "subject_id": re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,127}\Z"),
    "round_kind": re.compile(r"^[a-z][a-z_]{0,31}\Z"),
}
_M = trust_wire.METHODS
#: The protocol fields each method may carry, and no other: a protocol field is checked
#: like a listed one (by name for the message it rides in, by shape, and bound where it
#: can be), so a ``round_id`` or ``subject_id`` is no free channel. A method not named
#: here carries no protocol field.
METHOD_PROTOCOL_FIELDS: Mapping[str, frozenset[str]] = {
    _M["GetTrustInfo"][0]: frozenset(),
    _M["UploadCeremony"][0]: frozenset({"key_id", "period"}),
    _M["GetKeyMaterial"][0]: frozenset({"key_id"}),
    _M["GetRound"][0]: frozenset({"round_kind"}),
    _M["Submit"][0]: frozenset({"round_kind", "layout_digest", "round_id"}),
    _M["FetchDecryptionRequests"][0]: frozenset(),
    _M["SubmitAttestation"][0]: frozenset({"request_id"}),
    _M["GetPublication"][0]: frozenset({"subject_id"}),
    flower_wire.UPDATE_METHOD: frozenset({"round_id", "key_id", "key_groups"}),
    flower_wire.REFUSAL_METHOD: frozenset({"round_id"}),
    flower_wire.INSTALLED_METHOD: frozenset({"round_id"}),
}
#: Listed fields whose one allowed value the node itself fixes (see ``_bound_value``).
BOUND_FIELDS: frozenset[str] = frozenset(
    {"node_id", "jurisdiction", "policy_version", "software_version"}
)
#: The one numeric metadata the guard knows: the training report
#: (``kernel.wire.flower.REPORT_FIELDS``), decimal strings. Why they may leave at all: they
#: are the node's own privacy accounting (cumulative epsilon, budget, delta) and the
#: energy and CO2 codecarbon measured for its training, which the model card publishes per
#: node; none is computed from a record value. They leave only where the policy lists
#: them, only in ``model_update`` replies, and only in this decimal shape.
REPORT_FIELDS: frozenset[str] = frozenset(flower_wire.REPORT_FIELDS)
_DECIMAL = re.compile(r"^\d{1,20}(\.\d{1,20})?(e[+-]?\d{1,3})?\Z")
#: Shape of any other policy-listed metadata string: a word from a closed vocabulary of
#: letters, ``_`` and ``-``. No digit, so it cannot carry a number written out.
_WORD = re.compile(r"^[A-Za-z][A-Za-z_-]{0,63}\Z")


class EgressRefusedError(NodeError):
    """The egress guard refused to let a message leave; ``reason`` says why."""

    def __init__(self, kind: str, method: str, reason: str) -> None:
        self.kind = kind
        self.method = method
        self.reason = reason
        super().__init__(f"egress refused ({kind}/{method}): {reason}")


@dataclass(frozen=True)
class Outbound:
    """Everything that can leave a node, by construction. See the module docstring."""

    kind: OutboundKind
    method: str
    round_id: int | None = None
    ciphertexts: tuple[EncryptedVector, ...] = ()
    metadata: Mapping[str, Scalar] = field(default_factory=dict)
    attestations: tuple[Envelope, ...] = ()
    key_packages: tuple[KeyPackage, ...] = ()
    public_release: PublicContextRelease | None = None

    def summary(self) -> dict[str, Any]:
        return summarize(
            method=self.method,
            outbound_kind=self.kind,
            round_id=self.round_id,
            ciphertexts=self.ciphertexts,
            metadata=self.metadata,
            attestations=self.attestations,
            key_packages=self.key_packages,
            public_release=self.public_release,
        )


@dataclass(frozen=True)
class Released:
    """An outbound message the guard let through, with the envelope it sealed for it."""

    outbound: Outbound
    envelope: Envelope

    def to_frame(self) -> ReleasedFrame:
        """The transport-neutral frame for carriers that are not the gRPC serde (Flower)."""
        o = self.outbound
        return ReleasedFrame(
            envelope=self.envelope.to_json(),
            ciphertexts=tuple(v.to_bytes() for v in o.ciphertexts),
            attestations=tuple(a.to_json() for a in o.attestations),
            key_packages=tuple(p.to_bytes().decode("utf-8") for p in o.key_packages),
        )

    def to_bytes(self) -> bytes:
        """:meth:`to_frame` encoded as ``kernel.wire.flower`` defines it."""
        return frame_to_bytes(self.to_frame())


Encoder = Callable[[Released], bytes]


# --- the refusal log -----------------------------------------------------------------

egress_refusals = Table(
    "egress_refusals",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("refused_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("method", String(64), nullable=False),
    Column("reason", Text, nullable=False),
)


@dataclass(frozen=True)
class Refusal:
    refused_at: dt.datetime
    kind: str
    method: str
    reason: str


class SqlRefusalLog:
    """Node-local record of every refused message (reasons only, never the refused values)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, kind: str, method: str, reason: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                egress_refusals.insert().values(
                    refused_at=dt.datetime.now(dt.UTC),
                    kind=kind[:64],
                    method=method[:64],
                    reason=reason,
                )
            )

    def entries(self) -> list[Refusal]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(egress_refusals).order_by(egress_refusals.c.id)).all()
        return [Refusal(r.refused_at, r.kind, r.method, r.reason) for r in rows]


# --- the guard -----------------------------------------------------------------------


class EgressGuard:
    """Checks every outbound message against the node policy and seals what passes.

    ``public_key`` is the trust's public CKKS context: without it no ciphertext can be
    checked, so none is released. ``group_keys`` are key groups' public BFV keys (key-group
    custody): a ciphertext under one of them is checked as that group's share.
    """

    def __init__(
        self,
        policy: NodePolicy,
        identity: Identity,
        *,
        refusals: SqlRefusalLog,
        public_key: CkksKey | None = None,
        group_keys: Sequence[BfvKey] = (),
    ) -> None:
        if identity.party_id != policy.node_id:
            raise NodeError(
                f"node policy is for {policy.node_id!r}, identity is {identity.party_id!r}"
            )
        self.policy = policy
        self.identity = identity
        self.refusals = refusals
        self.public_key = public_key
        self.group_keys = {k.key_id: k for k in group_keys}

    def check(self, outbound: Outbound) -> Released:
        """Validate ``outbound``; seal it, or log the reason and raise."""
        kind = str(getattr(outbound, "kind", "?"))
        method = str(getattr(outbound, "method", "?"))
        try:
            if not isinstance(outbound, Outbound):
                raise _Refuse(f"not an Outbound but {type(outbound).__name__}")
            self._validate(outbound)
            envelope = seal_request(self.identity, outbound.summary())
        except _Refuse as exc:
            self.refusals.record(kind, method, str(exc))
            raise EgressRefusedError(kind, method, str(exc)) from None
        return Released(outbound, envelope)

    def release(self, outbound: Outbound, encode: Encoder | None = None) -> bytes:
        """The bytes the transport sends: ``encode(released)`` (default: JSON framing)."""
        released = self.check(outbound)
        return (encode or Released.to_bytes)(released)

    # -- rules --

    def _validate(self, o: Outbound) -> None:
        # The order of the rules fixes which reason a message with several faults is
        # refused (and logged) for: the envelope first, then each kind of payload.
        self._check_header(o)
        self._check_metadata(o)
        self._check_ciphertexts(o)
        self._check_attestations(o)
        self._check_key_material(o)

    def _check_header(self, o: Outbound) -> None:
        if not self.policy.data_sovereignty.allows(o.kind):
            raise _Refuse(f"kind {o.kind!r} is not in the node policy's allowed_outbound")
        if not isinstance(o.method, str) or not METHOD_PATTERN.match(o.method):
            raise _Refuse(f"method {o.method!r} is not a protocol method name")
        if o.round_id is not None and (type(o.round_id) is not int or o.round_id < 0):
            raise _Refuse("round_id must be a natural number or None")

    def _check_ciphertexts(self, o: Outbound) -> None:
        if o.ciphertexts and o.kind not in CIPHERTEXT_KINDS:
            raise _Refuse(f"ciphertexts may leave only in {sorted(CIPHERTEXT_KINDS)} messages")
        if o.kind in CIPHERTEXT_KINDS and not o.ciphertexts:
            raise _Refuse(f"a {o.kind} message must carry at least one ciphertext")
        for index, vector in enumerate(o.ciphertexts):
            self._check_ciphertext(index, vector)

    def _check_attestations(self, o: Outbound) -> None:
        if o.attestations and o.kind != "attestation":
            raise _Refuse("attestations may leave only in attestation messages")
        if o.kind == "attestation" and not o.attestations:
            raise _Refuse("an attestation message must carry an attestation")
        for envelope in o.attestations:
            self._check_attestation(envelope)

    def _check_key_material(self, o: Outbound) -> None:
        if (o.key_packages or o.public_release is not None) and o.kind != "enrolment":
            raise _Refuse("key material may leave only in enrolment (trust set-up) messages")
        for package in o.key_packages:
            if not isinstance(package, KeyPackage):
                raise _Refuse("key_packages must be KeyPackage objects")
            try:
                verify_key_package(package, ceremony_public_key=self.identity.public_key)
            except CkksError as exc:
                raise _Refuse(f"key package not signed by this node as ceremony: {exc}") from exc
        release = o.public_release
        if isinstance(release, PublicContextRelease) and o.key_packages:
            # the release travels without its group and recipients: its packages carry them
            first = o.key_packages[0]
            release = replace(release, group=first.group, recipients=first.recipients)
        if release is not None and not (
            isinstance(release, PublicContextRelease)
            and verify_signature(
                self.identity.public_key, release.signature, release.signed_bytes()
            )
        ):
            raise _Refuse("public context release is not signed by this node as ceremony")

    def _check_metadata(self, o: Outbound) -> None:
        values = o.metadata
        if not isinstance(values, Mapping):
            raise _Refuse("metadata must be a mapping")
        listed = set(self.policy.data_sovereignty.metadata_fields)
        for name, value in values.items():
            if type(value) not in (str, int, bool):
                raise _Refuse(
                    f"metadata {name!r}: only strings, integers and booleans may leave "
                    f"(got {type(value).__name__})"
                )
            if name in PROTOCOL_FIELDS:
                self._check_protocol_field(o, name, value)
            elif name in listed:
                self._check_listed_field(o, name, value)
            else:
                raise _Refuse(
                    f"metadata field {name!r} is neither a protocol field nor listed in the "
                    "node policy's data_sovereignty.metadata_fields"
                )

    def _check_protocol_field(self, o: Outbound, name: str, value: Scalar) -> None:
        shape = PROTOCOL_FIELDS[name]
        ok = (
            (type(value) is int and value >= 0)
            if shape is int
            else isinstance(value, str) and bool(shape.match(value))  # type: ignore[union-attr]
        )
        if not ok:
            raise _Refuse(f"metadata {name!r}: value is not a valid {name}")
        if name not in METHOD_PROTOCOL_FIELDS.get(o.method, frozenset()):
            raise _Refuse(f"metadata {name!r} is not a protocol field of method {o.method!r}")
        if name == "round_id" and value != o.round_id:
            raise _Refuse("metadata round_id is not the message's round_id")

    def _check_listed_field(self, o: Outbound, name: str, value: Scalar) -> None:
        if name in BOUND_FIELDS:
            if value != self._bound_value(name) or type(value) is bool:
                what = "id" if name == "node_id" else name
                raise _Refuse(f"metadata {name} is not this node's {what}")
        elif name in REPORT_FIELDS:
            if o.method != flower_wire.UPDATE_METHOD:
                raise _Refuse(f"metadata {name!r} leaves only in {flower_wire.UPDATE_METHOD}")
            if not (isinstance(value, str) and _DECIMAL.match(value)):
                raise _Refuse(f"metadata {name!r}: value is not a decimal string")
        elif type(value) is int:
            raise _Refuse(
                f"metadata {name!r}: a number may leave only in a field the guard knows as "
                "numeric (the training report)"
            )
        elif isinstance(value, str) and not _WORD.match(value):
            raise _Refuse(f"metadata {name!r}: value is not a word (letters, '_', '-')")

    def _bound_value(self, name: str) -> Scalar:
        """The one value a bound field may carry: this node's own, fixed by the node."""
        if name == "node_id":
            return self.identity.party_id
        if name == "jurisdiction":
            return self.policy.jurisdiction
        if name == "policy_version":
            return self.policy.version
        return _software_version()

    def _check_ciphertext(self, index: int, vector: Any) -> None:
        if not isinstance(vector, EncryptedVector):
            raise _Refuse(f"ciphertext {index} is not an EncryptedVector")
        group_key = self.group_keys.get(vector.key_id)
        if self.public_key is None and group_key is None:
            raise _Refuse("no trust public context installed: ciphertexts cannot be checked")
        try:
            EncryptedVector.from_bytes(vector.to_bytes())
            if group_key is not None:
                check_share(group_key, vector)
            else:
                assert self.public_key is not None
                check_ciphertext(self.public_key, vector)
        except CkksError as exc:
            raise _Refuse(f"ciphertext {index} is not a valid trust ciphertext: {exc}") from exc

    def _check_attestation(self, envelope: Any) -> None:
        if not isinstance(envelope, Envelope):
            raise _Refuse("an attestation must be an Envelope")
        try:
            open_envelope(
                envelope,
                self.identity.public_key,
                nonce_store=None,
                max_age=None,
                expected_kind=ATTESTATION_KIND,
                expected_signer_id=self.identity.party_id,
            )
            check_payload(envelope.payload)
        except (EnvelopeError, AttestationError) as exc:
            raise _Refuse(f"attestation refused: {exc}") from exc


def _software_version() -> str:
    """The installed version of this node's software (the ``gcdt`` distribution)."""
    try:
        return importlib.metadata.version("gcdt")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class _Refuse(NodeError):
    """Internal: a rule failed; :meth:`EgressGuard.check` logs it and raises."""
