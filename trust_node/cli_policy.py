"""``gcdt-node policy show | apply``: read and change the node's signed policy.

A policy change is an edit of the TOML followed by ``apply``, which validates it, refuses a
version that does not increase (no silent rollback), signs it with the node's identity key
and installs it atomically beside its detached signature. Everything that reads the policy
(egress guard, budgets, consent) then loads only the signed file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from governance.errors import GovernanceError
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import load_policy
from governance.policy.install import install_policy
from kernel.settings import load_settings

policy_app = typer.Typer(help="Show or change this node's signed policy.", no_args_is_help=True)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", envvar="GCDT_HOME", help="Node state directory.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _current(home: Path | None) -> tuple[HomeLayout, Identity, dict[str, object], int]:
    layout = HomeLayout(load_settings(home=home).home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
        policy = load_policy(layout.node_policy, "node", identity.public_key)
    except FileNotFoundError:
        _fail(f"no node here ({layout.home}): run 'gcdt-node init' first")
        raise  # unreachable; keeps type checkers honest
    except GovernanceError as exc:
        _fail(str(exc))
        raise
    return layout, identity, policy.model_dump(mode="json"), policy.version


@policy_app.command("show")
def show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the node policy in force (its signature is checked first)."""
    layout, _identity, data, _version = _current(home)
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
    layout, identity, _data, version = _current(home)
    target = layout.node_policy
    try:
        proposed = install_policy(file, target, "node", identity, version)
    except GovernanceError as exc:
        _fail(str(exc))
        return
    result = {"policy": str(target), "version": proposed.version, "previous_version": version}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"node policy version {proposed.version} in force (was {version}): {target}")
