"""Enrolling a node: file-based, operator-mediated, before any TLS exists.

A node cannot speak mutual TLS before it has a certificate, so enrolment travels as
files the operators exchange (mail, USB, a portal — any channel):

1. ``gcdt-node init`` writes ``enrolment-request.json``: the signed enrolment request
   (:func:`governance.pki.make_enrolment_request`: CSR + node id + jurisdiction +
   Ed25519 identity key, self-signed as proof of possession) and the node's X25519
   transport key, signed by the same identity.
2. The coordinator operator compares the identity key id printed by the node operator
   **out of band** (phone, letter) with the one :func:`enrol_node` prints, then runs
   ``gcdt-coordinator enrol REQUEST``: the trust root issues the certificate, the node
   is registered, the enrolment is appended to the transparency log and a response
   bundle is written.
3. ``gcdt-node enrol RESPONSE`` installs certificate, trust root certificate,
   coordinator identity key and, once the trust is founded, the member-signed trust
   policy. The node operator compares the trust-root fingerprint with the one the
   coordinator published out of band.

A certificate makes a node able to talk, not count: it becomes a member, a key holder or
a signer only when the member-signed trust policy names it (``coordinator.membership``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.membership import current_policy, sync_key_holders
from coordinator.store import CoordinatorStore, NodeRecord, NodeStatus
from coordinator.store.errors import InvalidRequestError
from governance.ckks.transport import load_transport_public_key
from governance.envelope import Envelope, key_id, open_envelope
from governance.errors import GovernanceError
from governance.identity import Identity
from governance.pki import (
    DEFAULT_LEAF_DAYS,
    HomeLayout,
    TrustRoot,
    certificate_fingerprint,
    certificate_pem,
    read_enrolment_request,
)
from governance.policy.files import signature_path
from governance.translog import TransparencyLog
from kernel.wire.enrolment import REQUEST_FORMAT, RESPONSE_FORMAT, TRANSPORT_KEY_KIND

#: How long an enrolment request file stays acceptable: it travels between operators.
REQUEST_MAX_AGE = dt.timedelta(days=30)


@dataclass(frozen=True)
class EnrolmentResult:
    node: NodeRecord
    response_path: Path
    certificate_fingerprint: str
    identity_key_id: str
    log_index: int


def read_request_file(path: Path) -> tuple[Any, bytes]:
    """Verify a request file: the enrolment request and the signed transport key."""
    try:
        body = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"{path}: not a readable JSON enrolment request: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != REQUEST_FORMAT:
        raise InvalidRequestError(f"{path}: not a {REQUEST_FORMAT} file")
    try:
        request = read_enrolment_request(
            Envelope.from_json(body["enrolment"]), max_age=REQUEST_MAX_AGE
        )
        transport = Envelope.from_json(body["transport_key"])
        payload = open_envelope(
            transport,
            request.identity_public_key,
            nonce_store=None,
            max_age=REQUEST_MAX_AGE,
            expected_kind=TRANSPORT_KEY_KIND,
            expected_signer_id=request.node_id,
        )
    except (KeyError, GovernanceError) as exc:
        raise InvalidRequestError(f"{path}: enrolment request refused: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("node_id") != request.node_id:
        raise InvalidRequestError(f"{path}: transport key is not bound to {request.node_id!r}")
    try:
        transport_key = bytes.fromhex(str(payload["transport_public_key"]))
        load_transport_public_key(transport_key, owner=request.node_id)
    except (KeyError, ValueError, GovernanceError) as exc:
        raise InvalidRequestError(f"{path}: transport key is malformed: {exc}") from exc
    return request, transport_key


def enrol_node(
    request_path: Path,
    *,
    layout: HomeLayout,
    store: CoordinatorStore,
    translog: TransparencyLog,
    identity: Identity,
    response_path: Path,
    days: int = DEFAULT_LEAF_DAYS,
    coordinator_address: str | None = None,
) -> EnrolmentResult:
    """Issue, register, log, and write the response bundle for one approved request."""
    request, transport_key = read_request_file(request_path)
    if store.find_node(request.node_id) is not None:
        raise InvalidRequestError(f"node {request.node_id!r} is already enrolled")
    root = TrustRoot.load(layout.pki_dir)
    cert = root.enrol(request, days)
    node = store.register_node(
        node_id=request.node_id,
        jurisdiction=request.jurisdiction,
        identity_public_key=request.identity_public_key,
        transport_public_key=transport_key,
        cert_serial=cert.serial_number,
        key_holder=False,
    )
    fingerprint = certificate_fingerprint(cert)
    entry = translog.append(
        "enrolment",
        {
            "node_id": node.node_id,
            "jurisdiction": node.jurisdiction,
            "identity_public_key": node.identity_public_key.hex(),
            "transport_public_key": transport_key.hex(),
            "certificate_serial": f"{cert.serial_number:x}",
            "certificate_sha256": fingerprint,
        },
    )
    response = {
        "format": RESPONSE_FORMAT,
        "node_id": node.node_id,
        "certificate_pem": certificate_pem(cert).decode("ascii"),
        "ca_certificate_pem": certificate_pem(root.certificate).decode("ascii"),
        "coordinator_id": identity.party_id,
        "coordinator_identity_key": identity.public_key.hex(),
        "trust_policy_toml": _read_or_empty(layout.trust_policy),
        "trust_policy_sig": _read_or_empty(signature_path(layout.trust_policy)),
        "coordinator_address": coordinator_address,
        "log_index": entry.index,
    }
    response_path.parent.mkdir(parents=True, exist_ok=True)
    response_path.write_text(json.dumps(response, indent=2) + "\n")
    return EnrolmentResult(
        node, response_path, fingerprint, key_id(request.identity_public_key), entry.index
    )


def _read_or_empty(path: Path) -> str:
    """The file's text; empty before the trust is founded (no member-signed policy yet)."""
    return path.read_text("utf-8") if path.exists() else ""


def revoke_node(
    node_id: str, *, layout: HomeLayout, store: CoordinatorStore, translog: TransparencyLog
) -> int:
    """Put the node's certificate on the CRL, mark it revoked, log it; returns log index.

    The key of every group it held is retired with it: the key's recipient set no longer
    matches the group's active holders, so the coordinator and every node refuse it
    (:func:`governance.ckks.holders.expected_recipients`) until a remaining holder runs a
    new ceremony. The entry names those groups.
    """
    node = store.node(node_id)
    policy = current_policy(layout.trust_policy, layout.trust_draft)
    TrustRoot.load(layout.pki_dir).revoke(node.cert_serial)
    store.set_status(node_id, NodeStatus.REVOKED)
    if policy.founded:
        sync_key_holders(policy, store)
    return translog.append(
        "revocation",
        {
            "node_id": node_id,
            "certificate_serial": f"{node.cert_serial:x}",
            "key_groups_to_rotate": list(policy.groups_of(node_id)),
        },
    ).index
