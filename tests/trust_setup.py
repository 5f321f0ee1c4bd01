"""Build a real trust for tests: a coordinator home, N enrolled nodes, the trust server.

Uses the same code paths as the CLI (``gcdt-coordinator init`` through its typer app,
``trust_node.node_setup`` and ``coordinator.enrolment``), all state under ``tmp``. Each
node is handed out as its composition root (:class:`trust_node.context.NodeContext`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from coordinator.cli import app as coordinator_app
from coordinator.context import CoordinatorContext
from coordinator.enrolment import enrol_node
from coordinator.transport import TrustServer, start_server
from governance.identity import identity_fingerprint
from governance.pki import certificate_fingerprint, load_certificate
from governance.policy import PublicationThresholds, policy_to_toml
from governance.policy.files import signature_path
from governance.policy.trust_files import accept_trust_chain
from kernel.settings import Settings, load_settings
from trust_node.context import NodeContext
from trust_node.key_material import fetch_keys, run_key_ceremony
from trust_node.node_setup import init_node, install_enrolment
from trust_node.trust_policy import sign_trust_proposal


def settings_for(home: Path) -> Settings:
    return load_settings(home=home, database_url=f"sqlite:///{home / 'gcdt.sqlite'}")


def init_coordinator(home: Path) -> Settings:
    result = CliRunner().invoke(
        coordinator_app, ["init", "--home", str(home)], env={"GCDT_DATABASE_URL": ""}
    )
    assert result.exit_code == 0, result.output
    return settings_for(home)


def set_thresholds(coordinator: Settings, **thresholds: int) -> None:
    """Set other publication thresholds in the draft trust policy (before founding).

    E.g. a two-node federation needs ``m = 2``: key holders decrypt only sums of at least
    ``max(quorum, m)`` members.
    """
    context = CoordinatorContext(coordinator)
    policy = context.trust_policy
    publication = PublicationThresholds.model_validate(
        {**policy.publication.model_dump(), **thresholds}
    )
    context.layout.trust_draft.write_bytes(
        policy_to_toml(policy.model_copy(update={"publication": publication}))
    )


def enrolment_pins(context: CoordinatorContext) -> dict[str, str]:
    """The two fingerprints `gcdt-coordinator init` prints, as a node operator receives them."""
    return {
        "expect_ca_fingerprint": certificate_fingerprint(load_certificate(context.layout.ca_cert)),
        "expect_coordinator_fingerprint": identity_fingerprint(context.identity.public_key),
    }


def enrol(
    coordinator: Settings, node_home: Path, node_id: str, *, key_holder: bool = False
) -> NodeContext:
    """Init and enrol a node (``key_holder``: ignored here; the founding policy decides)."""
    node_settings = settings_for(node_home)
    init_node(node_settings, node_id, "IN")
    context = CoordinatorContext(coordinator)
    result = enrol_node(
        node_home / "enrolment" / "request.json",
        layout=context.layout,
        store=context.store,
        translog=context.translog,
        identity=context.identity,
        response_path=node_home / "enrolment" / "response.json",
    )
    install_enrolment(node_settings, result.response_path, **enrolment_pins(context))
    return NodeContext(node_settings)


def propose(coordinator: Settings, out: Path, *args: str) -> Path:
    """``gcdt-coordinator policy propose --out OUT ARGS``: the next version's draft."""
    result = CliRunner().invoke(
        coordinator_app,
        ["policy", "propose", "--home", str(coordinator.home_dir), "--out", str(out), *args],
        env={"GCDT_DATABASE_URL": coordinator.database_url},
    )
    assert result.exit_code == 0, result.output
    return out


def apply_policy(coordinator: Settings, proposal: Path, signatures: Sequence[Path]) -> Result:
    """``gcdt-coordinator policy apply PROPOSAL --signature ...`` (the result, not checked)."""
    args = ["policy", "apply", str(proposal), "--home", str(coordinator.home_dir), "--json"]
    for sig in signatures:
        args += ["--signature", str(sig)]
    return CliRunner().invoke(
        coordinator_app, args, env={"GCDT_DATABASE_URL": coordinator.database_url}
    )


def sign(node: NodeContext, proposal: Path) -> Path:
    """``node`` signs ``proposal`` as a member (its own checks first)."""
    out = proposal.with_name(f"{proposal.stem}.{node.node_id}.sig.json")
    out.write_text(json.dumps(sign_trust_proposal(node.state, proposal).to_json()))
    return out


def hand_out_policy(coordinator: Settings, node: NodeContext) -> None:
    """Give ``node`` the coordinator's member-signed chain (as enrolment or sync would)."""
    layout = CoordinatorContext(coordinator).layout
    accept_trust_chain(
        node.state.layout.trust_policy,
        layout.trust_policy.read_bytes(),
        signature_path(layout.trust_policy).read_bytes(),
    )


def found_trust(
    coordinator: Settings,
    nodes: Mapping[str, NodeContext],
    key_holders: Sequence[str],
    *,
    group: str = "g1",
) -> None:
    """Version 1 of the trust policy: every node a member, ``key_holders`` one key group,
    signed by every founder and put in force by the coordinator; each node takes it."""
    proposal = propose(
        coordinator,
        coordinator.home_dir / "founding.toml",
        *[f"--member={n}" for n in nodes],
        f"--key-group={group}={','.join(key_holders)}",
    )
    signatures = [sign(node, proposal) for node in nodes.values()]
    result = apply_policy(coordinator, proposal, signatures)
    assert result.exit_code == 0, result.output
    for node in nodes.values():
        hand_out_policy(coordinator, node)


@dataclass
class Trust:
    coordinator: Settings
    server: TrustServer
    nodes: dict[str, NodeContext] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"localhost:{self.server.port}"


@contextmanager
def running_trust(
    tmp: Path,
    node_ids: Sequence[str] = ("node-a", "node-b", "node-c"),
    key_holders: Sequence[str] = ("node-a", "node-b"),
    *,
    ceremony: bool = True,
    thresholds: Mapping[str, int] | None = None,
    **server_options: object,
) -> Iterator[Trust]:
    coordinator = init_coordinator(tmp / "coordinator")
    if thresholds:
        set_thresholds(coordinator, **thresholds)
    nodes = {node_id: enrol(coordinator, tmp / node_id, node_id) for node_id in node_ids}
    found_trust(coordinator, nodes, key_holders)
    nodes = {node_id: NodeContext(node.settings) for node_id, node in nodes.items()}
    server = start_server(coordinator, host="127.0.0.1", port=0, **server_options)  # type: ignore[arg-type]
    trust = Trust(coordinator, server, nodes)
    try:
        if ceremony:
            first = nodes[key_holders[0]]
            with first.client(trust.address) as client:
                run_key_ceremony(first.state, client)
            for node_id, node in nodes.items():
                with node.client(trust.address) as client:
                    fetch_keys(node.state, client)
                trust.nodes[node_id] = NodeContext(node.settings)
        yield trust
    finally:
        server.stop(grace=None)
