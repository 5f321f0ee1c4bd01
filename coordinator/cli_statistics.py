"""``gcdt-coordinator statistics-round open|status|close|publish|export-log``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from coordinator.errors import CoordinatorError
from governance.errors import GovernanceError
from kernel.settings import load_settings

statistics_app = typer.Typer(help="Encrypted sector statistics rounds.", no_args_is_help=True)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", envvar="GCDT_HOME", help="Coordinator state directory.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def service_for(settings: Any) -> Any:
    # Imported here: the service pulls in Opacus/torch, which other verbs need not load.
    from coordinator.statistics.setup import service_for as build

    return build(settings)


def _run(action: Any, as_json: bool) -> None:
    try:
        result = action()
    except (CoordinatorError, GovernanceError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(result, indent=2, sort_keys=True, default=str) if as_json else result)


@statistics_app.command("open")
def open_round(
    years: Annotated[list[int], typer.Option("--years", help="Years of the cell catalogue.")],
    epsilon: Annotated[float, typer.Option(help="Epsilon this release costs each node.")] = 1.0,
    delta: Annotated[float, typer.Option(help="Delta of the release.")] = 1e-5,
    nodes: Annotated[
        list[str] | None, typer.Option("--node", help="Expected node (default: all enrolled).")
    ] = None,
    noise_shares: Annotated[
        int | None, typer.Option(help="Nodes whose noise makes the total (default: all).")
    ] = None,
    deadline_minutes: Annotated[float, typer.Option(help="Submission deadline.")] = 60.0,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a statistics round and publish its terms (noise, catalogue, k, m)."""
    import datetime as dt

    service = service_for(load_settings(home=home))
    _run(
        lambda: service.open_round(
            years=years,
            epsilon=epsilon,
            delta=delta,
            expected_nodes=nodes,
            noise_shares=noise_shares,
            deadline=dt.timedelta(minutes=deadline_minutes),
        ).to_dict(),
        as_json,
    )


@statistics_app.command("status")
def status(
    round_id: Annotated[int, typer.Argument()], home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    service = service_for(load_settings(home=home))
    _run(
        lambda: {**service.status(round_id).to_dict(), "rejections": service.rejections(round_id)},
        as_json,
    )


@statistics_app.command("close")
def close(
    round_id: Annotated[int, typer.Argument()], home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    """Stop submissions, sum with the public context, ask key holders to decrypt."""
    service = service_for(load_settings(home=home))
    _run(lambda: {"request_id": service.request_decryption(round_id).request_id}, as_json)


@statistics_app.command("publish")
def publish(
    round_id: Annotated[int, typer.Argument()], home: HomeOpt = None, as_json: JsonOpt = False
) -> None:
    """Publish the benchmark if t key holders attested identical values."""
    service = service_for(load_settings(home=home))
    _run(lambda: service.publish(round_id), as_json)


@statistics_app.command("export-log")
def export_log(
    path: Annotated[Path, typer.Argument(help="Where to write the log bundle (JSON).")],
    home: HomeOpt = None,
) -> None:
    """Export the transparency log for ``gcdt-audit verify-benchmark``."""
    service = service_for(load_settings(home=home))
    _run(lambda: str(service.log.export_bundle(path)), False)
