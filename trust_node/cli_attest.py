"""``gcdt-node attest [--watch]``: a key holder's decrypt-and-attest duty.

Every kind of aggregate (round sums of federated training, statistics) is decrypted and
attested the same way: this node pulls the coordinator's decryption requests over the
mutual-TLS trust protocol and answers each with a signed attestation. ``--watch`` keeps
doing it until stopped (run it beside ``gcdt-node supernode`` while training runs).
"""

from __future__ import annotations

import dataclasses
import json
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kernel.settings import load_settings
from kernel.wire import trust as wire
from trust_node.cli_trust import AddressOpt, HomeOpt, JsonOpt, _guarded

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
    as_json: JsonOpt = False,
) -> None:
    """Decrypt and sign the sums the coordinator asks this key holder to attest."""
    from trust_node.attestation import attest_pending, watch
    from trust_node.node_setup import holder_key, load_node

    state = _guarded(lambda: load_node(load_settings(home=home)))
    duties = key_holder_duties()

    def key_for(key_id: str) -> Any:
        return holder_key(state, key_id)

    def once() -> list[Any]:
        with state.client(address) as client:
            return attest_pending(client, state.identity, key_for, duties)

    done = _guarded(once)  # a node that is no key holder, or no server, fails here
    if not watch_:
        rows = [dataclasses.asdict(a) for a in done]
        typer.echo(json.dumps(rows, indent=2) if as_json else f"attested {len(rows)} request(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"attesting for {state.node_id} (every {poll:g} s); Ctrl-C stops", err=True)
    watch(
        lambda: state.client(address),
        state.identity,
        key_for,
        duties,
        stop,
        poll_s=poll,
        on_attested=lambda a: typer.echo(json.dumps(dataclasses.asdict(a)), err=True),
    )
