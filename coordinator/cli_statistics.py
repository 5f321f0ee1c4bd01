"""``gcdt-coordinator statistics-round open|status|close|publish|export-log``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coordinator.cli_common import coordinator, run
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt

if TYPE_CHECKING:
    from coordinator.statistics.service import StatisticsService

statistics_app = typer.Typer(help="Encrypted sector statistics rounds.", no_args_is_help=True)


def _service(home: Path | None, database_url: str | None) -> StatisticsService:
    # Imported here: the service pulls in Opacus/torch, which other verbs need not load.
    from coordinator.statistics.setup import service_for

    return service_for(coordinator(home, database_url))


def _run(
    home: Path | None,
    database_url: str | None,
    action: Callable[[StatisticsService], Any],
    as_json: bool,
) -> None:
    result = run(lambda: action(_service(home, database_url)), as_json=as_json, also=(ValueError,))
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
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a statistics round and publish its terms (noise, catalogue, k, m)."""
    import datetime as dt

    _run(
        home,
        database_url,
        lambda service: service.open_round(
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
    round_id: Annotated[int, typer.Argument()],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a round: status, terms, who submitted, and each refused submission with its reason."""
    _run(
        home,
        database_url,
        lambda service: {
            **service.status(round_id).to_dict(),
            "rejections": service.rejections(round_id),
        },
        as_json,
    )


@statistics_app.command("close")
def close(
    round_id: Annotated[int, typer.Argument()],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop submissions, sum with the public context, ask key holders to decrypt."""
    _run(
        home,
        database_url,
        lambda service: {"request_id": service.request_decryption(round_id).request_id},
        as_json,
    )


@statistics_app.command("publish")
def publish(
    round_id: Annotated[int, typer.Argument()],
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for t matching attestations.")
    ] = 0.0,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish the benchmark if t key holders attested identical values."""
    _run(home, database_url, lambda service: service.publish(round_id, wait_s=wait), as_json)


@statistics_app.command("export-log")
def export_log(
    path: Annotated[Path, typer.Argument(help="Where to write the log bundle (JSON).")],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Export the transparency log for ``gcdt-audit verify-benchmark``."""
    _run(home, database_url, lambda service: str(service.log.export_bundle(path)), False)
