"""What the coordinator does with each authenticated trust-protocol request.

Handlers receive domain objects only (a verified :class:`NodeRecord` for the caller and
a :class:`DecodedRequest` whose envelope is already checked) and raise domain errors;
the servicer maps those to gRPC status codes. Every enrolment, ceremony, submission
digest and attestation goes into the transparency log.

Submissions, decryption requests and attestations go through the one aggregation
pipeline (:mod:`coordinator.aggregation`), which the Flower round loop uses too. A package
that owns a round kind adds its checks and round parameters with
:meth:`TrustHandlers.register_round_kind` (statistics: ``coordinator.statistics.wiring``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from coordinator import membership
from coordinator.aggregation import (
    AggregationPipeline,
    RoundKinds,
    RoundParameters,
    SubmissionValidator,
)
from coordinator.store import CoordinatorStore, NodeRecord
from coordinator.store.errors import (
    InvalidRequestError,
    NotFoundError,
    RoundStateError,
    UnknownNodeError,
)
from coordinator.transport.serde import DecodedRequest
from governance.attestation import AttestationOutcome, ciphertext_digest, read_attestation
from governance.ckks import (
    CkksKey,
    KeyPackage,
    PublicContextRelease,
    verify_key_package,
)
from governance.ckks.errors import NotPolicyHoldersError
from governance.ckks.holders import check_package_against_policy, open_release_under_policy
from governance.identity import Identity
from governance.nonces import NonceStore
from governance.pki import HomeLayout
from governance.policy.files import signature_path
from governance.policy.models import TrustPolicy
from governance.sums import SubmissionRef, envelope_digest, submissions_digest
from governance.translog import TransparencyLog
from kernel.wire import trust as wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustInfoData:
    coordinator_id: str
    identity_key: bytes
    policy_toml: bytes
    policy_sig: bytes
    crl_pem: bytes
    nodes: list[NodeRecord]


@dataclass(frozen=True)
class KeyMaterialData:
    release: PublicContextRelease
    ceremony_key: bytes
    package: KeyPackage | None


@dataclass
class TrustHandlers:
    layout: HomeLayout
    identity: Identity
    store: CoordinatorStore
    translog: TransparencyLog
    nonces: NonceStore
    kinds: RoundKinds = field(default_factory=RoundKinds)
    _public_keys: dict[str, CkksKey] = field(default_factory=dict, repr=False)
    pipeline: AggregationPipeline = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pipeline = AggregationPipeline(self.store, self.translog, self.public_key, self.kinds)

    def register_round_kind(
        self,
        kind: str,
        validator: SubmissionValidator | None = None,
        parameters: RoundParameters | None = None,
    ) -> None:
        """Add a round kind's submission checks and the round parameters nodes get."""
        self.kinds.register(kind, validator, parameters)

    # --- trust information ---

    def trust_info(self, node: NodeRecord, request: DecodedRequest) -> TrustInfoData:
        policy = self.layout.trust_policy
        founded = membership.founded(policy)
        crl = self.layout.pki_dir / "crl.pem"
        return TrustInfoData(
            coordinator_id=self.identity.party_id,
            identity_key=self.identity.public_key,
            policy_toml=policy.read_bytes() if founded else b"",
            policy_sig=signature_path(policy).read_bytes() if founded else b"",
            crl_pem=crl.read_bytes() if crl.exists() else b"",
            nodes=self.store.nodes(),
        )

    # --- membership (the member-signed trust policy) ---

    def policy(self) -> TrustPolicy:
        """The trust policy in force, its member signatures verified on every read."""
        return membership.current_policy(self.layout.trust_policy, self.layout.trust_draft)

    def _holder(self, node: NodeRecord) -> TrustPolicy:
        """The policy, if it names ``node`` as a key holder; refused otherwise."""
        policy = self.policy()
        if node.node_id not in membership.key_holders(policy, self.store):
            raise UnknownNodeError(
                f"node {node.node_id!r} is not a key holder of the member-signed trust policy"
            )
        return policy

    # --- key ceremony ---

    def upload_ceremony(self, node: NodeRecord, request: DecodedRequest) -> tuple[str, int]:
        """Keep a ceremony by a holder the policy names, sealed to exactly its group's holders."""
        release = request.public_release
        if release is None:
            raise InvalidRequestError("UploadCeremony: public_context is required")
        if release.ceremony_id != node.node_id:
            raise InvalidRequestError(
                f"public context names ceremony {release.ceremony_id!r}, caller is {node.node_id!r}"
            )
        policy = self.policy()
        active = membership.members(policy, self.store)
        try:
            _key, bound = open_release_under_policy(
                release, policy, node.identity_public_key, active
            )
        except NotPolicyHoldersError as exc:
            raise InvalidRequestError(str(exc)) from exc
        recipients = sorted(p.recipient_id for p in request.key_packages)
        if recipients != list(bound.recipients):
            raise InvalidRequestError(
                f"key packages are for {recipients}, the active holders of group "
                f"{bound.group!r} are {list(bound.recipients)}"
            )
        for package in request.key_packages:
            verify_key_package(package, ceremony_public_key=node.identity_public_key)
            holder = active[package.recipient_id]
            try:
                check_package_against_policy(package, policy, active)
            except NotPolicyHoldersError as exc:
                raise InvalidRequestError(str(exc)) from exc
            if (
                package.key_id != release.key_id
                or package.period != release.period
                or package.group != bound.group
                or package.recipient_transport_key != holder.transport_public_key
            ):
                raise InvalidRequestError(
                    f"key package for {package.recipient_id!r} does not match the public "
                    "context or the holder's registered transport key"
                )
        self.store.store_ceremony(release, request.key_packages)
        entry = self.translog.append(
            "key_ceremony",
            {
                "ceremony_id": node.node_id,
                "key_id": release.key_id,
                "period": release.period,
                "key_group": bound.group,
                "key_holders": list(bound.recipients),
                "policy_version": policy.version,
                "public_context_sha256": hashlib.sha256(release.public_context).hexdigest(),
            },
        )
        return release.key_id, entry.index

    def public_key(self, key_id: str | None = None) -> CkksKey:
        """The verified public CKKS context (latest ceremony by default); never a secret.

        Checked against the policy in force on every call (cached per recipient set): once a
        holder of its group is revoked, the key is refused until a new ceremony.
        """
        release = self.store.public_release(key_id)
        policy = self.policy()
        active = membership.members(policy, self.store)
        ceremony = self.store.node(release.ceremony_id)
        cache_key = f"{release.key_id}:{','.join(sorted(active))}"
        if cache_key not in self._public_keys:
            self._public_keys[cache_key] = open_release_under_policy(
                release, policy, ceremony.identity_public_key, active
            )[0]
        return self._public_keys[cache_key]

    def key_material(self, node: NodeRecord, request: DecodedRequest) -> KeyMaterialData:
        """The public context; a package only to a holder the policy names for its group."""
        key_id = request.metadata.get("key_id")
        release = self.store.public_release(key_id if isinstance(key_id, str) else None)
        ceremony = self.store.node(release.ceremony_id)
        policy = self.policy()
        holders = membership.key_holders(policy, self.store)
        package = None
        if node.node_id in holders:
            try:
                package = self.store.key_package(release.key_id, node.node_id)
            except NotFoundError:  # the node checks, and refuses, a key not sealed to it
                package = None
        return KeyMaterialData(release, ceremony.identity_public_key, package)

    # --- rounds and submissions ---

    def round_for(self, round_kind: str) -> int:
        current = self.store.current_round(round_kind)
        if current is None:
            raise RoundStateError(f"no {round_kind} round is open")
        return current

    def get_round(
        self, node: NodeRecord, request: DecodedRequest
    ) -> tuple[int, str, dict[str, str]]:
        kind = request.text(wire.ROUND_KIND)
        round_id = self.round_for(kind)
        return round_id, kind, self.kinds.parameters(kind, round_id)

    def submit(self, node: NodeRecord, request: DecodedRequest) -> tuple[int, int, str]:
        """Keep a node's submission through the pipeline; a refusal is logged, then raised."""
        round_kind = request.text(wire.ROUND_KIND)
        assert request.round_id is not None
        try:
            self.pipeline.validate(
                round_kind, request.round_id, node, request.ciphertexts, request.metadata
            )
        except Exception as exc:
            self.translog.append(
                "submission_rejected",
                {
                    "round_id": request.round_id,
                    "node_id": node.node_id,
                    "kind": round_kind,
                    "reason": f"{type(exc).__name__}: {exc}"[:500],
                },
            )
            raise
        receipt = self.pipeline.keep(
            round_id=request.round_id,
            node_id=node.node_id,
            kind=round_kind,
            envelope=request.envelope,
            vectors=request.ciphertexts,
            metadata=request.metadata,
        )
        return receipt.submission_id, receipt.log_index, receipt.envelope_digest

    # --- decrypt and attest ---

    def decryption_requests(self, node: NodeRecord, request: DecodedRequest) -> list[Any]:
        self._holder(node)
        return [
            (r, self.store.submissions_by_id(r.submissions))
            for r in self.store.pending_decryption_requests(node.node_id)
        ]

    def submit_attestation(self, node: NodeRecord, request: DecodedRequest) -> tuple[int, int]:
        self._holder(node)
        pending = self.store.decryption_request(request.text("request_id"))
        if pending.status != "open":
            raise RoundStateError(f"decryption request {pending.request_id} is {pending.status}")
        envelope = request.attestations[0]
        att = read_attestation(
            envelope,
            {node.node_id: node.identity_public_key},
            nonce_store=self.nonces,
            subject_id=pending.subject_id,
            round_id=pending.round_id,
            key_id=pending.key_id,
            digest=pending.digest,
        )
        if pending.submissions:
            listed = submissions_digest(
                SubmissionRef(
                    s.node_id,
                    ciphertext_digest(s.vector_under(pending.key_id)),
                    envelope_digest(s.envelope),
                )
                for s in self.store.submissions_by_id(pending.submissions)
            )
            if att.submissions_digest != listed:
                raise InvalidRequestError(
                    f"attestation by {att.signer_id!r} does not name the submissions of "
                    f"request {pending.request_id} ({att.submissions_digest} != {listed})"
                )
        self.store.add_attestation(pending.request_id, att.signer_id, envelope)
        entry = self.translog.append(
            "attestation_received",
            {
                "request_id": pending.request_id,
                "subject_id": pending.subject_id,
                "round_id": pending.round_id,
                "signer_id": att.signer_id,
                "envelope_sha256": hashlib.sha256(envelope.to_bytes()).hexdigest(),
            },
        )
        return entry.index, len(self.store.attestations(pending.request_id))

    def collect(self, request_id: str, *, t: int) -> AttestationOutcome:
        """Accept the request's aggregate iff ``t`` key holders agree (logged either way).

        Raises :class:`governance.attestation.InsufficientAttestationsError` otherwise.
        """
        return self.pipeline.collect(self.store.decryption_request(request_id), t=t)

    # --- publications ---

    def publication(self, node: NodeRecord, request: DecodedRequest) -> Any:
        subject = request.text("subject_id")
        try:
            return self.store.publication(subject)
        except NotFoundError:
            raise
