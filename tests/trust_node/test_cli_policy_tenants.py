"""``gcdt-node policy`` and ``gcdt-node tenant`` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from trust_node.cli import app
from trust_node.store import SqlRecordRepository
from trust_node.tenants import AuthenticationError, TenantRegistry

runner = CliRunner()


def _init(home: Path) -> None:
    result = runner.invoke(
        app, ["init", "--home", str(home), "--node-id", "node-x", "--jurisdiction", "IN"]
    )
    assert result.exit_code == 0, result.output


def test_policy_show_and_apply_a_new_version(tmp_path: Path) -> None:
    home = tmp_path / "node"
    _init(home)
    shown = json.loads(runner.invoke(app, ["policy", "show", "--home", str(home), "--json"]).stdout)
    assert shown["version"] == 1 and shown["node_id"] == "node-x"
    edited = tmp_path / "node.toml"
    text = (home / "policies" / "node.toml").read_text()
    edited.write_text(
        text.replace("version = 1", "version = 2").replace("epsilon = 8.0", "epsilon = 4.0")
    )
    applied = runner.invoke(app, ["policy", "apply", str(edited), "--home", str(home), "--json"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout) == {
        "policy": str(home / "policies" / "node.toml"),
        "version": 2,
        "previous_version": 1,
    }
    now = json.loads(runner.invoke(app, ["policy", "show", "--home", str(home), "--json"]).stdout)
    assert now["privacy_budget"]["epsilon"] == 4.0


def test_policy_apply_refuses_rollback_and_bad_fields(tmp_path: Path) -> None:
    home = tmp_path / "node"
    _init(home)
    current = (home / "policies" / "node.toml").read_text()
    same = tmp_path / "same.toml"
    same.write_text(current)
    rollback = runner.invoke(app, ["policy", "apply", str(same), "--home", str(home)])
    assert rollback.exit_code == 1 and "version must increase" in rollback.output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        current.replace("version = 1", "version = 2").replace("epsilon = 8.0", "epsilon = -1.0")
    )
    refused = runner.invoke(app, ["policy", "apply", str(bad), "--home", str(home)])
    assert refused.exit_code == 1 and "privacy_budget.epsilon" in refused.output
    assert (home / "policies" / "node.toml").read_text() == current, "nothing installed"


def test_tampered_policy_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "node"
    _init(home)
    path = home / "policies" / "node.toml"
    path.write_text(path.read_text().replace("epsilon = 8.0", "epsilon = 80.0"))
    shown = runner.invoke(app, ["policy", "show", "--home", str(home)])
    assert shown.exit_code == 1 and "signature" in shown.output


def test_tenant_add_rotate_revoke_list(tmp_path: Path) -> None:
    home = tmp_path / "node"
    args = ["--home", str(home)]
    added = json.loads(runner.invoke(app, ["tenant", "add", "sme-1", *args, "--json"]).stdout)
    registry = TenantRegistry(
        SqlRecordRepository.from_url(f"sqlite:///{home / 'gcdt.sqlite'}").engine
    )
    assert registry.authenticate(added["token"]).tenant_id == "sme-1"
    rotated = json.loads(runner.invoke(app, ["tenant", "rotate", "sme-1", *args, "--json"]).stdout)
    assert rotated["token"] != added["token"]
    assert registry.authenticate(rotated["token"]).tenant_id == "sme-1"
    assert _refused(registry, added["token"]), "the rotated-out token no longer works"
    revoked = runner.invoke(app, ["tenant", "revoke", "sme-1", *args])
    assert revoked.exit_code == 0, revoked.output
    assert _refused(registry, rotated["token"])
    listing = json.loads(runner.invoke(app, ["tenant", "list", *args, "--json"]).stdout)
    assert [(t["tenant_id"], t["active"]) for t in listing] == [("sme-1", False)]
    duplicate = runner.invoke(app, ["tenant", "add", "sme-1", *args])
    assert duplicate.exit_code == 1


def _refused(registry: TenantRegistry, token: str) -> bool:
    try:
        registry.authenticate(token)
    except AuthenticationError:
        return True
    return False
