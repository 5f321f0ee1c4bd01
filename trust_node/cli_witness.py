"""``gcdt-node witness key|cosign|evidence``: this node witnessing the coordinator's log.

``cosign`` takes a ``c2sp.org/tlog-witness`` add-checkpoint request body (a file, or ``-``
for standard input) and prints the cosignature line only if the checkpoint is signed by
the pinned log key and consistent with the last one this node cosigned; otherwise it
exits non-zero with the tlog-witness status and reason, and a split view is kept as
evidence (``evidence`` lists it) and stops further cosigning.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from governance.translog.anchors import parse_key
from governance.translog.witness import WitnessRefusal
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt
from trust_node.cli_common import node, run
from trust_node.witness import node_witness, witness_signer

witness_app = typer.Typer(help="Witness the coordinator's transparency log.", no_args_is_help=True)
LogKeyOpt = Annotated[
    str, typer.Option("--log-key", help="The log's verifier key (or a file holding it).")
]


@witness_app.command("key")
def key(home: HomeOpt = None, database_url: DatabaseOpt = None) -> None:
    """Print this node's witness cosignature key (vkey) for the trust policy and auditors."""
    context = node(home, database_url)
    typer.echo(run(lambda: str(witness_signer(context.home, context.identity.party_id).verifier)))


@witness_app.command("cosign")
def cosign(
    request: Annotated[Path, typer.Argument(help="add-checkpoint request body, or '-'.")],
    log_key: LogKeyOpt,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Cosign a checkpoint if it extends the last one this node cosigned."""
    context = node(home, database_url)
    body = sys.stdin.read() if str(request) == "-" else request.read_text(encoding="utf-8")
    witness = run(
        lambda: node_witness(
            context.home, context.identity.party_id, [parse_key(log_key, "--log-key")]
        )
    )
    try:
        typer.echo(witness.add_checkpoint(body), nl=False)
    except WitnessRefusal as exc:
        typer.echo(f"refused ({exc.status}): {exc}", err=True)
        raise typer.Exit(1) from exc


@witness_app.command("evidence")
def evidence(
    log_key: LogKeyOpt,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split-view evidence kept for the log (held and shown checkpoints, and why)."""
    context = node(home, database_url)
    vkey = run(lambda: parse_key(log_key, "--log-key"))
    witness = node_witness(context.home, context.identity.party_id, [vkey])
    records = witness.evidence(vkey.name)
    state = witness.state(vkey.name)
    result = {"log": vkey.fingerprint, "state": state and state.to_json(), "evidence": records}
    typer.echo(json.dumps(result, indent=2) if as_json else f"{len(records)} evidence record(s)")
