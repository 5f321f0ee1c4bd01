"""The CKKS key ceremony: one secret context per period, sealed to each key holder.

The ceremony (a party with its own Ed25519 identity) creates the secret context, seals
its bytes to every key-holding node with HPKE (RFC 9180 base mode: DHKEM(X25519,
HKDF-SHA256), HKDF-SHA256, AES-256-GCM, from ``cryptography``; each seal uses a fresh
ephemeral X25519 key) and signs each sealed package. The HPKE ``info`` binds the key
id, period, recipient and parameters, so a package cannot be re-addressed; the Ed25519
signature covers the same fields plus the SHA-256 of the sealed bytes, so a node can
tell an altered or foreign package before it opens anything. The coordinator gets the
public context only, in a signed :class:`PublicContextRelease`.

After the ceremony the secret context exists only inside the sealed packages (Python
cannot scrub memory; run the ceremony in a short-lived process).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke

from governance.ckks.context import (
    CkksKey,
    key_id_of_public_bytes,
    load_public_context,
    load_secret_context,
    new_secret_context,
    public_context_bytes,
    secret_context_bytes,
)
from governance.ckks.errors import (
    CkksParameterError,
    KeyPackageDecryptionError,
    KeyPackageError,
    KeyPackageSignatureError,
    MalformedKeyPackageError,
    NotAddressedToNodeError,
    UnsignedKeyPackageError,
)
from governance.ckks.params import DEFAULT_PARAMETERS, CkksParameters
from governance.ckks.transport import TransportKey, load_transport_public_key
from governance.identity import Identity, verify_signature
from kernel import paths

PACKAGE_TYPE = "gcdt.ckks.key-package.v1"
RELEASE_TYPE = "gcdt.ckks.public-context.v1"
HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
# Periods and node ids become file names in custody: keep them to a safe alphabet.
#: Longest period or node id custody turns into a file name.
NAME_MAX = 64


def check_name(what: str, value: str) -> str:
    """Refuse (:class:`KeyPackageError`) a period or node id that is not a
    :func:`kernel.paths.identifier` of at most :data:`NAME_MAX` characters: custody turns
    both into file names.
    """
    try:
        paths.identifier(value, what)
    except paths.UnsafePathError as exc:
        raise KeyPackageError(str(exc)) from None
    if len(value) > NAME_MAX:
        raise KeyPackageError(f"{what} is longer than {NAME_MAX} characters")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise MalformedKeyPackageError(f"{what} is not valid base64") from exc


@dataclass(frozen=True)
class KeyHolder:
    node_id: str
    transport_public_key: bytes


@dataclass(frozen=True)
class KeyPackage:
    """A secret CKKS context sealed to one key holder and signed by the ceremony."""

    ceremony_id: str
    key_id: str
    period: str
    recipient_id: str
    recipient_transport_key: bytes
    params: CkksParameters
    issued_at: str
    sealed: bytes = field(repr=False)
    signature: bytes | None = field(default=None, repr=False)
    #: The key group of the trust policy this key is for, and every holder it was sealed
    #: to (sorted): a holder checks both against the policy before opening its package.
    group: str = ""
    recipients: tuple[str, ...] = ()

    def binding(self) -> dict[str, Any]:
        """What the seal is bound to (HPKE info): everything but the sealed bytes."""
        return {
            "type": PACKAGE_TYPE,
            "ceremony_id": self.ceremony_id,
            "key_id": self.key_id,
            "period": self.period,
            "group": self.group,
            "recipients": list(self.recipients),
            "recipient_id": self.recipient_id,
            "recipient_transport_key": self.recipient_transport_key.hex(),
            "params": self.params.to_dict(),
            "issued_at": self.issued_at,
        }

    def hpke_info(self) -> bytes:
        return bytes(rfc8785.dumps(self.binding()))

    def signed_bytes(self) -> bytes:
        """Canonical (RFC 8785) bytes the ceremony signs."""
        body = self.binding()
        body["sealed_sha256"] = hashlib.sha256(self.sealed).hexdigest()
        return bytes(rfc8785.dumps(body))

    def to_bytes(self) -> bytes:
        body = self.binding()
        body["sealed"] = _b64(self.sealed)
        body["signature"] = None if self.signature is None else _b64(self.signature)
        return json.dumps(body, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyPackage:
        try:
            body = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedKeyPackageError(f"key package is not JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("type") != PACKAGE_TYPE:
            raise MalformedKeyPackageError(f"not a key package of type {PACKAGE_TYPE}")
        try:
            signature = body["signature"]
            return cls(
                ceremony_id=str(body["ceremony_id"]),
                key_id=str(body["key_id"]),
                period=str(body["period"]),
                recipient_id=str(body["recipient_id"]),
                recipient_transport_key=bytes.fromhex(body["recipient_transport_key"]),
                params=CkksParameters.from_dict(body["params"]),
                issued_at=str(body["issued_at"]),
                sealed=_unb64(body["sealed"], "sealed"),
                signature=None if signature is None else _unb64(signature, "signature"),
                group=str(body["group"]),
                recipients=tuple(str(r) for r in body["recipients"]),
            )
        except (KeyError, TypeError, ValueError, CkksParameterError) as exc:
            raise MalformedKeyPackageError(
                f"key package field missing or malformed: {exc}"
            ) from exc


@dataclass(frozen=True)
class PublicContextRelease:
    """The public context for the coordinator, signed by the ceremony.

    The signature also covers the key group and its recipients (sorted), which do not
    travel with the release: each verifier puts in the ones *it* expects from the trust
    policy (:func:`governance.ckks.holders.open_release_under_policy`), so a release sealed
    to any other set, or after the set changed (a holder revoked), does not verify.
    """

    ceremony_id: str
    key_id: str
    period: str
    params: CkksParameters
    public_context: bytes = field(repr=False)
    signature: bytes = field(repr=False, default=b"")
    group: str = ""
    recipients: tuple[str, ...] = ()

    def signed_bytes(self) -> bytes:
        return bytes(
            rfc8785.dumps(
                {
                    "type": RELEASE_TYPE,
                    "ceremony_id": self.ceremony_id,
                    "key_id": self.key_id,
                    "period": self.period,
                    "group": self.group,
                    "recipients": list(self.recipients),
                    "params": self.params.to_dict(),
                    "public_context_sha256": hashlib.sha256(self.public_context).hexdigest(),
                }
            )
        )


@dataclass(frozen=True)
class CeremonyOutput:
    ceremony_id: str
    ceremony_public_key: bytes
    period: str
    key_id: str
    params: CkksParameters
    public_release: PublicContextRelease
    packages: dict[str, KeyPackage]

    @property
    def public_context(self) -> bytes:
        return self.public_release.public_context


def run_ceremony(
    ceremony_identity: Identity,
    key_holders: Sequence[KeyHolder | tuple[str, bytes]],
    period: str,
    *,
    group: str = "",
    params: CkksParameters = DEFAULT_PARAMETERS,
    clock: Callable[[], datetime] | None = None,
) -> CeremonyOutput:
    """Create this period's CKKS key for key group ``group`` and seal it to every holder.

    The caller takes ``key_holders`` from the member-signed trust policy (never from the
    coordinator); the package and the release bind ``group`` and the recipient set.
    """
    check_name("period", period)
    holders = [h if isinstance(h, KeyHolder) else KeyHolder(h[0], h[1]) for h in key_holders]
    if not holders:
        raise KeyPackageError("a ceremony needs at least one key holder")
    seen: set[str] = set()
    for holder in holders:
        check_name("key holder node id", holder.node_id)
        if holder.node_id in seen:
            raise KeyPackageError(f"key holder {holder.node_id!r} listed twice")
        seen.add(holder.node_id)
        load_transport_public_key(holder.transport_public_key, owner=holder.node_id)

    recipients = tuple(sorted(seen))
    issued_at = (clock or (lambda: datetime.now(UTC)))().isoformat()
    ctx = new_secret_context(params)
    public = public_context_bytes(ctx)
    key_id = key_id_of_public_bytes(public)
    secret = secret_context_bytes(ctx, i_understand_this_exports_the_secret_key=True)
    packages: dict[str, KeyPackage] = {}
    for holder in holders:
        unsealed = KeyPackage(
            ceremony_id=ceremony_identity.party_id,
            key_id=key_id,
            period=period,
            recipient_id=holder.node_id,
            recipient_transport_key=holder.transport_public_key,
            params=params,
            issued_at=issued_at,
            sealed=b"",
            group=group,
            recipients=recipients,
        )
        sealed = HPKE_SUITE.encrypt(
            secret,
            load_transport_public_key(holder.transport_public_key),
            info=unsealed.hpke_info(),
        )
        package = replace(unsealed, sealed=sealed)
        packages[holder.node_id] = replace(
            package, signature=ceremony_identity.sign(package.signed_bytes())
        )
    del secret, ctx
    release = PublicContextRelease(
        ceremony_identity.party_id,
        key_id,
        period,
        params,
        public,
        group=group,
        recipients=recipients,
    )
    release = replace(release, signature=ceremony_identity.sign(release.signed_bytes()))
    return CeremonyOutput(
        ceremony_identity.party_id,
        ceremony_identity.public_key,
        period,
        key_id,
        params,
        release,
        packages,
    )


def verify_key_package(package: KeyPackage, *, ceremony_public_key: bytes) -> None:
    """Refuse an unsigned package, or one the trusted ceremony key did not sign as it is."""
    if not package.signature:
        raise UnsignedKeyPackageError(
            f"key package {package.key_id} for {package.recipient_id!r} (period "
            f"{package.period}) carries no signature"
        )
    if not verify_signature(ceremony_public_key, package.signature, package.signed_bytes()):
        raise KeyPackageSignatureError(
            f"key package {package.key_id} for {package.recipient_id!r} (period "
            f"{package.period}) is not signed by the trusted ceremony key, or was altered"
        )


def open_key_package(
    package: KeyPackage,
    *,
    node_id: str,
    transport_key: TransportKey,
    ceremony_public_key: bytes,
) -> CkksKey:
    """Verify, check the addressee, unseal and load this node's secret context."""
    verify_key_package(package, ceremony_public_key=ceremony_public_key)
    if package.recipient_id != node_id:
        raise NotAddressedToNodeError(
            f"key package is addressed to {package.recipient_id!r}, not to {node_id!r}"
        )
    if package.recipient_transport_key != transport_key.public_bytes:
        raise NotAddressedToNodeError(
            f"key package for {node_id!r} is sealed to another transport key"
        )
    try:
        secret = HPKE_SUITE.decrypt(
            package.sealed, transport_key.private_key, info=package.hpke_info()
        )
    except (InvalidTag, ValueError) as exc:
        raise KeyPackageDecryptionError(
            f"key package {package.key_id} does not open with {node_id!r}'s transport key"
        ) from exc
    return load_secret_context(
        secret, expected_key_id=package.key_id, params=package.params, period=package.period
    )


def open_public_release(release: PublicContextRelease, *, ceremony_public_key: bytes) -> CkksKey:
    """The coordinator's side: verify the ceremony's signature, load the public context."""
    if not release.signature:
        raise UnsignedKeyPackageError(f"public context {release.key_id} carries no signature")
    if not verify_signature(ceremony_public_key, release.signature, release.signed_bytes()):
        raise KeyPackageSignatureError(
            f"public context {release.key_id} (period {release.period}) is not signed by "
            "the trusted ceremony key, or was altered"
        )
    return load_public_context(
        release.public_context,
        expected_key_id=release.key_id,
        params=release.params,
        period=release.period,
    )
