"""The member-signed trust policy: a chain of versions, each signed by the members before it.

Why a chain: the trust policy says who counts (members, key holders, signers) and when a
number may be published, so whoever could change it alone could enrol a key holder of its
own or lower ``t``. No single party may, the coordinator included (it is also the CA):

- version 1 is valid only with the Ed25519 signature of **every** member it names (each
  founder agrees to the trust it joins, with the identity key it names);
- version ``n + 1`` is valid only with signatures of at least ``signature_quorum`` distinct
  members of version ``n`` (the rules in force decide how they change), and names version
  ``n``'s digest in ``previous_sha256``, so a version cannot be re-based on another history.

What is signed: the SHA-256 of the policy's RFC 8785 canonical JSON (``rfc8785``, the same
canonicalisation as the envelopes), so the TOML the operators read and diff may be laid out
any way and still verify; the signed statement also names the trust and the version.

On disk (``policies/trust.toml`` and ``policies/trust.toml.sig``) and on the wire
(``TrustInfo.trust_policy_toml`` / ``trust_policy_sig``) the "signature" is the whole
chain from version 1: anyone can check it from the founders on, and a node accepts a new
chain only if it extends the one it holds (no fork, no rollback).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785

from governance.errors import PolicyError, PolicySignatureError
from governance.identity import Identity, verify_signature
from governance.policy.files import parse_policy, policy_to_toml
from governance.policy.models import TrustPolicy

CHAIN_FORMAT = "gcdt.trust-policy.chain.v1"
SIGNATURE_FORMAT = "gcdt.trust-policy.signature.v1"
STATEMENT_TYPE = "gcdt.trust-policy.v1"


def canonical_bytes(policy: TrustPolicy) -> bytes:
    """RFC 8785 bytes of the policy (unset fields left out, as in its TOML)."""
    return bytes(rfc8785.dumps(policy.model_dump(mode="json", exclude_none=True)))


def policy_sha256(policy: TrustPolicy) -> str:
    """The digest members sign and the next version names."""
    return hashlib.sha256(canonical_bytes(policy)).hexdigest()


def statement(policy: TrustPolicy) -> bytes:
    """What a member signs: this trust, this version, this exact content."""
    return bytes(
        rfc8785.dumps(
            {
                "type": STATEMENT_TYPE,
                "trust_id": policy.trust_id,
                "version": policy.version,
                "policy_sha256": policy_sha256(policy),
            }
        )
    )


def parse_trust_toml(text: str) -> TrustPolicy:
    """A trust policy from TOML text (validated, not verified)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"trust policy is not TOML: {exc}") from exc
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return policy


@dataclass(frozen=True)
class MemberSignature:
    """One member's signature on one policy version (what a member hands the coordinator)."""

    member: str
    policy_sha256: str
    signature: bytes = field(repr=False)

    def to_json(self) -> dict[str, str]:
        return {
            "format": SIGNATURE_FORMAT,
            "member": self.member,
            "policy_sha256": self.policy_sha256,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, body: Any) -> MemberSignature:
        if not isinstance(body, dict) or body.get("format") != SIGNATURE_FORMAT:
            raise PolicySignatureError(f"not a {SIGNATURE_FORMAT} document")
        try:
            return cls(
                str(body["member"]),
                str(body["policy_sha256"]),
                base64.b64decode(body["signature"], validate=True),
            )
        except (KeyError, TypeError, binascii.Error) as exc:
            raise PolicySignatureError(f"member signature is malformed: {exc}") from exc


def sign_trust_policy(policy: TrustPolicy, identity: Identity) -> MemberSignature:
    """``identity``'s signature on ``policy`` (the caller decides whether it should sign)."""
    return MemberSignature(
        identity.party_id, policy_sha256(policy), identity.sign(statement(policy))
    )


def _signers(policy: TrustPolicy, previous: TrustPolicy | None) -> tuple[dict[str, bytes], int]:
    """Whose signatures count for ``policy``, and how many it needs."""
    if previous is None:
        return policy.member_keys(), len(policy.members)
    return previous.member_keys(), previous.signature_quorum


