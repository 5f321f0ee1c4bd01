"""``gcdt-coordinator policy show | propose | apply``: a trust policy only members change.

The coordinator drafts a version (``propose``), the members sign it with their own
identity keys (``gcdt-node policy sign-trust``), and ``apply`` puts it in force only if
those signatures make it the next valid version of the chain (version 1: every founding
member; later: a quorum of the version in force). The coordinator's identity signs nothing
here, and every version put in force is appended to the transparency log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from coordinator import membership
from coordinator.cli_common import coordinator, run
from coordinator.context import CoordinatorContext
from coordinator.store import CoordinatorError
from governance.errors import PolicyError
from governance.policy import policy_to_toml
from governance.policy.trust_chain import MemberSignature, next_version, policy_sha256
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt

policy_app = typer.Typer(
    help="Show, propose or put in force (with member signatures) the trust policy.",
    no_args_is_help=True,
)


def _load(home: Path | None, database_url: str | None = None) -> CoordinatorContext:
    """The coordinator, its trust policy checked (and loaded) before anything else."""
    context = coordinator(home, database_url)
    context.trust_policy  # noqa: B018 (loading verifies the member signatures)
    return context


@policy_app.command("show")
def show(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Print the trust policy in force (its member signatures are checked first)."""
    context = run(lambda: _load(home), as_json=as_json)
    policy = context.trust_policy
    if as_json:
        typer.echo(json.dumps(policy.model_dump(mode="json"), indent=2))
        return
    if policy.founded:
        typer.echo(f"# {context.layout.trust_policy} (member signatures verified)")
    else:
        typer.echo(f"# {context.layout.trust_draft}: draft, not founded (no member counts)")
    typer.echo(policy_to_toml(policy).decode("utf-8"))


def _parse_groups(groups: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for spec in groups:
        name, sep, holders = spec.partition("=")
        if not sep or not holders:
            raise PolicyError(f"--key-group {spec!r}: expected GROUP=HOLDER[,HOLDER...]")
        parsed.append({"group": name, "holders": [h for h in holders.split(",") if h]})
    return parsed


def _propose(
    context: CoordinatorContext,
    member_ids: list[str],
    groups: list[str],
    signature_quorum: int | None,
) -> dict[str, Any]:
    current = context.trust_policy
    changes: dict[str, Any] = {}
    if member_ids or not current.founded:
        enrolled = {n.node_id: n for n in context.store.nodes()}
        wanted = member_ids or sorted(enrolled)
        unknown = sorted(set(wanted) - set(enrolled))
        if unknown:
            raise CoordinatorError(f"not enrolled (or revoked): {', '.join(unknown)}")
        changes["members"] = [
            {
                "node_id": n,
                "jurisdiction": enrolled[n].jurisdiction,
                "identity_public_key": enrolled[n].identity_public_key.hex(),
                "transport_public_key": enrolled[n].transport_public_key.hex(),
            }
            for n in wanted
        ]
    if groups:
        changes["key_groups"] = _parse_groups(groups)
    if signature_quorum is not None:
        changes["signature_quorum"] = signature_quorum
    elif not current.founded:
        # a strict majority of the founders: no minority changes the rules
        changes["signature_quorum"] = len(changes["members"]) // 2 + 1
    if current.founded:
        return next_version(current, **changes).model_dump(mode="json", exclude_none=True)
    data = current.model_dump(mode="json", exclude_none=True)
    return {**data, **changes, "version": 1}


@policy_app.command("propose")
def propose(
    out: Annotated[Path, typer.Option("--out", help="Where to write the proposal (TOML).")],
    member: Annotated[
        list[str] | None,
        typer.Option("--member", help="A member (enrolled node id); default: every enrolled."),
    ] = None,
    key_group: Annotated[
        list[str] | None,
        typer.Option("--key-group", help="GROUP=HOLDER[,HOLDER...] (repeat per group)."),
    ] = None,
    signature_quorum: Annotated[
        int | None,
        typer.Option(help="Members' signatures the next version needs (founding: a majority)."),
    ] = None,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft the next version (version 1 from the draft) for the members to sign."""
    context = run(lambda: _load(home, database_url), as_json=as_json)

    def write() -> dict[str, Any]:
        data = _propose(context, member or [], key_group or [], signature_quorum)
        policy = membership.draft_from_data(data)
        out.write_bytes(policy_to_toml(policy))
        return {"proposal": str(out), "version": policy.version, "sha256": policy_sha256(policy)}

    result = run(write, as_json=as_json, also=(OSError,))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(
            f"proposal for version {result['version']} written to {result['proposal']}; "
            f"members sign it with 'gcdt-node policy sign-trust' (sha256 {result['sha256']})"
        )


def _signatures(files: list[Path]) -> list[MemberSignature]:
    signatures = []
    for file in files:
        try:
            signatures.append(MemberSignature.from_json(json.loads(file.read_text("utf-8"))))
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot read member signature: {exc}", path=file) from exc
    return signatures


@policy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="The proposed trust policy (TOML).")],
    signature: Annotated[
        list[Path] | None,
        typer.Option("--signature", help="A member's signature file (repeat per member)."),
    ] = None,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a version in force if its members' signatures make it valid; log it."""
    context = run(lambda: _load(home, database_url), as_json=as_json)
    previous = context.trust_policy

    def install() -> dict[str, Any]:
        policy, entry = membership.install_version(
            context.layout.trust_policy,
            context.layout.trust_draft,
            context.store,
            context.translog,
            file,
            _signatures(signature or []),
        )
        return {
            "policy": str(context.layout.trust_policy),
            "version": policy.version,
            "previous_version": previous.version if previous.founded else None,
            "sha256": policy_sha256(policy),
            "log_index": entry.index,
        }

    result = run(install, as_json=as_json, also=(OSError,))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(
            f"trust policy version {result['version']} in force (member-signed), logged at "
            f"entry {result['log_index']}: {result['policy']}"
        )
