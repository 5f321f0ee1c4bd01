"""``gcdt-node tenant ...``, ``gcdt-node operator-token`` and ``gcdt-node serve``.

Tokens are printed once, on creation or rotation, and stored only as SHA-256 digests.
The operator token is made at the first ``serve`` (printed to the terminal then) or by
``gcdt-node operator-token`` (which replaces any previous one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt
from trust_node.cli_common import node, run
from trust_node.tenants import TenantInfo, TenantRegistry

tenant_app = typer.Typer(help="Hosted tenants: add, rotate, revoke, list.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _registry(home: Path | None, database_url: str | None) -> TenantRegistry:
    return node(home, database_url, create=True).tenants


def _token_out(name: str, token: str, as_json: bool, verb: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"tenant_id": name, "token": token}) + "\n")
        return
    out.print(f"{verb} tenant '{name}'. Its API token (shown once, keep it secret):")
    sys.stdout.write(token + "\n")


def _info(t: TenantInfo) -> dict[str, object]:
    return {
        "tenant_id": t.tenant_id,
        "created_at": t.created_at.isoformat(),
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "active": t.active,
    }


@tenant_app.command("add")
def tenant_add(
    name: str, home: HomeOpt = None, database_url: DatabaseOpt = None, as_json: JsonOpt = False
) -> None:
    """Create a tenant and print its API token (once)."""
    issued = run(lambda: _registry(home, database_url).add(name), as_json=as_json)
    _token_out(name, issued.token, as_json, "added")


@tenant_app.command("rotate")
def tenant_rotate(
    name: str, home: HomeOpt = None, database_url: DatabaseOpt = None, as_json: JsonOpt = False
) -> None:
    """Issue a new token; the old one is refused from now on."""
    issued = run(lambda: _registry(home, database_url).rotate(name), as_json=as_json)
    _token_out(name, issued.token, as_json, "rotated")


@tenant_app.command("revoke")
def tenant_revoke(
    name: str, home: HomeOpt = None, database_url: DatabaseOpt = None, as_json: JsonOpt = False
) -> None:
    """Revoke a tenant: its token is refused; its records stay stored."""
    info = run(lambda: _registry(home, database_url).revoke(name), as_json=as_json)
    if as_json:
        sys.stdout.write(json.dumps(_info(info)) + "\n")
    else:
        out.print(f"revoked tenant '{name}'")


@tenant_app.command("list")
def tenant_list(
    home: HomeOpt = None, database_url: DatabaseOpt = None, as_json: JsonOpt = False
) -> None:
    """List tenants (never their tokens)."""
    tenants = run(lambda: [_info(t) for t in _registry(home, database_url).list()], as_json=as_json)
    if as_json:
        sys.stdout.write(json.dumps(tenants, indent=2) + "\n")
        return
    for t in tenants:
        state = "active" if t["active"] else f"revoked {t['revoked_at']}"
        out.print(f"{t['tenant_id']}\t{state}\tcreated {t['created_at']}")


def operator_token(
    home: HomeOpt = None, database_url: DatabaseOpt = None, as_json: JsonOpt = False
) -> None:
    """Issue a new operator API token (replaces the previous one); printed once."""
    token = run(lambda: _registry(home, database_url).issue_operator_token().token, as_json=as_json)
    if as_json:
        sys.stdout.write(json.dumps({"role": "operator", "token": token}) + "\n")
    else:
        out.print("operator API token for /operator/... (shown once, keep it secret):")
        sys.stdout.write(token + "\n")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface (GCDT_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (GCDT_API_PORT).")] = None,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the node API with uvicorn (first run prints a new operator token)."""
    import uvicorn

    from trust_node.api import create_app, load_api_settings

    settings = load_api_settings(home=home, database_url=database_url, api_host=host, api_port=port)
    settings.ensure_home()
    app = run(lambda: create_app(settings))
    registry: TenantRegistry = app.state.services.registry
    if not registry.has_operator_token():
        err.print("no operator token yet; issued one for /operator/... (shown once):")
        sys.stderr.write(registry.issue_operator_token().token + "\n")
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info")
