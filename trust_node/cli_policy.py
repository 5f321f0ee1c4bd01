"""``gcdt-node policy show | apply | sign-trust | sync-trust``: the node's own signed policy,
and its part in the member-signed trust policy.

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
from governance.policy.trust_chain import policy_sha256
from kernel.cli import HomeOpt, JsonOpt, settings
from trust_node.cli_common import node, run
from trust_node.errors import NodeSetupError
from trust_node.node_setup import load_node
from trust_node.privacy import check_trust_caps
from trust_node.trust_policy import sign_trust_proposal, sync_trust_policy

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


@policy_app.command("sign-trust")
def sign_trust(
    proposal: Annotated[Path, typer.Argument(help="The proposed trust policy (TOML).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write this member's signature.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a trust policy proposal as this member (founding: it must name this node's keys;
    later: it must follow the version this node holds)."""

    def sign() -> dict[str, object]:
        signature = sign_trust_proposal(load_node(settings(home)), proposal)
        out.write_text(json.dumps(signature.to_json(), indent=2) + "\n")
        return {
            "signature": str(out),
            "member": signature.member,
            "sha256": signature.policy_sha256,
        }

    result = run(sign, as_json=as_json)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"signed trust policy {result['sha256']} as {result['member']}: {out}")


@policy_app.command("sync-trust")
def sync_trust(
    home: HomeOpt = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Coordinator host:port (default: from enrolment)."),
    ] = None,
    expect_sha256: Annotated[
        str | None,
        typer.Option(help="Refuse a first chain that lacks this version (compared out of band)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Take the coordinator's trust policy if its member-signed chain extends this node's."""
    context = node(home)

    def sync() -> dict[str, object]:
        with context.client(address) as client:
            policy = sync_trust_policy(context.state, client, expect_sha256=expect_sha256)
        return {"version": policy.version, "sha256": policy_sha256(policy)}

    result = run(sync, as_json=as_json)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"trust policy version {result['version']} in force (sha256 {result['sha256']})")
