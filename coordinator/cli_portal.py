"""``gcdt-coordinator portal``: serve the read-only transparency API and portal.

Before serving, the operator signs a fresh tree head (unless ``--no-sign-head``) so every
entry logged so far is covered by a signature in the bundle the portal exports; the
server itself never loads the private key (``coordinator.portal.services.public_log``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.errors import GovernanceError
from kernel.settings import load_settings


def portal(
    home: Annotated[
        Path | None, typer.Option("--home", envvar="GCDT_HOME", help="State directory.")
    ] = None,
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
) -> None:
    """Serve published models, benchmarks, nodes, rounds and the log (HTML + JSON API)."""
    import uvicorn

    from coordinator.portal import create_app
    from coordinator.portal.errors import PortalError
    from coordinator.store.repository import open_engine
    from governance.identity import Identity
    from governance.pki import HomeLayout
    from governance.translog import TransparencyLog

    settings = load_settings(home=home)
    try:
        engine = open_engine(settings)
        if sign_head:
            signer = Identity.load(HomeLayout(settings.home_dir).identity_dir)
            head = TransparencyLog(engine, signer).tree_head()
            del signer
            typer.echo(f"signed tree head: size {head.tree_size}, root {head.root_hash.hex()}")
        app = create_app(settings, engine=engine)
    except (OSError, ValueError, GovernanceError, PortalError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"portal: http://{host}:{port}/  (JSON API under /api)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
