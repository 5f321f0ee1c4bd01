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
    KeyHolder,
    PublicContextRelease,
    TransportKey,
    open_public_release,
    run_ceremony,
)
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
from kernel import paths
from kernel.settings import Settings
from kernel.wire.enrolment import REQUEST_FORMAT, RESPONSE_FORMAT, TRANSPORT_KEY_KIND
from trust_node.errors import NodeSetupError
from trust_node.transport.client import TrustClient


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
) -> dict[str, Any]:
    """Install the coordinator's response: certificate, trust root, coordinator key, policy.

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
    layout.policy_dir.mkdir(parents=True, exist_ok=True)
    layout.trust_policy.write_text(body["trust_policy_toml"])
    signature_path(layout.trust_policy).write_text(body["trust_policy_sig"])
    try:
        load_policy(layout.trust_policy, "trust", coordinator_key)
    except GovernanceError as exc:
        layout.trust_policy.unlink()
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
        "key_holder": bool(body.get("key_holder")),
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
        """The installed public CKKS context (latest), verified when it was installed."""
        files = sorted(self.layout.public_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        if not files:
            return None
        release, ceremony_key = _read_release(files[-1])
        return open_public_release(release, ceremony_public_key=ceremony_key)

    def custody(self, ceremony_public_key: bytes) -> KeyCustody:
        return KeyCustody(
            self.layout.keys_dir,
            node_id=self.node_id,
            transport_key=self.transport_key(),
            ceremony_public_key=ceremony_public_key,
        )


def load_node(settings: Settings) -> NodeState:
    """A node's trust state from its home, both policies' signatures checked.

    The node policy must be signed by the node's identity, the trust policy (once enrolled) by
    the coordinator key recorded at enrolment. A home without an identity, or with a policy
    that does not verify, is refused with :class:`NodeSetupError`.
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
            load_policy(
                layout.trust_policy,
                "trust",
                bytes.fromhex(coordinator["identity_public_key"]),
            )
            if coordinator
            else None
        )
    except GovernanceError as exc:
        raise NodeSetupError(str(exc)) from exc
    return NodeState(settings, layout, identity, node_policy, trust_policy, coordinator)


def _write_release(path: Path, release: PublicContextRelease, ceremony_key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "ceremony_id": release.ceremony_id,
                "ceremony_identity_key": ceremony_key.hex(),
                "key_id": release.key_id,
                "period": release.period,
                "params": release.params.to_dict(),
                "public_context": base64.b64encode(release.public_context).decode(),
                "signature": base64.b64encode(release.signature).decode(),
            }
        )
    )


def _read_release(path: Path) -> tuple[PublicContextRelease, bytes]:
    body = json.loads(path.read_text())
    return (
        PublicContextRelease(
            ceremony_id=body["ceremony_id"],
            key_id=body["key_id"],
            period=body["period"],
            params=CkksParameters.from_dict(body["params"]),
            public_context=base64.b64decode(body["public_context"]),
            signature=base64.b64decode(body["signature"]),
        ),
        bytes.fromhex(body["ceremony_identity_key"]),
    )


def run_key_ceremony(
    state: NodeState, client: TrustClient, *, period: str | None = None
) -> dict[str, Any]:
    """Run the CKKS ceremony as this node and upload packages + public context.

    Fetches the key holders and their transport keys from the coordinator (it vouches
    for them by enrolment; both are in the transparency log), seals one package to each.
    ``client`` is the node's (:meth:`trust_node.context.NodeContext.client`): the upload
    leaves through the egress guard.
    """
    period = period or state.node_policy.privacy_budget.accounting_period
    info = client.trust_info()
    holders = [KeyHolder(n.node_id, n.transport_public_key) for n in info.nodes if n.key_holder]
    if not holders:
        raise NodeSetupError("the coordinator lists no key holders")
    try:
        output = run_ceremony(state.identity, holders, period)
    except CkksError as exc:
        raise NodeSetupError(f"key ceremony failed: {exc}") from exc
    key_id_, log_index = client.upload_ceremony(output)
    return {
        "key_id": key_id_,
        "period": period,
        "key_holders": [h.node_id for h in holders],
        "log_index": log_index,
    }


def fetch_keys(state: NodeState, client: TrustClient) -> dict[str, Any]:
    """Download and install the public context and, for a key holder, its own key package.

    Material not signed by the enrolled ceremony node's identity key is refused.
    """
    material = client.key_material()
    info = client.trust_info()
    ceremony = next((n for n in info.nodes if n.node_id == material.release.ceremony_id), None)
    if ceremony is None or ceremony.identity_public_key != material.ceremony_identity_key:
        raise NodeSetupError(
            f"key material names ceremony {material.release.ceremony_id!r}, "
            "which is not an enrolled node with that identity key"
        )
    try:
        public = open_public_release(
            material.release, ceremony_public_key=ceremony.identity_public_key
        )
        secret = (
            state.custody(ceremony.identity_public_key).accept(material.package, replace=True)
            if material.package is not None
            else None
        )
    except CkksError as exc:
        raise NodeSetupError(f"key material refused: {exc}") from exc
    _write_release(
        paths.within(state.layout.public_dir, f"{public.key_id}.json"),
        material.release,
        ceremony.identity_public_key,
    )
    return {
        "key_id": public.key_id,
        "period": material.release.period,
        "key_holder": secret is not None,
        "ceremony_id": material.release.ceremony_id,
    }


def holder_key(state: NodeState, key_id_: str) -> CkksKey:
    """This key holder's secret CKKS key for ``key_id_`` (from custody)."""
    files = list(state.layout.public_dir.glob(f"{key_id_}.json"))
    if not files:
        raise NodeSetupError(f"no public context {key_id_} installed: run `gcdt-node fetch-keys`")
    _, ceremony_key = _read_release(files[0])
    try:
        return state.custody(ceremony_key).key_for_id(key_id_)
    except CkksError as exc:
        raise NodeSetupError(str(exc)) from exc
