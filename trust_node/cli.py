"""``gcdt-node``: the node operator's command line.

Each verb is thin: resolve settings, call a service, render the result (rich for people,
``--json`` for scripts). Every :class:`NodeError` becomes a message on stderr and a
non-zero exit; nothing here catches bugs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from kernel.settings import Settings, load_settings
from trust_node import (
    cli_attest,
    cli_federation,
    cli_policy,
    cli_statistics,
    cli_tenants,
    cli_trust,
)
from trust_node.errors import IngestError, NodeError
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository

app = typer.Typer(
    name="gcdt-node",
    help="Run a Global Carbon Data Trust node: ingest records, compute Tier-1 figures.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="GCDT_HOME", help="Node state directory (GCDT_HOME)."),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GCDT_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: SQLite file inside GCDT_HOME).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant the records belong to.")]

T = TypeVar("T")


def _settings(home: Path | None, database_url: str | None) -> Settings:
    settings = load_settings(home=home, database_url=database_url)
    settings.ensure_home()
    return settings


def _repository(settings: Settings) -> SqlRecordRepository:
    return SqlRecordRepository.from_url(settings.database_url)


def _run(as_json: bool, action: Callable[[], T]) -> T:
    """Run ``action``; turn a NodeError into a clear message and exit code 1."""
    try:
        return action()
    except NodeError as exc:
        if as_json:
            payload: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
            if isinstance(exc, IngestError):
                payload["problems"] = [
                    {"row": p.row, "column": p.column, "reason": p.reason, "value": p.value}
                    for p in exc.problems
                ]
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, Parquet or JSON-records files.")],
    tenant: TenantOpt = OPERATOR_TENANT,
    drop_extra_columns: Annotated[
        bool, typer.Option("--drop-extra-columns", help="Drop columns not in the contract.")
    ] = False,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate files against the data contract and store them, each whole or not at all."""
    from trust_node.ingest import ingest_file

    settings = _settings(home, database_url)
    repo = _run(as_json, lambda: _repository(settings))
    receipts = []
    for path in files:
        receipt = _run(
            as_json,
            lambda path=path: ingest_file(  # type: ignore[misc]
                path, repo, tenant_id=tenant, drop_extra_columns=drop_extra_columns
            ),
        )
        receipts.append(receipt)
        if not as_json:
            out.print(
                f"[green]stored[/] {path}: {receipt.rows} records "
                f"({receipt.new_records} new, {receipt.new_versions} new versions) "
                f"for tenant '{tenant}', ingest #{receipt.ingest_id}"
            )
    if as_json:
        _print_json([r.__dict__ for r in receipts])
    else:
        out.print(f"store: {settings.database_url}")


@app.command()
def show(
    record_id: str,
    version: Annotated[int | None, typer.Option(help="A stored version (default: latest).")] = None,
    tenant: TenantOpt = OPERATOR_TENANT,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one stored record (latest version unless --version) and its versions."""
    settings = _settings(home, database_url)

    def load() -> tuple[dict[str, object], list[int]]:
        repo = _repository(settings)
        return repo.get(tenant, record_id, version), repo.versions(tenant, record_id)

    record, versions = _run(as_json, load)
    record = {k: v for k, v in record.items()}
    record["versions"] = versions
    if as_json:
        _print_json(record)
        return
    table = Table("field", "value", title=f"record {record_id}")
    for key, value in record.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)


@app.command()
def tier1(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: all).")
    ] = None,
    cells_only: Annotated[bool, typer.Option("--cells", help="Only the per-cell summary.")] = False,
    home: HomeOpt = None,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """IPCC 2006 Tier-1 direct, indirect and embedded emissions per record and per cell."""
    from trust_node.tier1 import tier1_report

    settings = _settings(home, database_url)
    report = _run(as_json, lambda: tier1_report(_repository(settings), tenant))
    if as_json:
        payload = {"cells": _records(report.cells)}
        if not cells_only:
            payload["records"] = _records(report.records)
        _print_json(payload)
        return
    if not cells_only:
        shown = f"first 50 of {len(report.records)}; --json for all"
        _print_frame(_view(report.records.head(50), RECORD_VIEW), f"Tier-1 per record ({shown})")
    _print_frame(_view(report.cells, CELL_VIEW), "Tier-1 per cell (tCO2e; intensities t/t)")
    out.print(f"store: {settings.database_url}")


RECORD_VIEW = {
    "record_id": "record",
    "year": "year",
    "route": "route",
    "production_t": "production t",
    "tier1_method": "method",
    "tier1_direct_tco2e": "direct",
    "indirect_tco2e": "indirect",
    "specific_embedded_tco2e_per_t": "embedded t/t",
    "cbam_default_direct_tco2e_per_t": "CBAM default direct t/t",
}
CELL_VIEW = {
    "product": "product",
    "route": "route",
    "year": "year",
    "records": "records",
    "production_t": "production t",
    "direct_tco2e": "direct",
    "indirect_tco2e": "indirect",
    "specific_embedded_tco2e_per_t": "embedded t/t",
    "cbam_default_direct_tco2e_per_t_mean": "CBAM default direct t/t",
}


def _view(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The columns a person reads at a terminal; --json carries every column."""
    present = {k: v for k, v in columns.items() if k in frame.columns}
    return frame[list(present)].rename(columns=present)


@app.command()
def factors(as_json: JsonOpt = False) -> None:
    """List every emission factor, grid factor and default value used, with its source."""
    from trust_node.tier1 import factor_table

    frame = factor_table()
    if as_json:
        _print_json(_records(frame))
    else:
        _print_frame(frame, "Factors and their sources")


@app.command()
def generate(
    output: Annotated[Path, typer.Argument(help="File to write (.csv, .parquet or .json).")],
    jurisdictions: Annotated[
        str, typer.Option(help="Comma-separated ISO codes, or a number of jurisdictions.")
    ] = "4",
    records: Annotated[int, typer.Option(help="Records per jurisdiction.")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 0,
    truth: Annotated[
        Path | None, typer.Option(help="Also write the hidden ground truth here.")
    ] = None,
) -> None:
    """Write a seeded synthetic data set of facility records (demo and benchmarks)."""
    from trust_node.generate import generate as make
    from trust_node.generate import write_records

    spec: int | list[str] = (
        int(jurisdictions)
        if jurisdictions.isdigit()
        else [j.strip() for j in jurisdictions.split(",") if j.strip()]
    )
    data = make(spec, records=records, seed=seed)
    write_records(data.records, output)
    if truth is not None:
        write_records(data.truth, truth)
    out.print(f"wrote {len(data.records)} records to {output}")


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict(orient="records")]


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(*[str(c) for c in frame.columns], title=title)
    for row in frame.itertuples(index=False):
        table.add_row(
            *["" if pd.isna(v) else f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row]
        )
    out.print(table)


# Verbs that live in their own modules (each imports its heavy dependencies lazily).
app.add_typer(cli_tenants.tenant_app, name="tenant")
app.command("operator-token")(cli_tenants.operator_token)
app.command("serve")(cli_tenants.serve)
app.add_typer(cli_policy.policy_app, name="policy")
app.command("init")(cli_trust.init)
app.command("enrol")(cli_trust.enrol)
app.command("key-ceremony")(cli_trust.key_ceremony)
app.command("fetch-keys")(cli_trust.fetch_keys_cmd)
app.command("submit-statistics")(cli_statistics.submit_statistics_cmd)
app.command("attest")(cli_attest.attest_cmd)
app.command("supernode")(cli_federation.supernode)
app.command("estimate")(cli_federation.estimate)
app.command("evaluation-set")(cli_federation.evaluation_set_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
