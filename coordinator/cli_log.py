"""``gcdt-coordinator log key|checkpoint|proof``: the operator's view of its C2SP log.

``key`` prints the log's signed-note verifier key -- the fingerprint the operator hands
auditors and witnesses out of band (a key read from the portal proves nothing by itself).
``checkpoint`` signs a checkpoint over the current log and prints it with every
cosignature collected; ``proof`` writes a ``.tlog-proof`` for one entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coordinator.cli_common import coordinator, run
from kernel.cli import DatabaseOpt, HomeOpt

log_app = typer.Typer(help="The transparency log in C2SP forms.", no_args_is_help=True)


@log_app.command("key")
def key(home: HomeOpt = None, database_url: DatabaseOpt = None) -> None:
    """Print the log's verifier key (name+keyid+key) for auditors and witnesses."""
    context = coordinator(home, database_url)
    typer.echo(run(lambda: str(context.translog.verifier), also=(OSError, ValueError)))


@log_app.command("checkpoint")
def checkpoint(home: HomeOpt = None, database_url: DatabaseOpt = None) -> None:
    """Sign a checkpoint over the whole log now and print it (cosignatures included)."""
    context = coordinator(home, database_url)

    def sign() -> str:
        log = context.translog
        return log.cosigned_note(log.tree_head())

    typer.echo(run(sign, also=(OSError, ValueError)), nl=False)


@log_app.command("proof")
def proof(
    index: Annotated[int, typer.Argument(help="Log entry index.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .tlog-proof file.")],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write a c2sp.org/tlog-proof@v1 of one entry under the latest checkpoint."""
    context = coordinator(home, database_url)

    def write() -> str:
        out.write_text(str(context.translog.tlog_proof(index)), encoding="utf-8")
        return str(out)

    typer.echo(run(write, also=(OSError, ValueError)))


@log_app.command("witness-request")
def witness_request(
    out: Annotated[Path, typer.Option("--out", help="Where to write the request body.")],
    old_size: Annotated[
        int, typer.Option("--old", help="The size the witness last cosigned (0: never).")
    ] = 0,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write a tlog-witness add-checkpoint body for the latest checkpoint."""
    context = coordinator(home, database_url)

    def write() -> str:
        log = context.translog
        head = log.latest_tree_head() or log.tree_head()
        out.write_text(log.witness_request(head, old_size), encoding="utf-8")
        return str(out)

    typer.echo(run(write, also=(OSError, ValueError)))


@log_app.command("add-cosignatures")
def add_cosignatures(
    response: Annotated[Path, typer.Argument(help="A witness's cosignature line(s).")],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Keep a witness's cosignatures on the latest checkpoint (served and exported)."""
    context = coordinator(home, database_url)

    def add() -> str:
        log = context.translog
        head = log.latest_tree_head()
        if head is None:
            raise ValueError("the log has no checkpoint to attach cosignatures to")
        added = log.add_cosignatures(head, response.read_text(encoding="utf-8"))
        return f"{added} cosignature(s) added to the checkpoint of size {head.tree_size}"

    typer.echo(run(add, also=(OSError, ValueError)))
