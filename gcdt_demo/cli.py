"""``gcdt-demo``: run the local federation and say where to look.

Re-running resets the work directory by default (``--reuse`` is not offered: every party's
keys and enrolment are made fresh, which is what a newcomer wants to see). Ctrl-C stops
every process the demo started, in reverse order, and exits 130.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gcdt_demo.federation import DemoConfig, Federation
from gcdt_demo.processes import DemoError

console = Console(soft_wrap=True)
app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def run(
    workdir: Annotated[Path, typer.Option(help="Where every party's state is written.")] = Path(
        "demo-run"
    ),
    nodes: Annotated[int, typer.Option(min=3, max=8, help="Nodes (the last one is hosted).")] = 4,
    rounds: Annotated[int, typer.Option(min=1, max=20, help="Federated training rounds.")] = 2,
    records: Annotated[int, typer.Option(min=50, help="Records per node.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 0,
    portal_port: Annotated[
        int, typer.Option(help="Portal port (a free one if taken; 0: any).")
    ] = 8000,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Keep the portal and servers up until Ctrl-C."),
    ] = True,
) -> None:
    """Start a coordinator and several nodes as processes; train, aggregate, publish."""
    workdir = workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    config = DemoConfig(
        workdir=workdir,
        nodes=nodes,
        rounds=rounds,
        records=records,
        seed=seed,
        portal_port=portal_port,
    )
    federation = Federation(config)
    stopping = threading.Event()

    def interrupt(*_: object) -> None:
        stopping.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    steps = [
        ("Trust root, node keys and enrolment", federation.set_up_parties),
        (
            "Demo data: nodes ingest, SMEs upload through the hosted node's API",
            federation.load_data,
        ),
        ("Coordinator trust server (gRPC, mutual TLS)", federation.start_trust_server),
        ("CKKS key ceremony; key holders fetch their keys", federation.key_ceremony),
        ("Key holders attest what they are asked to decrypt", federation.start_attestation),
        (f"Federated DP training, {rounds} round(s), CKKS-encrypted updates", federation.train),
        ("Encrypted sector statistics round", federation.statistics_round),
        ("Transparency log exported and verified", federation.export_and_verify_log),
        ("Transparency portal", federation.start_portal),
        (
            "Published model verified against the portal (gcdt-audit verify-model, reproduce-eval)",
            federation.verify_model,
        ),
    ]
    started = time.monotonic()
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("starting", total=len(steps))
            for label, step in steps:
                progress.update(task, description=label)
                step()
                progress.advance(task)
                console.print(f"[green]done[/] {label}")
        summary = federation.write_summary(workdir / "summary.json")
        _where_to_look(federation, summary, time.monotonic() - started)
        if serve:
            console.print("\nServers stay up. Press [bold]Ctrl-C[/] to stop every process.")
            while not stopping.is_set():
                time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\nstopping every process ...")
        federation.services.stop_all()
        raise typer.Exit(130) from None
    except DemoError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        federation.services.stop_all()
        raise typer.Exit(1) from None
    finally:
        federation.services.stop_all()


def _where_to_look(federation: Federation, summary: Path, elapsed: float) -> None:
    s = federation.state
    console.print(f"\n[bold]The local trust ran in {elapsed:.0f} s. Where to look:[/]")
    if s.portal_url:
        console.print(f"  portal (models, benchmarks, nodes, rounds, log): {s.portal_url}")
    if s.published_model:
        model = s.published_model
        console.print(
            f"  published model: {model['model_id']} version {model['version']}"
            f" ({model['content_hash']})"
        )
        if s.portal_url:
            console.print(f"    model card: {federation.model_card_url()}")
    if s.benchmark:
        console.print(f"  published benchmark: {s.benchmark.get('benchmark_id')}")
    if s.bundle:
        console.print(f"  transparency log bundle: {s.bundle}")
        console.print(
            f"    verify offline: .venv/bin/gcdt-audit verify-log {s.bundle} --anchors {s.anchors}"
        )
    for name, proof in s.proofs.items():
        console.print(f"  {name} proof: {proof} (gcdt-audit verify-proof --anchors ...)")
    console.print(f"  coordinator state: {s.coordinator}")
    for node in s.nodes:
        hosted = " (hosted: " + ", ".join(sorted(node.tenants)) + ")" if node.hosted else ""
        console.print(f"  node {node.node_id} [{node.jurisdiction}]{hosted}: {node.database_url}")
    if s.hosted_api:
        console.print(f"  hosted node API: {s.hosted_api}/docs")
    console.print(f"  logs of every process: {federation.config.workdir / 'logs'}")
    console.print(f"  summary for scripts: {summary}")


def main() -> None:
    """Entry point of ``gcdt-demo``; a closed output pipe is an exit, not a traceback."""
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - output piped to head
        sys.exit(1)
