"""``gcdt-node init | enrol | key-ceremony | fetch-keys``: joining a trust."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt, print_result, settings
from trust_node.cli_common import node, run
from trust_node.key_material import fetch_keys, run_key_ceremony
from trust_node.node_setup import init_node, install_enrolment

AddressOpt = Annotated[
    str | None, typer.Option("--address", help="Coordinator host:port (default: from enrolment).")
]


def init(
    node_id: Annotated[str, typer.Option("--node-id", help="This node's id.")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="ISO 3166-1 alpha-2.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create identity, TLS and transport keys, the signed node policy and the enrolment request."""
    result = run(lambda: init_node(settings(home), node_id, jurisdiction), as_json=as_json)
    print_result(
        result,
        as_json=as_json,
        title="Node initialised; send the enrolment request to the coordinator "
        "and tell its operator the identity key id out of band.",
    )


def enrol(
    response: Annotated[Path, typer.Argument(help="enrolment-response.json from the coordinator.")],
    home: HomeOpt = None,
    address: AddressOpt = None,
    expect_ca_fingerprint: Annotated[
        str | None,
        typer.Option(
            help="Required: the trust root's SHA-256 fingerprint, from the coordinator's "
            "operator out of band."
        ),
    ] = None,
    expect_coordinator_fingerprint: Annotated[
        str | None,
        typer.Option(
            help="Required: the coordinator identity key's SHA-256 fingerprint, from its "
            "operator out of band."
        ),
    ] = None,
    expect_policy_sha256: Annotated[
        str | None,
        typer.Option(help="Refuse a trust policy chain without this version (out of band)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Install the coordinator's enrolment response (certificate, trust root, trust policy).

    Refused unless the trust root and the coordinator's identity key match both pins.
    """
    result = run(
        lambda: install_enrolment(
            settings(home),
            response,
            expect_ca_fingerprint=expect_ca_fingerprint,
            address=address,
            expect_policy_sha256=expect_policy_sha256,
            expect_coordinator_fingerprint=expect_coordinator_fingerprint,
        ),
        as_json=as_json,
    )
    print_result(result, as_json=as_json, title="Enrolled; trust root and coordinator key pinned.")


def key_ceremony(
    home: HomeOpt = None,
    address: AddressOpt = None,
    period: Annotated[str | None, typer.Option(help="Accounting period of the key.")] = None,
    group: Annotated[
        str | None, typer.Option(help="Key group (default: the one this node holds).")
    ] = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the CKKS key ceremony for this node's key group (the trust policy's holders)."""
    context = node(home, database_url)

    def ceremony() -> dict[str, object]:
        with context.client(address) as client:
            return run_key_ceremony(context.state, client, period=period, group=group)

    print_result(run(ceremony, as_json=as_json), as_json=as_json, title="Key ceremony uploaded.")


def fetch_keys_cmd(
    home: HomeOpt = None,
    address: AddressOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download and install the public CKKS context and (key holders) this node's key package."""
    context = node(home, database_url)

    def fetch() -> dict[str, object]:
        with context.client(address) as client:
            return fetch_keys(context.state, client)

    print_result(run(fetch, as_json=as_json), as_json=as_json, title="Keys installed.")
