"""Setting a node up to join a trust: keys, enrolment, the key ceremony, fetching keys.

Files under ``GCDT_HOME`` (beside the store): ``identity/`` (Ed25519), ``tls/key.pem``
(+ ``cert.pem``, ``ca.crt`` after enrolment), ``transport/`` (X25519 key for the
ceremony's sealed packages), ``policies/node.toml`` (signed by the node identity, the
operator's key) and ``policies/trust.toml`` (signed by the coordinator),
``enrolment/request.json``, ``coordinator.json`` (coordinator id, identity key,
address), ``keys/<period>/<key id>.keypkg`` (custody) and ``keys/public/<key id>.json``
(the verified public context release). See ``coordinator/enrolment.py`` for the flow.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from governance.ckks import (
    CkksError,
    CkksKey,
    CkksParameters,
    KeyCustody,
    PublicContextRelease,
    TransportKey,
    open_public_release,
)
from governance.ckks.holders import expected_recipients
from governance.envelope import key_id, seal
from governance.errors import GovernanceError
from governance.identity import Identity, identity_fingerprint
from governance.pki import (
    HomeLayout,
    certificate_fingerprint,
    generate_tls_key,
    load_private_key,
    make_enrolment_request,
    node_bindings,
    save_private_key,
)
from governance.policy import (
    NodePolicy,
    TrustPolicy,
    default_node_policy,
    load_policy,
    write_policy,
)
from governance.policy.files import signature_path
from governance.policy.trust_files import accept_trust_chain, load_trust_chain
from kernel.settings import Settings
from kernel.wire.enrolment import REQUEST_FORMAT, RESPONSE_FORMAT, TRANSPORT_KEY_KIND
from trust_node.errors import NodeSetupError


@dataclass(frozen=True)
class NodeLayout(HomeLayout):
    @property
    def transport_dir(self) -> Path:
        return self.home / "transport"

    @property
    def enrolment_request(self) -> Path:
        return self.home / "enrolment" / "request.json"

    @property
    def coordinator_file(self) -> Path:
        return self.home / "coordinator.json"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def public_dir(self) -> Path:
        return self.keys_dir / "public"


def init_node(settings: Settings, node_id: str, jurisdiction: str) -> dict[str, Any]:
    """Create the node's keys and signed node policy; write the enrolment request file."""
    layout = NodeLayout(settings.ensure_home())
    if (layout.identity_dir / "identity.key").exists() or layout.tls_key.exists():
        raise NodeSetupError(f"{layout.home} already holds node keys; refusing to overwrite")
    try:
        identity = Identity.generate(node_id)
        tls_key = generate_tls_key()
        request = make_enrolment_request(identity, tls_key, jurisdiction)
    except GovernanceError as exc:
        raise NodeSetupError(str(exc)) from exc
    identity.save(layout.identity_dir)
    save_private_key(layout.tls_key, tls_key)
    layout.transport_dir.mkdir(parents=True, exist_ok=True)
    transport = TransportKey.generate()
    transport.save(layout.transport_dir)
    write_policy(default_node_policy(node_id, jurisdiction), layout.node_policy, identity)
    transport_env = seal(
        identity,
        TRANSPORT_KEY_KIND,
        None,
        {"node_id": node_id, "transport_public_key": transport.public_bytes.hex()},
    )
    layout.enrolment_request.parent.mkdir(parents=True, exist_ok=True)
    layout.enrolment_request.write_text(
        json.dumps(
            {
                "format": REQUEST_FORMAT,
                "enrolment": request.to_json(),
                "transport_key": transport_env.to_json(),
            },
            indent=2,
        )
        + "\n"
    )
    return {
        "node_id": node_id,
        "jurisdiction": jurisdiction,
        "identity_key_id": key_id(identity.public_key),
        "identity_public_key": identity.public_key.hex(),
        "enrolment_request": str(layout.enrolment_request),
        "node_policy": str(layout.node_policy),
    }


