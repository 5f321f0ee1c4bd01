"""``gcdt-coordinator policy show | apply``: the trust policy, changed only in the open.

``apply`` validates the edited TOML, refuses a version that does not increase, signs it with
the coordinator identity, installs it atomically and appends a ``policy_change`` entry to
the transparency log, so every threshold ever in force is on the public record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from coordinator.policy_log import log_policy
from governance.errors import GovernanceError
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy import load_policy
from governance.policy.install import install_policy
from governance.policy.models import TrustPolicy
from kernel.db import make_engine
from kernel.settings import load_settings

policy_app = typer.Typer(
    help="Show or change the trust policy (changes are logged).", no_args_is_help=True
)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", envvar="GCDT_HOME", help="Coordinator state directory.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _load(home: Path | None) -> tuple[HomeLayout, Identity, TrustPolicy]:
    layout = HomeLayout(load_settings(home=home).home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
        policy = load_policy(layout.trust_policy, "trust", identity.public_key)
    except FileNotFoundError:
        _fail(f"no coordinator here ({layout.home}): run 'gcdt-coordinator init' first")
        raise
    except GovernanceError as exc:
        _fail(str(exc))
        raise
    return layout, identity, policy


@policy_app.command("show")
def show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the trust policy in force (its signature is checked first)."""
    layout, _identity, policy = _load(home)
    if as_json:
        typer.echo(json.dumps(policy.model_dump(mode="json"), indent=2))
    else:
        typer.echo(f"# {layout.trust_policy} (signature verified)")
        typer.echo(layout.trust_policy.read_text())


@policy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The edited trust policy (TOML).")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate, sign, put in force and log a new version of the trust policy."""
    layout, identity, current = _load(home)
    target = layout.trust_policy
    try:
        policy = install_policy(file, target, "trust", identity, current.version)
    except GovernanceError as exc:
        _fail(str(exc))
        return
    assert isinstance(policy, TrustPolicy)
    engine = make_engine(load_settings(home=home).database_url)
    try:
        entry = log_policy(engine, identity, policy, target)
    finally:
        engine.dispose()
    result = {
        "policy": str(target),
        "version": policy.version,
        "previous_version": current.version,
        "log_index": entry.index,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(
            f"trust policy version {policy.version} in force, logged at entry "
            f"{entry.index}: {target}"
        )
