"""The member-signed trust policy on disk: ``trust.toml`` beside its chain (``.sig``).

Both parties keep the same two files: the TOML of the version in force (what operators
read) and the chain document (:mod:`governance.policy.trust_chain`) as its signature. A
reader accepts them only if the chain verifies from version 1 and its last version is
exactly the TOML beside it. Writing goes through one staged replace per file, chain first:
a reader that races a write sees a mismatch and refuses, never a policy in force that its
members did not sign.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from governance.errors import PolicyError, PolicySignatureError
from governance.policy.files import policy_to_toml, signature_path
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import TrustPolicyChain, parse_trust_toml, policy_sha256


def load_trust_chain(path: Path) -> TrustPolicyChain:
    """The verified chain whose last version is the policy at ``path``."""
    try:
        text = path.read_text("utf-8")
        chain_bytes = signature_path(path).read_bytes()
    except FileNotFoundError as exc:
        raise PolicySignatureError(
            f"no member-signed trust policy: {exc.filename} is missing", path=path
        ) from exc
    return check_pair(text.encode("utf-8"), chain_bytes, path=path)


def check_pair(toml: bytes, chain_bytes: bytes, *, path: Path | None = None) -> TrustPolicyChain:
    """Verify a chain and that ``toml`` is its version in force."""
    try:
        chain = TrustPolicyChain.from_bytes(chain_bytes)
        chain.verify()
        current = parse_trust_toml(toml.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyError(f"trust policy is not UTF-8: {exc}", path=path) from exc
    if policy_sha256(current) != policy_sha256(chain.latest):
        raise PolicySignatureError(
            f"the policy (version {current.version}) is not the chain's version in force "
            f"({chain.latest.version})",
            path=path,
        )
    return chain


def write_trust_chain(path: Path, chain: TrustPolicyChain) -> TrustPolicy:
    """Install ``chain`` (verified again) and its version in force at ``path``."""
    policy = chain.verify()
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in (
        (signature_path(path), chain.to_bytes()),
        (path, policy_to_toml(policy)),
    ):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    return policy


def accept_trust_chain(
    path: Path, toml: bytes, chain_bytes: bytes, *, expect_sha256: str | None = None
) -> TrustPolicy:
    """A node's one way to take a trust policy: verified, extending what it already holds.

    ``expect_sha256`` (a digest compared out of band) pins the first chain a node takes;
    after that, the chain it holds is its anchor: a new one must keep every version of it.
    """
    offered = check_pair(toml, chain_bytes, path=path)
    if expect_sha256 is not None and expect_sha256.lower() not in offered.digests():
        raise PolicySignatureError(
            f"the offered trust policy chain does not contain the expected version {expect_sha256}",
            path=path,
        )
    if path.exists():
        held = load_trust_chain(path)
        if not offered.extends(held):
            raise PolicySignatureError(
                f"the offered chain (version {offered.latest.version}) does not extend the "
                f"trust policy this node holds (version {held.latest.version}): refused",
                path=path,
            )
        if len(offered.versions) == len(held.versions):
            return held.latest
    return write_trust_chain(path, offered)
