"""The key ceremony of one key group: a BFV key sealed to exactly that group's holders.

It runs once per group (:func:`run_group_ceremony`), like the CKKS ceremony
(``governance.ckks.ceremony``: HPKE RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM, a fresh ephemeral key per seal; Ed25519 over the canonical
binding plus the SHA-256 of the sealed bytes), with the group's name bound into both the
HPKE ``info`` and the signature, so a package of group A cannot be presented as B's. It
refuses to seal to any set other than the group's holders as the trust policy names them
(``governance.keygroups.groups``), and a holder refuses a package for a group it does not
hold in that policy (:func:`open_group_package`).

Who may run a group's ceremony and how its signer is pinned are the policy slice's
(member-signed policy); this module takes the ceremony's public key as given.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidTag

from governance.ckks.ceremony import HPKE_SUITE, check_name
from governance.ckks.errors import (
    KeyPackageDecryptionError,
    KeyPackageError,
    KeyPackageSignatureError,
    MalformedKeyPackageError,
    NotAddressedToNodeError,
    UnsignedKeyPackageError,
)
from governance.ckks.transport import TransportKey, load_transport_public_key
from governance.identity import Identity, verify_signature
from governance.keygroups.errors import BfvParameterError, GroupMismatchError
from governance.keygroups.groups import KeyGroup
from governance.keygroups.keys import BfvKey, load_group_key
from governance.keygroups.params import DEFAULT_BFV, BfvParameters

PACKAGE_TYPE = "gcdt.keygroup.key-package.v1"
RELEASE_TYPE = "gcdt.keygroup.public-key.v1"


@dataclass(frozen=True)
class GroupKeyPackage:
    """A group's BFV secret context sealed to one of its holders, signed by the ceremony."""

    ceremony_id: str
    group: str
    key_id: str
    period: str
    recipient_id: str
    recipient_transport_key: bytes
    params: BfvParameters
    issued_at: str
    sealed: bytes = field(repr=False)
    signature: bytes | None = field(default=None, repr=False)

    def binding(self) -> dict[str, Any]:
        return {
            "type": PACKAGE_TYPE,
            "ceremony_id": self.ceremony_id,
            "group": self.group,
            "key_id": self.key_id,
            "period": self.period,
            "recipient_id": self.recipient_id,
            "recipient_transport_key": self.recipient_transport_key.hex(),
            "params": self.params.to_dict(),
            "issued_at": self.issued_at,
        }

    def hpke_info(self) -> bytes:
        return bytes(rfc8785.dumps(self.binding()))

    def signed_bytes(self) -> bytes:
        body = self.binding()
        body["sealed_sha256"] = hashlib.sha256(self.sealed).hexdigest()
        return bytes(rfc8785.dumps(body))

    def to_bytes(self) -> bytes:
        """JSON: the binding, the sealed bytes and the signature in base64 (for custody and
        the wire; the signature is checked on opening, never on parsing)."""
        body = self.binding()
        body["sealed"] = base64.b64encode(self.sealed).decode("ascii")
        body["signature"] = (
            None if self.signature is None else base64.b64encode(self.signature).decode("ascii")
        )
        return json.dumps(body, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> GroupKeyPackage:
        body = _json_of(data, PACKAGE_TYPE)
        try:
            signature = body["signature"]
            return cls(
                ceremony_id=str(body["ceremony_id"]),
                group=str(body["group"]),
                key_id=str(body["key_id"]),
                period=str(body["period"]),
                recipient_id=str(body["recipient_id"]),
                recipient_transport_key=bytes.fromhex(body["recipient_transport_key"]),
                params=BfvParameters.from_dict(body["params"]),
                issued_at=str(body["issued_at"]),
                sealed=base64.b64decode(body["sealed"], validate=True),
                signature=None if signature is None else base64.b64decode(signature, validate=True),
            )
        except (KeyError, TypeError, ValueError, BfvParameterError) as exc:
            raise MalformedKeyPackageError(f"group key package field malformed: {exc}") from exc


def _json_of(data: bytes, kind: str) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedKeyPackageError(f"not JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("type") != kind:
        raise MalformedKeyPackageError(f"not a {kind}")
    return body


@dataclass(frozen=True)
class GroupPublicKey:
    """A group's public BFV context for contributors and the coordinator, signed."""

    ceremony_id: str
    group: str
    key_id: str
    period: str
    params: BfvParameters
    public_context: bytes = field(repr=False)
    signature: bytes = field(repr=False, default=b"")

    def signed_bytes(self) -> bytes:
        return bytes(
            rfc8785.dumps(
                {
                    "type": RELEASE_TYPE,
                    "ceremony_id": self.ceremony_id,
                    "group": self.group,
                    "key_id": self.key_id,
                    "period": self.period,
                    "params": self.params.to_dict(),
                    "public_context_sha256": hashlib.sha256(self.public_context).hexdigest(),
                }
            )
        )

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "type": RELEASE_TYPE,
                "ceremony_id": self.ceremony_id,
                "group": self.group,
                "key_id": self.key_id,
                "period": self.period,
                "params": self.params.to_dict(),
                "public_context": base64.b64encode(self.public_context).decode("ascii"),
                "signature": base64.b64encode(self.signature).decode("ascii"),
            },
            sort_keys=True,
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> GroupPublicKey:
        body = _json_of(data, RELEASE_TYPE)
        try:
            return cls(
                ceremony_id=str(body["ceremony_id"]),
                group=str(body["group"]),
                key_id=str(body["key_id"]),
                period=str(body["period"]),
                params=BfvParameters.from_dict(body["params"]),
                public_context=base64.b64decode(body["public_context"], validate=True),
                signature=base64.b64decode(body["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError, BfvParameterError) as exc:
            raise MalformedKeyPackageError(f"group public key field malformed: {exc}") from exc


@dataclass(frozen=True)
class GroupCeremonyOutput:
    group: str
    key_id: str
    public_key: GroupPublicKey
    packages: dict[str, GroupKeyPackage]


def run_group_ceremony(
    ceremony_identity: Identity,
    group: KeyGroup,
    transport_keys: Mapping[str, bytes],
    period: str,
    *,
    params: BfvParameters = DEFAULT_BFV,
) -> GroupCeremonyOutput:
    """Create ``group``'s key for ``period`` and seal it to each of its holders.

    ``transport_keys`` must hold exactly the group's holders (node id -> X25519 key).
    """
    check_name("period", period)
    if set(transport_keys) != set(group.holders):
        raise KeyPackageError(
            f"group {group.group!r}'s key is sealed to its holders {sorted(group.holders)} "
            f"only, got transport keys for {sorted(transport_keys)}"
        )
    issued_at = datetime.now(UTC).isoformat()
    key = BfvKey.create(group.group, params, period)
    secret = key.secret_bytes(i_understand_this_exports_the_secret_key=True)
    packages: dict[str, GroupKeyPackage] = {}
    for holder in group.holders:
        raw = transport_keys[holder]
        unsealed = GroupKeyPackage(
            ceremony_identity.party_id,
            group.group,
            key.key_id,
            period,
            holder,
            raw,
            params,
            issued_at,
            b"",
        )
        sealed = HPKE_SUITE.encrypt(
            secret, load_transport_public_key(raw, owner=holder), info=unsealed.hpke_info()
        )
        package = replace(unsealed, sealed=sealed)
        packages[holder] = replace(
            package, signature=ceremony_identity.sign(package.signed_bytes())
        )
    del secret
    release = GroupPublicKey(
        ceremony_identity.party_id, group.group, key.key_id, period, params, key.public_bytes()
    )
    release = replace(release, signature=ceremony_identity.sign(release.signed_bytes()))
    return GroupCeremonyOutput(group.group, key.key_id, release, packages)


def open_group_package(
    package: GroupKeyPackage,
    *,
    node_id: str,
    group: KeyGroup,
    transport_key: TransportKey,
    ceremony_public_key: bytes,
) -> BfvKey:
    """Verify, check group and addressee against the policy's ``group``, unseal, load."""
    if not package.signature:
        raise UnsignedKeyPackageError(f"group key package {package.key_id} carries no signature")
    if not verify_signature(ceremony_public_key, package.signature, package.signed_bytes()):
        raise KeyPackageSignatureError(
            f"group key package {package.key_id} ({package.group!r}) is not signed by the "
            "trusted ceremony key, or was altered"
        )
    if package.group != group.group or node_id not in group.holders:
        raise GroupMismatchError(
            f"package for group {package.group!r}; {node_id!r} holds "
            f"{'no key' if node_id not in group.holders else repr(group.group)} in the policy"
        )
    if (
        package.recipient_id != node_id
        or package.recipient_transport_key != transport_key.public_bytes
    ):
        raise NotAddressedToNodeError(
            f"group key package is addressed to {package.recipient_id!r}, not to {node_id!r}"
        )
    try:
        secret = HPKE_SUITE.decrypt(
            package.sealed, transport_key.private_key, info=package.hpke_info()
        )
    except (InvalidTag, ValueError) as exc:
        raise KeyPackageDecryptionError(
            f"group key package {package.key_id} does not open with {node_id!r}'s transport key"
        ) from exc
    return load_group_key(
        secret,
        group=package.group,
        expected_key_id=package.key_id,
        params=package.params,
        period=package.period,
        secret=True,
    )


def open_group_public_key(release: GroupPublicKey, *, ceremony_public_key: bytes) -> BfvKey:
    """A contributor's or the coordinator's side: verify the signature, load public-only."""
    if not release.signature or not verify_signature(
        ceremony_public_key, release.signature, release.signed_bytes()
    ):
        raise KeyPackageSignatureError(
            f"public key of group {release.group!r} ({release.key_id}) is not signed by the "
            "trusted ceremony key, or was altered"
        )
    return load_group_key(
        release.public_context,
        group=release.group,
        expected_key_id=release.key_id,
        params=release.params,
        period=release.period,
        secret=False,
    )
