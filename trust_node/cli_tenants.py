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
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Operator-given server certificate (PEM).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="Its private key (PEM).")
    ] = None,
    tls_host: Annotated[
        list[str] | None,
        typer.Option(
            "--tls-host",
            help="Extra DNS name or IP the node's own certificate covers (repeatable).",
        ),
    ] = None,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http",
            help="Serve plain HTTP; refused unless --host is a loopback address.",
        ),
    ] = False,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the node API with uvicorn over HTTPS (first run prints a new operator token)."""
    import uvicorn

    from trust_node.api import create_app, load_api_settings
    from trust_node.api.tls import serve_tls

    settings = load_api_settings(home=home, database_url=database_url, api_host=host, api_port=port)
    tls = run(
        lambda: serve_tls(
            settings.home_dir,
            settings.api_host,
            node_id=_node_id(settings.home_dir),
            insecure_http=insecure_http,
            cert_file=tls_cert,
            key_file=tls_key,
            extra_hosts=tuple(tls_host or ()),
        )
    )
    settings.ensure_home()
    app = run(lambda: create_app(settings))
    registry: TenantRegistry = app.state.services.registry
    if not registry.has_operator_token():
        err.print("no operator token yet; issued one for /operator/... (shown once):")
        sys.stderr.write(registry.issue_operator_token().token + "\n")
    if tls.root_file is not None:
        err.print(
            f"node API root for tenants (hand it over out of band): {tls.root_file} "
            f"sha256 {tls.root_fingerprint_sha256}"
        )
    err.print(f"node API on {tls.scheme}://{settings.api_host}:{settings.api_port}")
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        ssl_certfile=str(tls.cert_file) if tls.cert_file else None,
        ssl_keyfile=str(tls.key_file) if tls.key_file else None,
    )


def _node_id(home: Path) -> str:
    """The node's id for its API certificate's name (a home not yet initialised: ``node``)."""
    from governance.identity import Identity
    from governance.pki import HomeLayout

    try:
        return Identity.load(HomeLayout(home).identity_dir).party_id
    except (OSError, ValueError):
        return "node"
