"""``gcdt-coordinator portal``: serve the read-only transparency API and portal.

Before serving, the operator signs a fresh tree head (unless ``--no-sign-head``) so every
entry logged so far is covered by a signature in the bundle the portal exports; the
server itself never loads the private key (``coordinator.portal.services.public_log``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from coordinator.cli_common import coordinator, run
from kernel.cli import DatabaseOpt, HomeOpt


def portal(
    home: HomeOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    sign_head: Annotated[
        bool,
        typer.Option(
            "--sign-head/--no-sign-head",
            help="Sign a tree head over the current log before serving.",
        ),
    ] = True,
    database_url: DatabaseOpt = None,
) -> None:
    """Serve published models, benchmarks, nodes, rounds and the log (HTML + JSON API)."""
    import uvicorn
    from fastapi import FastAPI

    from coordinator.portal import create_app
    from governance.identity import Identity
    from governance.translog import TransparencyLog

    context = coordinator(home, database_url)

    def build() -> FastAPI:
        if sign_head:
            # Loaded here and dropped: the identity is not kept in the context the server holds.
            signer = Identity.load(context.layout.identity_dir)
            head = TransparencyLog(context.engine, signer).tree_head()
            del signer
            typer.echo(f"signed tree head: size {head.tree_size}, root {head.root_hash.hex()}")
        return create_app(context.settings, engine=context.engine)

    app = run(build, also=(OSError, ValueError))
    typer.echo(f"portal: http://{host}:{port}/  (JSON API under /api)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
