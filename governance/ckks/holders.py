"""Key material checked against the member-signed trust policy, not against the coordinator.

The coordinator is the CA and relays key material, so it could enrol a key holder of its
own and have a ceremony sealed to it, or relay a key made by any node. Every party (the
coordinator on upload, each node before it uses a public key or opens its package)
therefore checks the ceremony against the policy in force:

- the node that ran the ceremony holds a key in the group the key is for;
- the recipients are exactly that group's holders that are still active (a revoked holder
  is out: the key it knew no longer verifies anywhere, which forces a new ceremony).

The release's signature covers the group and recipients without carrying them
(:class:`governance.ckks.ceremony.PublicContextRelease`): the verifier supplies the set it
expects, so "sealed to another set" and "signed by someone else" fail the same check.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from governance.ckks.ceremony import KeyPackage, PublicContextRelease, open_public_release
from governance.ckks.context import CkksKey
from governance.ckks.errors import KeyPackageSignatureError, NotPolicyHoldersError
from governance.policy.models import TrustPolicy


def expected_recipients(
    policy: TrustPolicy, group: str, active: Collection[str] | None = None
) -> tuple[str, ...]:
    """The holders of ``group`` a key must be sealed to (sorted), ``active`` ones only."""
    try:
        holders = policy.holders_of(group)
    except KeyError as exc:
        raise NotPolicyHoldersError(str(exc.args[0])) from None
    return tuple(sorted(h for h in holders if active is None or h in active))


def ceremony_groups(policy: TrustPolicy, ceremony_id: str) -> tuple[str, ...]:
    """The groups whose key ``ceremony_id`` may make; refused if it holds none."""
    groups = policy.groups_of(ceremony_id)
    if not groups:
        raise NotPolicyHoldersError(
            f"{ceremony_id!r} holds a key in no group of the trust policy (version "
            f"{policy.version}): its ceremony is refused"
        )
    return groups


def open_release_under_policy(
    release: PublicContextRelease,
    policy: TrustPolicy,
    ceremony_public_key: bytes,
    active: Collection[str] | None = None,
) -> tuple[CkksKey, PublicContextRelease]:
    """The public key, if a holder made it for its group's current active holders.

    ``ceremony_public_key`` must be the identity key the *policy* names for the ceremony
    node. Returns the key and the release with its group and recipients filled in.
    """
    member = policy.member(release.ceremony_id)
    if member is None or member.public_key != ceremony_public_key:
        raise NotPolicyHoldersError(
            f"public context {release.key_id} names ceremony {release.ceremony_id!r}, "
            "which is not a member of the trust policy with that identity key"
        )
    for group in ceremony_groups(policy, release.ceremony_id):
        bound = replace(release, group=group, recipients=expected_recipients(policy, group, active))
        try:
            return open_public_release(bound, ceremony_public_key=ceremony_public_key), bound
        except KeyPackageSignatureError:
            continue
    raise NotPolicyHoldersError(
        f"public context {release.key_id} by {release.ceremony_id!r} is not sealed to the "
        f"active holders of its group(s) {list(policy.groups_of(release.ceremony_id))} in "
        f"trust policy version {policy.version}: refused (a holder may have been revoked; "
        "a holder must run a new ceremony)"
    )


def check_package_against_policy(
    package: KeyPackage, policy: TrustPolicy, active: Collection[str] | None = None
) -> None:
    """Refuse a package not made by a holder of its group, or not sealed to exactly the
    group's active holders (call before opening it)."""
    if package.ceremony_id not in policy.holders_of_or_empty(package.group):
        raise NotPolicyHoldersError(
            f"key package {package.key_id} was made by {package.ceremony_id!r}, not a holder "
            f"of group {package.group!r} in trust policy version {policy.version}"
        )
    expected = expected_recipients(policy, package.group, active)
    if tuple(sorted(package.recipients)) != expected:
        raise NotPolicyHoldersError(
            f"key package {package.key_id} is sealed to {sorted(package.recipients)}, the "
            f"active holders of group {package.group!r} are {list(expected)}: refused"
        )
    member = policy.member(package.recipient_id)
    if member is None or member.transport_key != package.recipient_transport_key:
        raise NotPolicyHoldersError(
            f"key package {package.key_id} for {package.recipient_id!r} is sealed to a "
            "transport key the trust policy does not name for it"
        )