def check_version(
    policy: TrustPolicy, signatures: Mapping[str, bytes], previous: TrustPolicy | None
) -> None:
    """Refuse (:class:`PolicySignatureError`) unless ``policy`` is a valid next version."""
    where = f"trust policy version {policy.version}"
    if not policy.founded:
        raise PolicyError(f"{where} names no members: nothing could sign it")
    if previous is None:
        if policy.version != 1 or policy.previous_sha256 is not None:
            raise PolicyError(f"{where}: a chain starts at version 1 with no previous_sha256")
    else:
        if policy.trust_id != previous.trust_id:
            raise PolicyError(
                f"{where} is for trust {policy.trust_id!r}, not {previous.trust_id!r}"
            )
        if policy.version != previous.version + 1:
            raise PolicyError(f"{where} does not follow version {previous.version}")
        if policy.previous_sha256 != policy_sha256(previous):
            raise PolicyError(f"{where} does not name version {previous.version}'s digest")
    eligible, needed = _signers(policy, previous)
    message = statement(policy)
    strangers = sorted(set(signatures) - set(eligible))
    if strangers:
        who = "its founding members" if previous is None else f"version {previous.version}'s"
        raise PolicySignatureError(
            f"{where} carries signatures of {', '.join(strangers)}, not among {who} members"
        )
    bad = sorted(
        m for m, sig in signatures.items() if not verify_signature(eligible[m], sig, message)
    )
    if bad:
        raise PolicySignatureError(f"{where}: signature of {', '.join(bad)} does not verify")
    if len(signatures) < needed:
        missing = sorted(set(eligible) - set(signatures))
        rule = "every founding member" if previous is None else f"{needed} members"
        raise PolicySignatureError(
            f"{where} is signed by {len(signatures)} of the {rule} it needs "
            f"(missing: {', '.join(missing)})"
        )


@dataclass(frozen=True)
class SignedVersion:
    policy: TrustPolicy
    signatures: Mapping[str, bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "toml": policy_to_toml(self.policy).decode("utf-8"),
            "signatures": {
                m: base64.b64encode(s).decode("ascii") for m, s in sorted(self.signatures.items())
            },
        }


@dataclass(frozen=True)
class TrustPolicyChain:
    """Every version of the trust policy from the founding one, each with its signatures."""

    versions: tuple[SignedVersion, ...]

    @property
    def latest(self) -> TrustPolicy:
        return self.versions[-1].policy

    def digests(self) -> list[str]:
        return [policy_sha256(v.policy) for v in self.versions]

    def verify(self) -> TrustPolicy:
        """Check every link (see the module docstring); the version now in force."""
        if not self.versions:
            raise PolicyError("the trust policy chain is empty")
        previous: TrustPolicy | None = None
        for version in self.versions:
            check_version(version.policy, version.signatures, previous)
            previous = version.policy
        return self.latest

    def extends(self, older: TrustPolicyChain) -> bool:
        """Whether this chain holds ``older`` unchanged as its beginning."""
        mine = self.digests()
        return mine[: len(older.versions)] == older.digests()

    def append(
        self, policy: TrustPolicy, signatures: Sequence[MemberSignature]
    ) -> TrustPolicyChain:
        """This chain with ``policy`` as the next version, if its signatures make it valid."""
        return _chain_with(self.versions, policy, signatures)

    @classmethod
    def found(cls, policy: TrustPolicy, signatures: Sequence[MemberSignature]) -> TrustPolicyChain:
        """A new chain whose version 1 is ``policy``, signed by every founding member."""
        return _chain_with((), policy, signatures)

    def to_bytes(self) -> bytes:
        body = {"format": CHAIN_FORMAT, "versions": [v.to_json() for v in self.versions]}
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> TrustPolicyChain:
        """Parse (not verify: call :meth:`verify`) a chain document."""
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PolicySignatureError(f"trust policy chain is not JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("format") != CHAIN_FORMAT:
            raise PolicySignatureError(
                f"not a {CHAIN_FORMAT} document (a policy signed by one party is not accepted)"
            )
        versions: list[SignedVersion] = []
        try:
            for entry in body["versions"]:
                signatures = {
                    str(m): base64.b64decode(s, validate=True)
                    for m, s in dict(entry["signatures"]).items()
                }
                versions.append(SignedVersion(parse_trust_toml(str(entry["toml"])), signatures))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise PolicySignatureError(f"trust policy chain is malformed: {exc}") from exc
        return cls(tuple(versions))


def _chain_with(
    versions: tuple[SignedVersion, ...],
    policy: TrustPolicy,
    signatures: Sequence[MemberSignature],
) -> TrustPolicyChain:
    digest = policy_sha256(policy)
    by_member: dict[str, bytes] = {}
    for sig in signatures:
        if sig.policy_sha256 != digest:
            raise PolicySignatureError(
                f"{sig.member!r} signed another policy ({sig.policy_sha256}), not this "
                f"version {policy.version} ({digest})"
            )
        if sig.member in by_member:
            raise PolicySignatureError(f"{sig.member!r} signed version {policy.version} twice")
        by_member[sig.member] = sig.signature
    previous = versions[-1].policy if versions else None
    check_version(policy, by_member, previous)
    return TrustPolicyChain((*versions, SignedVersion(policy, by_member)))


def next_version(current: TrustPolicy, **changes: Any) -> TrustPolicy:
    """A proposal for the version after ``current``: ``changes`` applied, version + 1,
    naming ``current``'s digest. Members still have to sign it.
    """
    data = current.model_dump(mode="json", exclude_none=True)
    data.update(changes)
    data["version"] = current.version + 1
    data["previous_sha256"] = policy_sha256(current)
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return policy
