"""``gcdt-node init | enrol | key-ceremony | fetch-keys``: joining a trust."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kernel.settings import load_settings
from trust_node.errors import NodeError
from trust_node.node_setup import (
    fetch_keys,
    init_node,
    install_enrolment,
    load_node,
    run_key_ceremony,
)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", envvar="GCDT_HOME", help="Node state directory.")
]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="Coordinator host:port (default: from enrolment).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _done(result: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(title)
    for key, value in result.items():
        typer.echo(f"  {key}: {value}")


def _guarded(action: Any) -> Any:
    try:
        return action()
    except NodeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None


def init(
    node_id: Annotated[str, typer.Option("--node-id", help="This node's id.")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="ISO 3166-1 alpha-2.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create identity, TLS and transport keys, the signed node policy and the enrolment request."""
    settings = load_settings(home=home)
    result = _guarded(lambda: init_node(settings, node_id, jurisdiction))
    _done(
        result,
        as_json,
        "Node initialised; send the enrolment request to the coordinator "
        "and tell its operator the identity key id out of band.",
    )


def enrol(
    response: Annotated[Path, typer.Argument(help="enrolment-response.json from the coordinator.")],
    home: HomeOpt = None,
    address: AddressOpt = None,
    expect_ca_fingerprint: Annotated[
        str | None, typer.Option(help="Refuse unless the trust root has this SHA-256 fingerprint.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Install the coordinator's enrolment response (certificate, trust root, trust policy)."""
    settings = load_settings(home=home)
    result = _guarded(
        lambda: install_enrolment(
            settings, response, expect_ca_fingerprint=expect_ca_fingerprint, address=address
        )
    )
    _done(result, as_json, "Enrolled; compare the trust root fingerprint out of band.")


def key_ceremony(
    home: HomeOpt = None,
    address: AddressOpt = None,
    period: Annotated[str | None, typer.Option(help="Accounting period of the key.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the CKKS key ceremony as this node and upload sealed packages + public context."""
    settings = load_settings(home=home)
    result = _guarded(lambda: run_key_ceremony(load_node(settings), period=period, address=address))
    _done(result, as_json, "Key ceremony uploaded.")


def fetch_keys_cmd(
    home: HomeOpt = None, address: AddressOpt = None, as_json: JsonOpt = False
) -> None:
    """Download and install the public CKKS context and (key holders) this node's key package."""
    settings = load_settings(home=home)
    result = _guarded(lambda: fetch_keys(load_node(settings), address=address))
    _done(result, as_json, "Keys installed.")
