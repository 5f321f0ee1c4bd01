"""``gcdt-node submit-statistics``: this node's share of an encrypted statistics round."""

from __future__ import annotations

from typing import Annotated

import typer

from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt, print_result
from trust_node.cli_common import node, run
from trust_node.cli_trust import AddressOpt


def submit_statistics_cmd(
    home: HomeOpt = None,
    address: AddressOpt = None,
    round_id: Annotated[
        int | None, typer.Option("--round", help="Expected round id (default: the open one).")
    ] = None,
    years: Annotated[
        list[int] | None,
        typer.Option("--years", help="Expected years (checked)."),
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds a key holder waits for the decryption request.")
    ] = 120.0,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Charge the privacy ledger, submit the encrypted noisy cell sums, attest if key holder."""
    # Imported here: the flow pulls in Opacus/torch, which other verbs need not load.
    from trust_node.statistics.flow import submit_statistics

    context = node(home, database_url)
    result = run(
        lambda: submit_statistics(
            context, round_id=round_id, years=years, address=address, wait_seconds=wait
        ),
        as_json=as_json,
    )
    print_result(result, as_json=as_json, title="statistics submitted")
