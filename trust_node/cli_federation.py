"""``gcdt-node supernode`` and ``gcdt-node estimate``: the node's federated-model verbs."""

from __future__ import annotations

import math
import signal
import subprocess
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kernel.cli import DatabaseOpt, HomeOpt, print_json, settings
from trust_node.cli_common import node, run

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

#: Keys of ``gcdt-node estimate --json`` objects, plus the model version/hash.
ESTIMATE_KEYS = (
    "record_id",
    "tier1_direct_tco2e",
    "estimate_direct_tco2e",
    "estimate_low_tco2e",
    "estimate_high_tco2e",
    "corrected_direct_tco2e",
    "cbam_default_direct_tco2e",
    "cbam_default_direct_tco2e_per_t",
    "model_id",
    "model_version",
    "model_hash",
)


def supernode(
    superlink: Annotated[
        str,
        typer.Option(
            "--superlink",
            help="host:port of the coordinator's gate (mutual TLS, Fleet routes only).",
        ),
    ],
    port: Annotated[
        int,
        typer.Option(
            "--port",
            help="This SuperNode's local Runtime API port on 127.0.0.1, where the node's "
            "app runner takes its tasks (one per node on a machine).",
        ),
    ] = 9094,
    uplink_port: Annotated[
        int,
        typer.Option(
            "--uplink-port",
            help="Loopback port of the node's uplink, the only peer the SuperNode dials "
            "(0: any free port).",
        ),
    ] = 0,
    print_key: Annotated[
        bool,
        typer.Option(
            "--print-key", help="Only create/print the SuperNode auth public key path and exit."
        ),
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Run this node's Flower SuperNode in the foreground (Ctrl-C stops it).

    Three parts in one process group: the uplink (loopback TLS in, mutual TLS with the
    node's certificate out to the coordinator's gate), ``flower-supernode --isolation
    process``, and the app runner, which runs only this node's installed ClientApp and
    refuses any other app bundle (logged in the node's refusal log).
    """
    from trust_node.federation.app_runner import serve_client_tasks
    from trust_node.federation.supernode import SuperNodeSpec, ensure_auth_key, flower_env
    from trust_node.federation.uplink import start_uplink

    node_home = settings(home).home_dir.resolve()
    _, public = run(lambda: ensure_auth_key(node_home))
    if print_key:
        typer.echo(str(public))
        return
    uplink, local_cert = run(lambda: start_uplink(node_home, superlink, uplink_port))
    spec = SuperNodeSpec(node_home, uplink.address, port=port, root_certificates=local_cert)
    command = run(spec.command)
    err.print(f"SuperNode auth public key (register it with the coordinator): {public}")
    env = flower_env(node_home)
    proc = subprocess.Popen(command, env=env)  # noqa: S603 (argv built here, no shell)
    stop = threading.Event()

    def shut(*_: object) -> None:
        stop.set()
        proc.terminate()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut)

    # The SuperNode gone, the runner has nothing to serve.
    def watch() -> None:
        proc.wait()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    serve_client_tasks(node_home, spec.runtime_address, stop)
    uplink.stop()
    raise typer.Exit(code=proc.wait())


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def estimate(
    file: Annotated[Path, typer.Argument(help="A contract-valid CSV, Parquet or JSON file.")],
    home: HomeOpt = None,
    database_url: DatabaseOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array, one object per record.")
    ] = False,
) -> None:
    """Tier-1, the current model's estimate with interval, corrected figure, CBAM default.

    The file is validated against the data contract and NOT stored. Every model
    invocation is written to the node's accountability register.
    """
    from trust_node.estimates import as_dicts, estimate_records, load_current_model
    from trust_node.ingest.read import detect_format, read_table
    from trust_node.ingest.schema import validate_records

    context = node(home, database_url)
    frame = run(
        lambda: validate_records(read_table(file, detect_format(file.name), str(file)), str(file)),
        as_json=as_json,
    )
    frame["version"] = None  # not stored, so no store version
    rows = run(
        lambda: as_dicts(
            estimate_records(
                frame,
                load_current_model(context.settings),
                register=context.accountability,
                asked_by="cli:operator",
            )
        ),
        as_json=as_json,
    )
    production = {
        str(r): float(p) for r, p in zip(frame["record_id"], frame["production_t"], strict=True)
    }
    result = []
    for row in rows:
        per_t = _number(row.get("cbam_default_direct_tco2e_per_t"))
        item = {key: row.get(key) for key in ESTIMATE_KEYS}
        item["cbam_default_direct_tco2e"] = (
            None if per_t is None else per_t * production[str(row["record_id"])]
        )
        for key in (
            "tier1_direct_tco2e",
            "estimate_direct_tco2e",
            "estimate_low_tco2e",
            "estimate_high_tco2e",
            "corrected_direct_tco2e",
        ):
            item[key] = _number(item[key])
        result.append(item)
    if as_json:
        print_json(result)
        return
    model = next((r["model_id"] for r in result if r["model_id"]), None)
    table = Table(
        "record",
        "Tier-1 direct",
        "estimate [low, high]",
        "corrected",
        "CBAM default direct",
        "model",
        title=f"Estimates (tCO2e) from {model or 'no published model yet'}",
    )
    for r in result:
        est = r["estimate_direct_tco2e"]
        table.add_row(
            str(r["record_id"]),
            _fmt(r["tier1_direct_tco2e"]),
            ""
            if est is None
            else f"{est:,.1f} [{_fmt(r['estimate_low_tco2e'])}, {_fmt(r['estimate_high_tco2e'])}]",
            _fmt(r["corrected_direct_tco2e"]),
            _fmt(r["cbam_default_direct_tco2e"]),
            f"{r['model_id']} {r['model_version']}" if r["model_id"] else "-",
        )
    out.print(table)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def evaluation_set_cmd(
    output: Annotated[Path, typer.Argument(help="File to write (evaluation_set.json).")],
    jurisdictions: Annotated[
        str, typer.Option(help="Comma-separated ISO codes (the federation's jurisdictions).")
    ],
    records: Annotated[int, typer.Option(help="Records per jurisdiction.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed; use one no node used for its data.")] = 9001,
    start_year: Annotated[int, typer.Option("--start-year")] = 2019,
    end_year: Annotated[int, typer.Option("--end-year")] = 2024,
) -> None:
    """Write a seeded synthetic evaluation set for `gcdt-coordinator train --evaluation-set`.

    Same arguments, same bytes: auditors regenerate it to check the published one.
    """
    from trust_node.federation.evaluation_set import write_evaluation_set

    codes = [j.strip() for j in jurisdictions.split(",") if j.strip()]
    path = run(
        lambda: write_evaluation_set(
            output, codes, records=records, seed=seed, years=(start_year, end_year)
        ),
        also=(OSError,),
    )
    typer.echo(f"wrote evaluation set {path} ({len(codes)} jurisdiction(s), seed {seed})")
