"""``gcdt-node ingest | show | tier1 | factors | generate``: the node's own records.

Each verb is thin: resolve the node, call a service, render the result (rich for people,
``--json`` for scripts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt, print_json
from trust_node.cli_common import node, run
from trust_node.store import OPERATOR_TENANT

out = Console(soft_wrap=True)

TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant the records belong to.")]


def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, Parquet or JSON-records files.")],
    tenant: TenantOpt = OPERATOR_TENANT,
    drop_extra_columns: Annotated[
        bool, typer.Option("--drop-extra-columns", help="Drop columns not in the contract.")
    ] = False,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate files against the data contract and store them, each whole or not at all."""
    from trust_node.ingest import ingest_file

    context = node(home, database_url, create=True)
    repo = run(lambda: context.repository, as_json=as_json)
    receipts = []
    for path in files:
        receipt = run(
            lambda path=path: ingest_file(  # type: ignore[misc]
                path, repo, tenant_id=tenant, drop_extra_columns=drop_extra_columns
            ),
            as_json=as_json,
        )
        receipts.append(receipt)
        if not as_json:
            out.print(
                f"[green]stored[/] {path}: {receipt.rows} records "
                f"({receipt.new_records} new, {receipt.new_versions} new versions) "
                f"for tenant '{tenant}', ingest #{receipt.ingest_id}"
            )
    if as_json:
        print_json([r.__dict__ for r in receipts])
    else:
        out.print(f"store: {context.settings.database_url}")


def show(
    record_id: str,
    version: Annotated[int | None, typer.Option(help="A stored version (default: latest).")] = None,
    tenant: TenantOpt = OPERATOR_TENANT,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one stored record (latest version unless --version) and its versions."""
    context = node(home, database_url, create=True)

    def load() -> tuple[dict[str, object], list[int]]:
        repo = context.repository
        return repo.get(tenant, record_id, version), repo.versions(tenant, record_id)

    record, versions = run(load, as_json=as_json)
    record = {k: v for k, v in record.items()}
    record["versions"] = versions
    if as_json:
        print_json(record)
        return
    table = Table("field", "value", title=f"record {record_id}")
    for key, value in record.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)


def tier1(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: all).")
    ] = None,
    cells_only: Annotated[bool, typer.Option("--cells", help="Only the per-cell summary.")] = False,
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """IPCC 2006 Tier-1 direct, indirect and embedded emissions per record and per cell."""
    from trust_node.tier1 import tier1_report

    context = node(home, database_url, create=True)
    report = run(lambda: tier1_report(context.repository, tenant), as_json=as_json)
    if as_json:
        payload = {"cells": _records(report.cells)}
        if not cells_only:
            payload["records"] = _records(report.records)
        print_json(payload)
        return
    if not cells_only:
        shown = f"first 50 of {len(report.records)}; --json for all"
        _print_frame(_view(report.records.head(50), RECORD_VIEW), f"Tier-1 per record ({shown})")
    _print_frame(_view(report.cells, CELL_VIEW), "Tier-1 per cell (tCO2e; intensities t/t)")
    out.print(f"store: {context.settings.database_url}")


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


def factors(as_json: JsonOpt = False) -> None:
    """List every emission factor, grid factor and default value used, with its source."""
    from trust_node.tier1 import factor_table

    frame = factor_table()
    if as_json:
        print_json(_records(frame))
    else:
        _print_frame(frame, "Factors and their sources")


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

    def write() -> int:
        data = make(spec, records=records, seed=seed)
        write_records(data.records, output)
        if truth is not None:
            write_records(data.truth, truth)
        return len(data.records)

    count = run(write, also=(OSError,))
    out.print(f"wrote {count} records to {output}")


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
