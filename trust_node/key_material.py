"""The key ceremony and fetching keys, both decided by the member-signed trust policy.

The coordinator relays key material and lists the enrolled nodes, but it decides nothing
here: a node runs a ceremony only for a group the policy makes it a holder of, seals the
key to that group's holders with the transport keys the *policy* names, and takes a public
key or opens a package only if a holder of its group made it for exactly the group's
active holders (:mod:`governance.ckks.holders`). The coordinator's node list serves only to
leave revoked holders out (it can leave a holder out, never add one).
"""

from __future__ import annotations

from typing import Any

from governance.ckks import CkksError, KeyHolder, run_ceremony
from governance.ckks.holders import (
    check_package_against_policy,
    expected_recipients,
    open_release_under_policy,
)
from governance.policy.models import TrustPolicy
from kernel import paths
from trust_node.errors import NodeSetupError
from trust_node.node_setup import NodeState, write_release
from trust_node.transport.client import TrustClient
from trust_node.trust_policy import sync_trust_policy


def _active(client: TrustClient) -> set[str]:
    """Nodes the coordinator lists as enrolled and not revoked."""
    return {n.node_id for n in client.trust_info().nodes}


def _group_for(policy: TrustPolicy, node_id: str, group: str | None) -> str:
    groups = policy.groups_of(node_id)
    if not groups:
        raise NodeSetupError(
            f"{node_id!r} holds a key in no group of the trust policy (version "
            f"{policy.version}): only a group's holders run its ceremony"
        )
    if group is None:
        if len(groups) > 1:
            raise NodeSetupError(f"{node_id!r} holds keys in {list(groups)}: name one with --group")
        return groups[0]
    if group not in groups:
        raise NodeSetupError(f"{node_id!r} is not a holder of key group {group!r}")
    return group


def run_key_ceremony(
    state: NodeState, client: TrustClient, *, period: str | None = None, group: str | None = None
) -> dict[str, Any]:
    """Run the CKKS ceremony for this node's key group and upload packages + public context.

    The recipients are the group's holders in the member-signed policy (transport keys as
    the policy names them), minus those the coordinator no longer lists (revoked).
    ``client`` is the node's (:meth:`trust_node.context.NodeContext.client`): the upload
    leaves through the egress guard.
    """
    policy = sync_trust_policy(state, client)
    period = period or state.node_policy.privacy_budget.accounting_period
    chosen = _group_for(policy, state.node_id, group)
    recipients = expected_recipients(policy, chosen, _active(client))
    holders = []
    for node_id in recipients:
        member = policy.member(node_id)
        assert member is not None  # the policy validates holders are members
        holders.append(KeyHolder(node_id, member.transport_key))
    try:
        output = run_ceremony(state.identity, holders, period, group=chosen)
    except CkksError as exc:
        raise NodeSetupError(f"key ceremony failed: {exc}") from exc
    key_id_, log_index = client.upload_ceremony(output)
    return {
        "key_id": key_id_,
        "period": period,
        "key_group": chosen,
        "key_holders": list(recipients),
        "policy_version": policy.version,
        "log_index": log_index,
    }


def fetch_keys(state: NodeState, client: TrustClient) -> dict[str, Any]:
    """Take the policy in force, then the public context and (holders) this node's package.

    Material is refused unless a holder of its group, with the identity key the policy
    names, made it for exactly the group's active holders.
    """
    policy = sync_trust_policy(state, client)
    material = client.key_material()
    member = policy.member(material.release.ceremony_id)
    if member is None or member.public_key != material.ceremony_identity_key:
        raise NodeSetupError(
            f"key material names ceremony {material.release.ceremony_id!r}, which is not a "
            "member of the trust policy with that identity key"
        )
    active = _active(client)
    try:
        public, bound = open_release_under_policy(
            material.release, policy, member.public_key, active
        )
        secret = None
        if material.package is None and state.node_id in bound.recipients:
            raise NodeSetupError(f"no key package of key {bound.key_id} for this holder")
        if material.package is not None:
            check_package_against_policy(material.package, policy, active)
            if material.package.group != bound.group or material.package.key_id != bound.key_id:
                raise NodeSetupError("the key package is for another key than the public context")
            secret = state.custody(member.public_key).accept(material.package, replace=True)
    except CkksError as exc:
        raise NodeSetupError(f"key material refused: {exc}") from exc
    write_release(
        paths.within(state.layout.public_dir, f"{public.key_id}.json"), bound, member.public_key
    )
    return {
        "key_id": public.key_id,
        "period": material.release.period,
        "key_group": bound.group,
        "key_holder": secret is not None,
        "ceremony_id": material.release.ceremony_id,
        "policy_version": policy.version,
    }
