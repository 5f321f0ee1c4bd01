"""``gcdt-node attest [--watch]``: a key holder's decrypt-and-attest duty.

Every kind of aggregate (round sums of federated training, statistics) is decrypted and
attested the same way: this node pulls the coordinator's decryption requests over the
mutual-TLS trust protocol and answers each with a signed attestation. ``--watch`` keeps
doing it until stopped (run it beside ``gcdt-node supernode`` while training runs).
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt, print_json
from kernel.wire import trust as wire
from trust_node.cli_common import node, run
from trust_node.cli_trust import AddressOpt

if TYPE_CHECKING:  # imported late at run time: the duties pull in the statistics code
    from trust_node.attestation import Duty


def key_holder_duties() -> dict[str, Duty]:
    """Round kind -> how this node attests a sum of that kind."""
    from trust_node.attestation import attest_sum
    from trust_node.statistics.attest import attest_statistics_request

    return {wire.TRAINING_ROUND: attest_sum, wire.STATISTICS_ROUND: attest_statistics_request}


def attest_cmd(
    home: HomeOpt = None,
    address: AddressOpt = None,
    watch_: Annotated[
        bool, typer.Option("--watch", help="Keep pulling and attesting until stopped.")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between pulls.")] = 1.0,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decrypt and sign the sums the coordinator asks this key holder to attest."""
    from trust_node.attestation import attest_pending, key_holder, watch

    context = node(home, database_url)
    duties = key_holder_duties()

    def once() -> list[Any]:
        with context.client(address) as client:
            return attest_pending(client, key_holder(context), duties)

    done = run(once, as_json=as_json)  # no key holder, no server: fails here, exit 1
    if not watch_:
        rows = [dataclasses.asdict(a) for a in done]
        if as_json:
            print_json(rows)
        else:
            typer.echo(f"attested {len(rows)} request(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"attesting for {context.node_id} (every {poll:g} s); Ctrl-C stops", err=True)
    watch(
        lambda: context.client(address),
        key_holder(context),
        duties,
        stop,
        poll_s=poll,
        on_attested=lambda a: typer.echo(f"attested {a.subject_id} ({a.request_id})", err=True),
    )
