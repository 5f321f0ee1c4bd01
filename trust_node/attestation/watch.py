"""Pulling decryption requests from the coordinator and answering them, once or for as long
as the node runs.

Training needs its round sums attested while the Flower run goes on, statistics when an
operator closes a round: a key holder keeps ``gcdt-node attest --watch`` running, which
asks the trust server for its pending requests every few seconds. A request that was
decided meanwhile (closed, or already attested by this node) is skipped; a kind this node
has no duty for is skipped and logged, never guessed at.

No duty runs before the request is verified to be a sum of enough signed member
submissions, not yet decrypted in another aggregate (:mod:`.verify`): a refused request
is logged in the node's refusal log and left unanswered, so the coordinator sees only
that this key holder did not attest it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from governance.ckks import CkksKey
from governance.envelope import Envelope
from governance.identity import Identity
from governance.keygroups import BfvKey, KeyGroupError, attest_group_sum
from kernel.wire.trust import ATTESTATION, KEY_GROUP_PARAMETER, TRAINING_ROUND
from trust_node.attestation.duties import Duty
from trust_node.attestation.verify import (
    DecryptionLedger,
    RefusedSumError,
    VerifiedSum,
    verify_sum,
)
from trust_node.context import NodeContext
from trust_node.egress import SqlRefusalLog
from trust_node.errors import NodeError, NodeSetupError
from trust_node.transport.client import TrustClient, TrustTransportError
from trust_node.transport.serde import PendingDecryption

logger = logging.getLogger(__name__)

DEFAULT_POLL_S = 1.0
#: Refusals that mean "decided without us": the request closed, or we attested it already.
_DECIDED = frozenset({"FAILED_PRECONDITION", "ALREADY_EXISTS"})


@dataclass(frozen=True)
class Attested:
    request_id: str
    subject_id: str
    kind: str
    round_id: int
    log_index: int


#: The refusal log's method for a decryption request this key holder refused.
REFUSED_METHOD = "decrypt_sum"


@dataclass
class KeyHolder:
    """What a key holder decrypts with and what it checks a request against.

    ``min_contributors`` is ``max(quorum, m)`` and ``members`` the members' identity keys
    of the member-signed trust policy the node holds (never the coordinator's list, which
    only leaves revoked members out at each pull: it cannot add a member to pad a sum).
    """

    identity: Identity
    key_for: Callable[[str], CkksKey]
    min_contributors: int
    ledger: DecryptionLedger
    refusals: SqlRefusalLog
    members: Mapping[str, bytes] = field(default_factory=dict)
    #: refuses (:class:`NodeSetupError`) a key id the policy no longer allows, given the
    #: nodes not revoked (a key sealed to a revoked holder is retired)
    key_allowed: Callable[[str, Collection[str]], object] | None = None
    #: requests refused by this process (logged once, not re-verified every poll)
    refused: set[str] = field(default_factory=set)
    #: key id -> this holder's key-group BFV key (key-group custody); None: holds none
    group_key_for: Callable[[str], BfvKey] | None = None


#: Round kinds whose group sums a holder attests as plain residues. Statistics sums are
#: not: their duty masks small cells, which a share (uniform noise) cannot show, so under
#: key groups the masking would have to move to recombination (not built yet).
GROUP_KINDS = frozenset({TRAINING_ROUND})


def key_for_request(
    request: PendingDecryption,
    key_for: Callable[[str], CkksKey],
    group_key_for: Callable[[str], BfvKey] | None,
) -> CkksKey | BfvKey:
    """The key to check and open ``request`` with: a group's BFV key for a group sum.

    Raises :class:`RefusedSumError` for a group sum of a kind not attested per group
    (:data:`GROUP_KINDS`) or when this node holds no key of the named group's key id.
    """
    if KEY_GROUP_PARAMETER not in request.parameters:
        return key_for(request.vector.key_id)
    if request.kind not in GROUP_KINDS:
        raise RefusedSumError(
            f"request {request.request_id}: {request.kind!r} sums are not attested per key group"
        )
    if group_key_for is None:
        raise RefusedSumError(f"request {request.request_id}: this node holds no key-group key")
    try:
        return group_key_for(request.vector.key_id)
    except (KeyGroupError, NodeError) as exc:
        raise RefusedSumError(f"request {request.request_id}: {exc}") from exc


def _sign(
    holder: KeyHolder,
    duty: Duty,
    key: CkksKey | BfvKey,
    request: PendingDecryption,
    verified: VerifiedSum,
) -> Envelope:
    if isinstance(key, BfvKey):
        return attest_group_sum(
            holder.identity,
            key,
            request.vector,
            subject_id=request.subject_id,
            round_id=request.round_id,
            submissions_digest=verified.submissions_digest,
        )
    return duty(holder.identity, key, request, verified.submissions_digest)


def attest_pending(
    client: TrustClient,
    holder: KeyHolder,
    duties: Mapping[str, Duty],
    *,
    subject_id: str | None = None,
) -> list[Attested]:
    """Attest every pending request (of ``subject_id``) this node has a duty for and
    verifies; refuse (and log) the others.
    """
    done = []
    requests = client.decryption_requests()
    active = {n.node_id for n in client.trust_info().nodes} if requests else set()
    members = {m: key for m, key in holder.members.items() if m in active}
    for request in requests:
        if subject_id is not None and request.subject_id != subject_id:
            continue
        duty = duties.get(request.kind)
        if duty is None:
            logger.warning("no duty for %r requests; %s left", request.kind, request.request_id)
            continue
        if request.request_id in holder.refused:
            continue
        attested = _answer(client, holder, members, duty, request, active)
        if attested is not None:
            done.append(attested)
    return done


def _answer(
    client: TrustClient,
    holder: KeyHolder,
    members: Mapping[str, bytes],
    duty: Duty,
    request: PendingDecryption,
    active: Collection[str],
) -> Attested | None:
    if KEY_GROUP_PARAMETER not in request.parameters and holder.key_allowed is not None:
        try:  # a CKKS key the trust policy in force no longer allows
            holder.key_allowed(request.vector.key_id, active)
        except NodeSetupError as exc:
            holder.refused.add(request.request_id)
            holder.refusals.record(ATTESTATION, REFUSED_METHOD, str(exc))
            logger.warning("refused to decrypt: %s", exc)
            return None
    try:
        key = key_for_request(request, holder.key_for, holder.group_key_for)
        verified = verify_sum(request, key, members, holder.min_contributors)
        holder.ledger.claim(request, verified)
    except RefusedSumError as exc:
        holder.refused.add(request.request_id)
        holder.refusals.record(ATTESTATION, REFUSED_METHOD, str(exc))
        logger.warning("refused to decrypt: %s", exc)
        return None
    envelope = _sign(holder, duty, key, request, verified)
    try:
        log_index, _ = client.submit_attestation(request.request_id, request.round_id, envelope)
    except TrustTransportError as exc:
        if exc.code not in _DECIDED:
            raise
        logger.info("request %s decided without this node: %s", request.request_id, exc)
        return None
    return Attested(
        request.request_id, request.subject_id, request.kind, request.round_id, log_index
    )


def attest_subject(
    client: TrustClient,
    holder: KeyHolder,
    duties: Mapping[str, Duty],
    *,
    subject_id: str,
    wait_s: float,
    poll_s: float = 0.5,
) -> Attested | None:
    """Wait at most ``wait_s`` for the request of ``subject_id`` and attest it."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        done = attest_pending(client, holder, duties, subject_id=subject_id)
        if done:
            return done[0]
        time.sleep(poll_s)
    return None