def install_enrolment(
    settings: Settings,
    response_path: Path,
    *,
    expect_ca_fingerprint: str | None,
    expect_coordinator_fingerprint: str | None,
    address: str | None = None,
    expect_policy_sha256: str | None = None,
) -> dict[str, Any]:
    """Install the coordinator's response: certificate, trust root, coordinator key and,
    once the trust is founded, the member-signed trust policy (its chain verified).

    The response file travels over any channel, so whoever can change it could hand the node
    a trust root and a coordinator key of their own (and then read everything the node sends
    "to the coordinator"). Both are pinned by fingerprints the coordinator's operator printed
    at ``gcdt-coordinator init`` and handed over out of band; without both pins, or with a
    mismatch, nothing is installed.
    """
    pins = _pins(expect_ca_fingerprint, expect_coordinator_fingerprint)
    layout = NodeLayout(settings.home_dir)
    identity = Identity.load(layout.identity_dir)
    try:
        body = json.loads(response_path.read_text())
    except (OSError, ValueError) as exc:
        raise NodeSetupError(f"{response_path}: not a readable response: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != RESPONSE_FORMAT:
        raise NodeSetupError(f"{response_path}: not a {RESPONSE_FORMAT} file")
    if body.get("node_id") != identity.party_id:
        raise NodeSetupError(f"response is for {body.get('node_id')!r}, not {identity.party_id!r}")
    cert = x509.load_pem_x509_certificate(body["certificate_pem"].encode("ascii"))
    ca = x509.load_pem_x509_certificate(body["ca_certificate_pem"].encode("ascii"))
    ca_fp = certificate_fingerprint(ca)
    coordinator_key = _hex_key(body.get("coordinator_identity_key"))
    _check_pin("trust root", pins[0], ca_fp)
    _check_pin("coordinator identity key", pins[1], identity_fingerprint(coordinator_key))
    try:
        cert.verify_directly_issued_by(ca)
        bound = node_bindings(cert)
    except (ValueError, TypeError, GovernanceError) as exc:
        raise NodeSetupError(f"certificate does not verify against the trust root: {exc}") from exc
    own_tls = load_private_key(layout.tls_key).public_key()
    if bound.node_id != identity.party_id or bound.identity_public_key != identity.public_key:
        raise NodeSetupError("the certificate binds another node id or identity key")
    if cert.public_key() != own_tls:
        raise NodeSetupError("the certificate is not for this node's TLS key")
    if body.get("trust_policy_sig"):
        try:
            accept_trust_chain(
                layout.trust_policy,
                str(body["trust_policy_toml"]).encode("utf-8"),
                str(body["trust_policy_sig"]).encode("utf-8"),
                expect_sha256=expect_policy_sha256,
            )
        except GovernanceError as exc:
            raise NodeSetupError(f"trust policy refused: {exc}") from exc
    layout.tls_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    layout.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    coordinator = {
        "coordinator_id": body["coordinator_id"],
        "identity_public_key": coordinator_key.hex(),
        "address": address or body.get("coordinator_address"),
    }
    layout.coordinator_file.write_text(json.dumps(coordinator, indent=2) + "\n")
    return {
        "node_id": identity.party_id,
        "trust_root_fingerprint_sha256": ca_fp,
        "coordinator_identity_fingerprint_sha256": identity_fingerprint(coordinator_key),
        "certificate": str(layout.tls_cert),
        "coordinator": coordinator,
        "trust_policy": bool(body.get("trust_policy_sig")),
    }


def _pins(ca: str | None, coordinator: str | None) -> tuple[str, str]:
    """Both out-of-band pins, normalised; a missing one refuses enrolment."""
    ca_pin, coordinator_pin = _normalise(ca or ""), _normalise(coordinator or "")
    missing = [
        flag
        for flag, pin in (
            ("--expect-ca-fingerprint", ca_pin),
            ("--expect-coordinator-fingerprint", coordinator_pin),
        )
        if not pin
    ]
    if missing:
        raise NodeSetupError(
            f"enrolment needs {' and '.join(missing)}: the SHA-256 fingerprints "
            "`gcdt-coordinator init` printed, handed over out of band; without them the "
            "node would trust whichever root and coordinator key the response file names"
        )
    return ca_pin, coordinator_pin


def _normalise(fingerprint: str) -> str:
    return fingerprint.strip().lower().replace(":", "")


def _check_pin(what: str, expected: str, got: str) -> None:
    if expected != got:
        raise NodeSetupError(
            f"{what} fingerprint mismatch, enrolment refused: expected {expected}, got {got}"
        )


def _hex_key(value: object) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise NodeSetupError(f"the response's coordinator identity key is not hex: {exc}") from exc


@dataclass(frozen=True)
class NodeState:
    """A node's loaded trust state: who it is, what it allows, whom it talks to."""

    settings: Settings
    layout: NodeLayout
    identity: Identity
    node_policy: NodePolicy
    trust_policy: TrustPolicy | None
    coordinator: dict[str, Any]

    @property
    def node_id(self) -> str:
        return self.identity.party_id

    def transport_key(self) -> TransportKey:
        return TransportKey.load(self.layout.transport_dir)

    def public_key(self) -> CkksKey | None:
        """The installed public CKKS context (latest), checked against the trust policy.

        ``gcdt-node fetch-keys`` installs it only if a holder of its group made it for the
        group's active holders; here it is checked again against the policy now in force
        (so a key whose group changed is never used).
        """
        files = sorted(self.layout.public_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        if not files:
            return None
        return self.checked_release(files[-1])

    def checked_release(self, path: Path, active: Collection[str] | None = None) -> CkksKey:
        """The public context in ``path``, if the trust policy in force still allows it:
        its ceremony node a holder of its group with the identity key the policy names, its
        recipients among that group's holders (with ``active``, the nodes not revoked:
        exactly the group's active holders), the signature over all of it valid.
        """
        try:
            release, ceremony_key = read_release(path)
        except FileNotFoundError:
            raise NodeSetupError(
                f"no public context {path.stem} installed: run `gcdt-node fetch-keys`"
            ) from None
        policy = self.trust_policy
        if policy is None:
            raise NodeSetupError("this node holds no member-signed trust policy")
        member = policy.member(release.ceremony_id)
        holders = policy.holders_of_or_empty(release.group)
        if (
            member is None
            or member.public_key != ceremony_key
            or release.ceremony_id not in holders
            or not set(release.recipients) <= set(holders)
        ):
            raise NodeSetupError(
                f"public context {release.key_id} no longer matches the trust policy in force "
                f"(version {policy.version}): run `gcdt-node fetch-keys`"
            )
        if active is not None and release.recipients != expected_recipients(
            policy, release.group, active
        ):
            raise NodeSetupError(
                f"key {release.key_id} was sealed to {list(release.recipients)}, not to the "
                f"active holders of group {release.group!r}: a holder was revoked, the key is "
                "retired"
            )
        try:
            return open_public_release(release, ceremony_public_key=ceremony_key)
        except CkksError as exc:
            raise NodeSetupError(f"public context {release.key_id} refused: {exc}") from exc

    def custody(self, ceremony_public_key: bytes) -> KeyCustody:
        return KeyCustody(
            self.layout.keys_dir,
            node_id=self.node_id,
            transport_key=self.transport_key(),
            ceremony_public_key=ceremony_public_key,
        )


def load_node(settings: Settings) -> NodeState:
    """A node's trust state from its home, both policies' signatures checked.

    The node policy must be signed by the node's identity; the trust policy, once the node
    holds one, must verify as a member-signed chain (:mod:`governance.policy.trust_chain`).
    A home without an identity, or with a policy that does not verify, is refused with
    :class:`NodeSetupError`.
    """
    layout = NodeLayout(settings.home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
    except (OSError, ValueError) as exc:
        raise NodeSetupError(f"no node identity in {layout.home}: run `gcdt-node init`") from exc
    try:
        node_policy = load_policy(layout.node_policy, "node", identity.public_key)
        coordinator = (
            json.loads(layout.coordinator_file.read_text())
            if layout.coordinator_file.exists()
            else {}
        )
        trust_policy = (
            load_trust_chain(layout.trust_policy).verify()
            if signature_path(layout.trust_policy).exists()
            else None
        )
    except GovernanceError as exc:
        raise NodeSetupError(str(exc)) from exc
    return NodeState(settings, layout, identity, node_policy, trust_policy, coordinator)


def write_release(path: Path, release: PublicContextRelease, ceremony_key: bytes) -> None:
    """Keep a verified release with the group and recipients it was verified for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "ceremony_id": release.ceremony_id,
                "ceremony_identity_key": ceremony_key.hex(),
                "key_id": release.key_id,
                "period": release.period,
                "params": release.params.to_dict(),
                "group": release.group,
                "recipients": list(release.recipients),
                "public_context": base64.b64encode(release.public_context).decode(),
                "signature": base64.b64encode(release.signature).decode(),
            }
        )
    )


def read_release(path: Path) -> tuple[PublicContextRelease, bytes]:
    """A kept release and its ceremony node's identity key (see :func:`write_release`)."""
    body = json.loads(path.read_text())
    return (
        PublicContextRelease(
            ceremony_id=body["ceremony_id"],
            key_id=body["key_id"],
            period=body["period"],
            params=CkksParameters.from_dict(body["params"]),
            public_context=base64.b64decode(body["public_context"]),
            signature=base64.b64decode(body["signature"]),
            group=str(body.get("group", "")),
            recipients=tuple(str(r) for r in body.get("recipients", ())),
        ),
        bytes.fromhex(body["ceremony_identity_key"]),
    )


def holder_key(state: NodeState, key_id_: str) -> CkksKey:
    """This key holder's secret CKKS key for ``key_id_`` (from custody), only while the
    trust policy in force still allows that key (:meth:`NodeState.checked_release`)."""
    files = list(state.layout.public_dir.glob(f"{key_id_}.json"))
    if not files:
        raise NodeSetupError(f"no public context {key_id_} installed: run `gcdt-node fetch-keys`")
    state.checked_release(files[0])
    _, ceremony_key = read_release(files[0])
    try:
        return state.custody(ceremony_key).key_for_id(key_id_)
    except CkksError as exc:
        raise NodeSetupError(str(exc)) from exc
