"""``gcdt-node policy show | apply``: read and change the node's signed policy.

A policy change is an edit of the TOML followed by ``apply``, which validates it, refuses a
version that does not increase (no silent rollback), signs it with the node's identity key
and installs it atomically beside its detached signature. Everything that reads the policy
(egress guard, budgets, consent) then loads only the signed file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from governance.errors import PolicyError
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import NodePolicy, load_policy, parse_policy
from governance.policy.install import install_policy
from kernel.cli import HomeOpt, JsonOpt, settings
from trust_node.cli_common import run
from trust_node.errors import NodeSetupError
from trust_node.node_setup import load_node
from trust_node.privacy import check_trust_caps

policy_app = typer.Typer(help="Show or change this node's signed policy.", no_args_is_help=True)


def _current(home: Path | None) -> tuple[HomeLayout, Identity, dict[str, object], int]:
    layout = HomeLayout(settings(home).home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
        policy = load_policy(layout.node_policy, "node", identity.public_key)
    except FileNotFoundError:
        raise NodeSetupError(f"no node here ({layout.home}): run 'gcdt-node init' first") from None
    return layout, identity, policy.model_dump(mode="json"), policy.version


def _within_trust(file: Path, home: Path | None) -> None:
    """Refuse an edited policy above the trust policy's caps before it is signed."""
    try:
        proposed = parse_policy(tomllib.loads(file.read_text()), "node", file)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read as TOML: {exc}", path=file) from exc
    assert isinstance(proposed, NodePolicy)
    check_trust_caps(proposed, load_node(settings(home)).trust_policy)


@policy_app.command("show")
def show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the node policy in force (its signature is checked first)."""
    layout, _identity, data, _version = run(lambda: _current(home), as_json=as_json)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"# {layout.node_policy} (signature verified)")
    typer.echo(layout.node_policy.read_text())


@policy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The edited node policy (TOML).")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate an edited policy, sign it with the node identity and put it in force."""
    layout, identity, _data, version = run(lambda: _current(home), as_json=as_json)
    target = layout.node_policy
    run(lambda: _within_trust(file, home), as_json=as_json)
    proposed = run(lambda: install_policy(file, target, "node", identity, version), as_json=as_json)
    result = {"policy": str(target), "version": proposed.version, "previous_version": version}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"node policy version {proposed.version} in force (was {version}): {target}")