def watch(
    open_client: Callable[[], TrustClient],
    holder: KeyHolder,
    duties: Mapping[str, Duty],
    stop: threading.Event,
    *,
    poll_s: float = DEFAULT_POLL_S,
    on_attested: Callable[[Attested], None] | None = None,
) -> None:
    """Attest pending requests until ``stop`` is set.

    One channel serves every poll; any failure (the server unreachable, a request this
    node refuses) is logged and retried with a fresh channel: the duty outlives it.
    """
    client: TrustClient | None = None
    while not stop.is_set():
        try:
            client = client or open_client()
            for attested in attest_pending(client, holder, duties):
                if on_attested is not None:
                    on_attested(attested)
        except Exception:
            logger.exception("attestation round failed (retrying)")
            if client is not None:
                client.close()
                client = None
        stop.wait(poll_s)
    if client is not None:
        client.close()


def key_holder(context: NodeContext) -> KeyHolder:
    """This node as a key holder: its identity, secret keys, the trust policy's
    ``max(quorum, m)``, its decryption ledger and refusal log (all in its own home).
    """
    policy = context.state.trust_policy
    if policy is None:
        raise NodeSetupError(f"node {context.node_id!r} holds no trust policy: not enrolled")
    return KeyHolder(
        identity=context.identity,
        key_for=context.secret_key,
        min_contributors=policy.publication.min_contributors,
        ledger=DecryptionLedger(context.engine),
        refusals=context.refusals,
        group_key_for=context.group_secret_key,
        members=policy.member_keys(),
        key_allowed=lambda key_id, active: context.state.checked_release(
            context.state.layout.public_dir / f"{key_id}.json", active
        ),
    )
