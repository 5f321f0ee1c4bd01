"""``gcdt-coordinator serve`` and ``gcdt-coordinator enrol`` (the trust protocol's verbs)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from coordinator.enrolment import enrol_node, revoke_node
from coordinator.store import CoordinatorError, CoordinatorStore
from coordinator.transport.server import start_server
from governance.errors import GovernanceError
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.translog import TransparencyLog
from kernel.settings import load_settings

HomeOpt = Annotated[
    Path | None, typer.Option("--home", envvar="GCDT_HOME", help="State directory (GCDT_HOME).")
]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def serve(
    home: HomeOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0: pick a free one).")] = 50051,
) -> None:
    """Run the trust gRPC server (mutual TLS) in the foreground; Ctrl-C stops it."""
    settings = load_settings(home=home)
    try:
        server = start_server(settings, host=host, port=port)
        # Statistics rounds ride the same server, store and transparency log.
        from coordinator.statistics.setup import install as install_statistics

        install_statistics(server.handlers, settings)
    except (CoordinatorError, GovernanceError, OSError) as exc:
        _fail(str(exc))
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"trust server listening on {server.address}", err=False)
    typer.echo(json.dumps({"address": server.address, "port": server.port}), err=True)
    try:
        stop.wait()
    finally:
        server.stop()
        typer.echo("trust server stopped")


def enrol(
    request: Annotated[Path, typer.Argument(help="The node's enrolment-request.json.")],
    home: HomeOpt = None,
    key_holder: Annotated[
        bool, typer.Option("--key-holder", help="Make the node a CKKS key holder.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Response bundle path (default: beside request).")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="host:port of the trust server for the node.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve an enrolment request: issue the certificate, register, log, write the response."""
    settings = load_settings(home=home)
    layout = HomeLayout(settings.home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
        store = CoordinatorStore.open(settings)
        result = enrol_node(
            request,
            layout=layout,
            store=store,
            translog=TransparencyLog(store.engine, identity),
            identity=identity,
            key_holder=key_holder,
            response_path=out or request.with_name("enrolment-response.json"),
            coordinator_address=address,
        )
    except (CoordinatorError, GovernanceError, OSError) as exc:
        _fail(str(exc))
        return
    store.engine.dispose()
    info = {
        "node_id": result.node.node_id,
        "jurisdiction": result.node.jurisdiction,
        "identity_key_id": result.identity_key_id,
        "key_holder": result.node.key_holder,
        "certificate_sha256": result.certificate_fingerprint,
        "response": str(result.response_path),
        "log_index": result.log_index,
    }
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        typer.echo(f"Enrolled {info['node_id']} ({info['jurisdiction']})")
        typer.echo(f"  identity key id (compare out of band): {info['identity_key_id']}")
        typer.echo(f"  response bundle: {info['response']}")


def revoke(node_id: Annotated[str, typer.Argument()], home: HomeOpt = None) -> None:
    """Revoke a node: its certificate goes on the CRL; the server refuses it from now on."""
    settings = load_settings(home=home)
    layout = HomeLayout(settings.home_dir)
    try:
        identity = Identity.load(layout.identity_dir)
        store = CoordinatorStore.open(settings)
        index = revoke_node(
            node_id, layout=layout, store=store, translog=TransparencyLog(store.engine, identity)
        )
    except (CoordinatorError, GovernanceError) as exc:
        _fail(str(exc))
        return
    typer.echo(f"revoked {node_id} (log entry {index})")
