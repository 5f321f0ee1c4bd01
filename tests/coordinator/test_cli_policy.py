"""Trust-policy versions are signed by members, chained, and on the public record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordinator.cli import app
from coordinator.context import CoordinatorContext
from governance.policy import policy_to_toml
from governance.policy.trust_chain import next_version
from kernel.settings import Settings
from tests.trust_setup import apply_policy, enrol, found_trust, init_coordinator, sign
from trust_node.context import NodeContext

runner = CliRunner()
NODES = ("node-a", "node-b", "node-c")


def _policy_entries(coordinator: Settings) -> list[dict[str, object]]:
    log = CoordinatorContext(coordinator).translog
    return [dict(e.payload) for e in log.iter_entries() if e.kind == "policy_change"]


@pytest.fixture
def founded(tmp_path: Path) -> tuple[Settings, dict[str, NodeContext]]:
    coordinator = init_coordinator(tmp_path / "coord")
    assert _policy_entries(coordinator) == [], "a draft is not in force, so not logged"
    nodes = {n: enrol(coordinator, tmp_path / n, n) for n in NODES}
    found_trust(coordinator, nodes, ("node-a", "node-b"))
    return coordinator, {n: NodeContext(c.settings) for n, c in nodes.items()}


def test_founding_and_each_change_are_logged_with_who_signed(
    founded: tuple[Settings, dict[str, NodeContext]], tmp_path: Path
) -> None:
    coordinator, nodes = founded
    [first] = _policy_entries(coordinator)
    assert first["version"] == 1 and first["signed_by"] == list(NODES)
    assert first["key_groups"] == [{"group": "g1", "holders": ["node-a", "node-b"]}]
    assert first["signature_quorum"] == 2  # a majority of the founders by default
    current = CoordinatorContext(coordinator).trust_policy
    v2 = next_version(current, publication={**current.publication.model_dump(), "k": 5})
    proposal = tmp_path / "v2.toml"
    proposal.write_bytes(policy_to_toml(v2))
    applied = apply_policy(
        coordinator, proposal, [sign(nodes["node-a"], proposal), sign(nodes["node-c"], proposal)]
    )
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["version"] == 2
    entries = _policy_entries(coordinator)
    assert [e["version"] for e in entries] == [1, 2]
    assert entries[1]["thresholds"]["k"] == 5  # type: ignore[index]
    assert entries[1]["signed_by"] == ["node-a", "node-c"]
    home = str(coordinator.home_dir)
    shown = json.loads(runner.invoke(app, ["policy", "show", "--home", home, "--json"]).stdout)
    assert shown["publication"]["k"] == 5 and shown["version"] == 2


def test_apply_refuses_rollback_invalid_thresholds_and_too_few_members(
    founded: tuple[Settings, dict[str, NodeContext]], tmp_path: Path
) -> None:
    coordinator, nodes = founded
    current = CoordinatorContext(coordinator).trust_policy
    same = tmp_path / "same.toml"
    same.write_bytes(policy_to_toml(current))
    rollback = apply_policy(coordinator, same, [])
    assert rollback.exit_code == 1
    bad = tmp_path / "bad.toml"
    text = policy_to_toml(next_version(current)).decode()
    bad.write_text(text.replace("t = 2", "t = 1"))
    refused = apply_policy(coordinator, bad, [])
    assert refused.exit_code == 1 and "publication" in refused.output
    lone = tmp_path / "lone.toml"
    lone.write_bytes(policy_to_toml(next_version(current, signature_quorum=1)))
    alone = apply_policy(coordinator, lone, [sign(nodes["node-b"], lone)])
    assert alone.exit_code == 1 and "signed by 1 of the 2 members" in alone.output
    assert len(_policy_entries(coordinator)) == 1, "a refused change is not logged as in force"
    assert CoordinatorContext(coordinator).trust_policy.version == 1
