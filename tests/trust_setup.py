"""Build a real trust for tests: a coordinator home, N enrolled nodes, the trust server.

Uses the same code paths as the CLI (``gcdt-coordinator init`` through its typer app,
``trust_node.node_setup`` and ``coordinator.enrolment``), all state under ``tmp``. Each
node is handed out as its composition root (:class:`trust_node.context.NodeContext`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from coordinator.cli import app as coordinator_app
from coordinator.context import CoordinatorContext
from coordinator.enrolment import enrol_node
from coordinator.transport import TrustServer, start_server
from governance.identity import identity_fingerprint
from governance.pki import certificate_fingerprint, load_certificate
from governance.policy import PublicationThresholds, write_policy
from kernel.settings import Settings, load_settings
from trust_node.context import NodeContext
from trust_node.node_setup import fetch_keys, init_node, install_enrolment, run_key_ceremony


def settings_for(home: Path) -> Settings:
    return load_settings(home=home, database_url=f"sqlite:///{home / 'gcdt.sqlite'}")


def init_coordinator(home: Path) -> Settings:
    result = CliRunner().invoke(
        coordinator_app, ["init", "--home", str(home)], env={"GCDT_DATABASE_URL": ""}
    )
    assert result.exit_code == 0, result.output
    return settings_for(home)


def set_thresholds(coordinator: Settings, **thresholds: int) -> None:
    """Re-sign the trust policy with other publication thresholds (before nodes enrol).

    E.g. a two-node federation needs ``m = 2``: key holders decrypt only sums of at least
    ``max(quorum, m)`` members.
    """
    context = CoordinatorContext(coordinator)
    policy = context.trust_policy
    publication = PublicationThresholds.model_validate(
        {**policy.publication.model_dump(), **thresholds}
    )
    write_policy(
        policy.model_copy(update={"publication": publication}),
        context.layout.trust_policy,
        context.identity,
    )


def enrolment_pins(context: CoordinatorContext) -> dict[str, str]:
    """The two fingerprints `gcdt-coordinator init` prints, as a node operator receives them."""
    return {
        "expect_ca_fingerprint": certificate_fingerprint(load_certificate(context.layout.ca_cert)),
        "expect_coordinator_fingerprint": identity_fingerprint(context.identity.public_key),
    }


def enrol(coordinator: Settings, node_home: Path, node_id: str, *, key_holder: bool) -> NodeContext:
    node_settings = settings_for(node_home)
    init_node(node_settings, node_id, "IN")
    context = CoordinatorContext(coordinator)
    result = enrol_node(
        node_home / "enrolment" / "request.json",
        layout=context.layout,
        store=context.store,
        translog=context.translog,
        identity=context.identity,
        key_holder=key_holder,
        response_path=node_home / "enrolment" / "response.json",
    )
    install_enrolment(node_settings, result.response_path, **enrolment_pins(context))
    return NodeContext(node_settings)


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
    nodes = {
        node_id: enrol(coordinator, tmp / node_id, node_id, key_holder=node_id in key_holders)
        for node_id in node_ids
    }
    server = start_server(coordinator, host="127.0.0.1", port=0, **server_options)  # type: ignore[arg-type]
    trust = Trust(coordinator, server, nodes)
    try:
        if ceremony:
            first = nodes[node_ids[0]]
            with first.client(trust.address) as client:
                run_key_ceremony(first.state, client)
            for node_id, node in nodes.items():
                with node.client(trust.address) as client:
                    fetch_keys(node.state, client)
                trust.nodes[node_id] = NodeContext(node.settings)
        yield trust
    finally:
        server.stop(grace=None)
