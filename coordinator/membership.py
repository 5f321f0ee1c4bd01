"""Who counts at the coordinator: only what the member-signed trust policy says.

The coordinator is the CA: enrolment gives a node a certificate, nothing more. Whether a
node counts as a member, a key holder or a signer is read from the trust policy in force,
which only a quorum of members can change (:mod:`governance.policy.trust_chain`). The
coordinator keeps that chain, serves it (``GetTrustInfo``, enrolment responses), logs
every version, and refuses a version its members did not sign as any node would.

``enrolled_nodes.key_holder`` mirrors the policy (rewritten whenever a version is put in
force) for the parts that read the store only (the aggregation pipeline, the portal); the
decisions facing nodes (ceremony upload, key packages, decryption requests) read the
policy itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coordinator.store import CoordinatorError, CoordinatorStore, NodeRecord
from governance.ckks import CkksKey
from governance.ckks.holders import open_release_under_policy
from governance.policy import parse_policy
from governance.policy.files import signature_path
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import (
    MemberSignature,
    TrustPolicyChain,
    parse_trust_toml,
    policy_sha256,
)
from governance.policy.trust_files import load_trust_chain, write_trust_chain
from governance.translog import LogEntry, TransparencyLog


def founded(path: Path) -> bool:
    """Whether the member-signed chain exists beside the policy at ``path``."""
    return signature_path(path).exists()


def current_policy(policy_path: Path, draft_path: Path) -> TrustPolicy:
    """The member-signed policy in force; before founding, the draft (which names no one)."""
    if founded(policy_path):
        return load_trust_chain(policy_path).verify()
    try:
        draft = parse_trust_toml(draft_path.read_text("utf-8"))
    except FileNotFoundError:
        raise CoordinatorError(
            f"no trust policy at {policy_path} and no draft at {draft_path}: "
            "run 'gcdt-coordinator init' first"
        ) from None
    if draft.founded:
        raise CoordinatorError(
            f"{draft_path} names members but carries no member signatures: a draft names "
            "no one; found the trust with 'gcdt-coordinator policy apply'"
        )
    return draft


def members(policy: TrustPolicy, store: CoordinatorStore) -> dict[str, NodeRecord]:
    """Active enrolled nodes the policy names, with the identity key it names."""
    named = {m.node_id: m for m in policy.members}
    return {
        n.node_id: n
        for n in store.nodes()
        if n.node_id in named
        and named[n.node_id].public_key == n.identity_public_key
        and named[n.node_id].transport_key == n.transport_public_key
    }


def key_holders(
    policy: TrustPolicy, store: CoordinatorStore, group: str | None = None
) -> dict[str, NodeRecord]:
    """The members that hold a key (in ``group``, or in any group), revoked ones left out."""
    wanted = policy.holders_of(group) if group is not None else policy.key_holders()
    active = members(policy, store)
    return {h: active[h] for h in wanted if h in active}


def public_key(store: CoordinatorStore, policy: TrustPolicy, key_id: str | None = None) -> CkksKey:
    """The public CKKS context (latest, or ``key_id``), if a holder of its group made it for
    the group's active holders (:func:`governance.ckks.holders.open_release_under_policy`);
    the loaded context refuses a secret key.
    """
    release = store.public_release(key_id)
    ceremony = store.node(release.ceremony_id)
    active = members(policy, store)
    return open_release_under_policy(release, policy, ceremony.identity_public_key, active)[0]


def install_version(
    policy_path: Path,
    draft_path: Path,
    store: CoordinatorStore,
    translog: TransparencyLog,
    proposal: Path,
    signatures: Sequence[MemberSignature],
) -> tuple[TrustPolicy, LogEntry]:
    """Put ``proposal`` in force if its members' signatures make it the next valid version.

    Version 1 (founding) needs every member it names, later versions a quorum of the
    version in force; the coordinator's own identity signs nothing here.
    """
    data = parse_trust_toml(proposal.read_text("utf-8"))
    if founded(policy_path):
        chain = load_trust_chain(policy_path).append(data, signatures)
    else:
        current_policy(policy_path, draft_path)  # a broken draft is reported, not replaced
        chain = TrustPolicyChain.found(data, signatures)
    policy = write_trust_chain(policy_path, chain)
    sync_key_holders(policy, store)
    return policy, log_version(translog, chain)


def sync_key_holders(policy: TrustPolicy, store: CoordinatorStore) -> None:
    """Make the store's key-holder flags what the policy in force says."""
    store.set_key_holders(set(key_holders(policy, store)))


def log_version(translog: TransparencyLog, chain: TrustPolicyChain) -> LogEntry:
    """A ``policy_change`` entry: the version, its digest, who signed, who counts."""
    policy = chain.latest
    return translog.append(
        "policy_change",
        {
            "policy": "trust",
            "version": policy.version,
            "sha256": policy_sha256(policy),
            "previous_sha256": policy.previous_sha256,
            "signed_by": sorted(chain.versions[-1].signatures),
            "members": [m.model_dump(mode="json") for m in policy.members],
            "key_groups": [g.model_dump(mode="json") for g in policy.key_groups],
            "signature_quorum": policy.signature_quorum,
            "thresholds": policy.publication.model_dump(mode="json"),
            "privacy_budget": _cap(policy),
        },
    )


def _cap(policy: TrustPolicy) -> dict[str, object]:
    """The per-node cap auditors check cards and benchmarks against (issue 14)."""
    unit, budget = policy.privacy_budget.unit_account()
    return {"unit": unit, "epsilon": budget.epsilon, "delta": budget.delta}


def draft_from_data(data: dict[str, object]) -> TrustPolicy:
    """Validate proposal data as a trust policy (for ``policy propose``)."""
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return policy
