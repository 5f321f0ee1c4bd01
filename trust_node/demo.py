"""``gcdt-demo``: the local trust on one machine.

Today it stands up one node per jurisdiction, each with its own state directory and
SQLite store, generates that jurisdiction's seeded demo data, ingests it through the
same validation path an operator uses, and prints the Tier-1 baseline per cell beside
the CBAM default values. Later issues add the coordinator, the federation and the portal.
Everything it creates lives under ``--workdir``; ``summary.json`` there says where.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from governance.settings import load_settings
from trust_node.generate import generate, write_records
from trust_node.ingest import ingest_file
from trust_node.store import SqlRecordRepository
from trust_node.tier1 import tier1_report

console = Console(soft_wrap=True)
app = typer.Typer(add_completion=False)


@app.command()
def run(
    workdir: Annotated[Path, typer.Option(help="Where every node's state is written.")] = Path(
        "demo-run"
    ),
    jurisdictions: Annotated[
        str, typer.Option(help="Comma-separated ISO codes, one node each.")
    ] = "CN,IN,DE,BR",
    records: Annotated[int, typer.Option(help="Records per node.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 0,
    reset: Annotated[
        bool, typer.Option("--reset/--reuse", help="Start from empty state (default) or reuse.")
    ] = True,
) -> None:
    """Generate, ingest and compute the Tier-1 baseline on one node per jurisdiction."""
    codes = [j.strip().upper() for j in jurisdictions.split(",") if j.strip()]
    if reset and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data = generate(codes, records=records, seed=seed)
    nodes: list[dict[str, object]] = []
    cells: list[pd.DataFrame] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("nodes", total=len(codes))
        for code in codes:
            progress.update(task, description=f"node {code}: generate, ingest, Tier-1")
            settings = load_settings(home=workdir / "nodes" / code.lower())
            home = settings.ensure_home()
            path = write_records(
                data.records[data.records["jurisdiction"] == code], home / "records.csv"
            )
            repo = SqlRecordRepository.from_url(settings.database_url)
            receipt = ingest_file(path, repo)
            report = tier1_report(repo)
            cells.append(report.cells.assign(node=code))
            nodes.append({
                "jurisdiction": code,
                "home": str(home),
                "database_url": settings.database_url,
                "records_file": str(path),
                "records": receipt.rows,
            })
            progress.advance(task)
    _print_cells(pd.concat(cells, ignore_index=True))
    summary = {"workdir": str(workdir.resolve()), "nodes": nodes}
    summary_path = workdir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    console.print("\n[bold]Where to look[/]")
    for node in nodes:
        console.print(f"  node {node['jurisdiction']}: {node['database_url']}")
    console.print(f"  summary: {summary_path}")
    console.print(
        "  per record: GCDT_HOME=<node home> .venv/bin/gcdt-node tier1  "
        "(factors and sources: .venv/bin/gcdt-node factors)"
    )


def _print_cells(cells: pd.DataFrame) -> None:
    table = Table(title="Tier-1 baseline per node and cell (latest year), against CBAM defaults")
    for name in ("node", "sector", "product", "route"):
        table.add_column(name)
    for name in ("records", "Tier-1 direct t/t", "embedded t/t", "CBAM default direct t/t"):
        table.add_column(name, justify="right")
    latest = cells[cells["year"] == cells["year"].max()]
    for row in latest.sort_values(["node", "sector", "product", "route"]).itertuples():
        complete = row.direct_records == row.records
        direct = row.direct_tco2e / row.production_t if complete else float("nan")
        table.add_row(
            row.node, row.sector, row.product, row.route, str(row.records),
            _fmt(direct), _fmt(row.specific_embedded_tco2e_per_t),
            _fmt(row.cbam_default_direct_tco2e_per_t_mean),
        )
    console.print(table)
    console.print("n/a: a figure not every record of the cell supports (fuels not known, or no "
                  "published default); see docs/tier1-method.md")


def _fmt(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def main() -> None:
    app()
