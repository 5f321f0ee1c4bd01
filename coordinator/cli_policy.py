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

from coordinator.cli_common import coordinator, run
from coordinator.context import CoordinatorContext
from coordinator.policy_log import log_policy
from coordinator.store import CoordinatorError
from governance.policy.install import install_policy
from governance.policy.models import TrustPolicy
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt

policy_app = typer.Typer(
    help="Show or change the trust policy (changes are logged).", no_args_is_help=True
)


def _load(home: Path | None, database_url: str | None = None) -> CoordinatorContext:
    """The coordinator, its signed trust policy checked (and loaded) before anything else."""
    context = coordinator(home, database_url)
    try:
        context.trust_policy  # noqa: B018 (loading verifies the signature)
    except FileNotFoundError:
        raise CoordinatorError(
            f"no coordinator here ({context.layout.home}): run 'gcdt-coordinator init' first"
        ) from None
    return context


@policy_app.command("show")
def show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the trust policy in force (its signature is checked first)."""
    context = run(lambda: _load(home), as_json=as_json)
    if as_json:
        typer.echo(json.dumps(context.trust_policy.model_dump(mode="json"), indent=2))
    else:
        typer.echo(f"# {context.layout.trust_policy} (signature verified)")
        typer.echo(context.layout.trust_policy.read_text())


@policy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The edited trust policy (TOML).")],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate, sign, put in force and log a new version of the trust policy."""
    context = run(lambda: _load(home, database_url), as_json=as_json)
    current = context.trust_policy
    target = context.layout.trust_policy
    policy = run(
        lambda: install_policy(file, target, "trust", context.identity, current.version),
        as_json=as_json,
    )
    assert isinstance(policy, TrustPolicy)
    entry = log_policy(context.engine, context.identity, policy, target)
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
