"""``gcdt-coordinator serve`` and ``gcdt-coordinator enrol`` (the trust protocol's verbs)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from coordinator.cli_common import coordinator, run
from coordinator.enrolment import enrol_node, revoke_node
from coordinator.federation.launch import LaunchError, SuperLinkSpec, unregister_supernode
from coordinator.store import CoordinatorError
from coordinator.transport.server import TrustServer, make_handlers, start_server
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt


def serve(
    home: HomeOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0: pick a free one).")] = 50051,
    database_url: DatabaseOpt = None,
) -> None:
    """Run the trust gRPC server (mutual TLS) in the foreground; Ctrl-C stops it."""
    context = coordinator(home, database_url)

    def start() -> TrustServer:
        # Statistics rounds ride the same server, store and transparency log.
        from coordinator.statistics.setup import install as install_statistics

        handlers = make_handlers(context)
        install_statistics(handlers, context)
        return start_server(context.settings, host=host, port=port, handlers=handlers)

    server = run(start, also=(OSError,))
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
    out: Annotated[
        Path | None, typer.Option("--out", help="Response bundle path (default: beside request).")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="host:port of the trust server for the node.")
    ] = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve an enrolment request: issue the certificate, register, log, write the response."""
    context = coordinator(home, database_url)
    result = run(
        lambda: enrol_node(
            request,
            layout=context.layout,
            store=context.store,
            translog=context.translog,
            identity=context.identity,
            response_path=out or request.with_name("enrolment-response.json"),
            coordinator_address=address,
        ),
        as_json=as_json,
        also=(OSError,),
    )
    info = {
        "node_id": result.node.node_id,
        "jurisdiction": result.node.jurisdiction,
        "identity_key_id": result.identity_key_id,
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


def revoke(
    node_id: Annotated[str, typer.Argument()],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a node: its certificate goes on the CRL, its key groups' keys are retired
    (a remaining holder must re-key) and its SuperNode is unregistered from the SuperLink."""
    context = coordinator(home, database_url)
    index = run(
        lambda: revoke_node(
            node_id, layout=context.layout, store=context.store, translog=context.translog
        ),
        as_json=as_json,
    )
    flower_id = run(
        lambda: _unregister(context.layout.home, node_id), as_json=as_json, also=(OSError,)
    )
    groups = context.translog.entry(index).payload.get("key_groups_to_rotate", [])
    result = {
        "node_id": node_id,
        "log_index": index,
        "key_groups_to_rotate": groups,
        "supernode_unregistered": flower_id,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"revoked {node_id} (log entry {index})")
        if groups:
            typer.echo(f"  key groups to re-key before the next round: {', '.join(groups)}")
        if flower_id:
            typer.echo(f"  SuperNode {flower_id} unregistered from the SuperLink")


def _unregister(home: Path, node_id: str) -> str | None:
    """Unregister ``node_id``'s SuperNode, if it has one (the SuperLink must be running)."""
    try:
        return unregister_supernode(SuperLinkSpec(home), node_id)
    except LaunchError as exc:
        raise CoordinatorError(
            f"{node_id} is revoked, but its SuperNode is still registered: {exc} (start the "
            f"SuperLink and run `gcdt-coordinator unregister-supernode {node_id}`)"
        ) from exc


def unregister_supernode_cmd(
    node_id: Annotated[str, typer.Argument(help="The node whose SuperNode to remove.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a node's SuperNode from the SuperLink (revocation does it when it can)."""
    context = coordinator(home)
    flower_id = run(
        lambda: _unregister(context.layout.home, node_id), as_json=as_json, also=(OSError,)
    )
    result = {"node_id": node_id, "supernode_unregistered": flower_id}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"{node_id}: SuperNode {flower_id or '(none registered)'} unregistered")
