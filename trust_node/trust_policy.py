"""A node's side of the member-signed trust policy: sign proposals, take new versions.

A node signs a proposal only as what it is: for version 1, a founding member named with
its own identity and transport keys; for a later version, a member of the version it holds,
and only a proposal that extends exactly that version. It takes a new version from the
coordinator only if the whole chain verifies from version 1 and extends the chain it
already holds (:func:`governance.policy.trust_files.accept_trust_chain`): a version signed
by the coordinator alone, or by too few members, is refused and the node keeps its own.
"""

from __future__ import annotations

from pathlib import Path

from governance.errors import GovernanceError
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import (
    MemberSignature,
    parse_trust_toml,
    policy_sha256,
    sign_trust_policy,
)
from governance.policy.trust_files import accept_trust_chain
from trust_node.errors import NodeSetupError
from trust_node.node_setup import NodeState
from trust_node.transport.client import TrustClient


def sign_trust_proposal(state: NodeState, proposal: Path) -> MemberSignature:
    """This node's signature on ``proposal``, after checking it is one it may sign."""
    try:
        policy = parse_trust_toml(proposal.read_text("utf-8"))
    except (OSError, GovernanceError) as exc:
        raise NodeSetupError(f"{proposal}: not a trust policy proposal: {exc}") from exc
    if policy.version == 1:
        _check_founding(state, policy)
    else:
        _check_successor(state, policy)
    return sign_trust_policy(policy, state.identity)


def _check_founding(state: NodeState, policy: TrustPolicy) -> None:
    if state.trust_policy is not None:
        raise NodeSetupError(
            f"this node already holds trust policy version {state.trust_policy.version}; "
            "it signs only the version after it"
        )
    me = policy.member(state.node_id)
    if me is None:
        raise NodeSetupError(f"the founding policy does not name {state.node_id!r} as a member")
    if me.public_key != state.identity.public_key:
        raise NodeSetupError(
            f"the founding policy names another identity key for {state.node_id!r}"
        )
    if me.transport_key != state.transport_key().public_bytes:
        raise NodeSetupError(
            f"the founding policy names another transport key for {state.node_id!r}"
        )


def _check_successor(state: NodeState, policy: TrustPolicy) -> None:
    current = state.trust_policy
    if current is None:
        raise NodeSetupError("this node holds no trust policy: it cannot sign a later version")
    if current.member(state.node_id) is None:
        raise NodeSetupError(f"{state.node_id!r} is not a member of version {current.version}")
    if policy.version != current.version + 1 or policy.previous_sha256 != policy_sha256(current):
        raise NodeSetupError(
            f"the proposal (version {policy.version}) does not follow the version this node "
            f"holds ({current.version}, sha256 {policy_sha256(current)})"
        )


def sync_trust_policy(
    state: NodeState, client: TrustClient, *, expect_sha256: str | None = None
) -> TrustPolicy:
    """Take the coordinator's trust policy if its chain is valid and extends this node's."""
    info = client.trust_info()
    if not info.trust_policy_sig:
        if state.trust_policy is not None:
            return state.trust_policy
        raise NodeSetupError("the trust is not founded yet: no member-signed trust policy")
    try:
        return accept_trust_chain(
            state.layout.trust_policy,
            info.trust_policy_toml,
            info.trust_policy_sig,
            expect_sha256=expect_sha256,
        )
    except GovernanceError as exc:
        raise NodeSetupError(f"trust policy from the coordinator refused: {exc}") from exc
