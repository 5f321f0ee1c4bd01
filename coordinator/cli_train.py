"""``gcdt-coordinator superlink | register-supernode | train``: federated training verbs.

See :mod:`coordinator.federation.launch` for what each Flower process is started with.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from coordinator.cli_common import coordinator, run
from coordinator.federation.config import DEFAULT_ROUND_TIMEOUT_S, FederationConfig
from coordinator.federation.gate import DEFAULT_GATE_HOST, DEFAULT_GATE_PORT
from coordinator.federation.launch import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SuperLinkSpec,
    is_listening,
    register_supernode,
    start_superlink,
    stop_process,
    submit_run,
    wait_for_run,
)
from kernel.cli import HomeOpt, JsonOpt, settings

HostOpt = Annotated[
    str,
    typer.Option(
        "--host",
        help="The SuperLink's own address (Fleet, Control and Runtime share it in Flower "
        "1.41, Control unauthenticated): keep it on loopback; nodes use the gate.",
    ),
]
PortOpt = Annotated[int, typer.Option("--port", help="SuperLink port (all its APIs).")]
GateHostOpt = Annotated[
    str,
    typer.Option(
        "--gate-host",
        help="Where nodes connect: the gate (mutual TLS with enrolled node certificates, "
        "Fleet routes only). An interface nodes can reach, e.g. 0.0.0.0.",
    ),
]
GatePortOpt = Annotated[int, typer.Option("--gate-port", help="The gate's port.")]


def _spec(
    home: Path | None,
    host: str,
    port: int,
    gate_host: str = DEFAULT_GATE_HOST,
    gate_port: int = DEFAULT_GATE_PORT,
) -> SuperLinkSpec:
    return SuperLinkSpec(settings(home).home_dir.resolve(), host, port, gate_host, gate_port)


def superlink(
    home: HomeOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    gate_host: GateHostOpt = DEFAULT_GATE_HOST,
    gate_port: GatePortOpt = DEFAULT_GATE_PORT,
) -> None:
    """Run the SuperLink, its gate and the ServerApp runner in the foreground; Ctrl-C stops.

    Only the trust's own app bundle is ever run: any other submitted app is refused
    (``GCDT_HOME/flower/refused-apps.jsonl``); nodes reach only the gate.
    """
    spec = _spec(home, host, port, gate_host, gate_port)
    proc = run(lambda: start_superlink(spec))
    typer.echo(
        f"SuperLink on {spec.address} (loopback: Fleet, Control, Runtime); gate for nodes on "
        f"{spec.gate_address} (log: {spec.home / 'flower' / 'superlink.log'})"
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_process(proc))
    proc.wait()


def register_supernode_cmd(
    public_key: Annotated[Path, typer.Argument(help="The node's supernode_auth_key.pub.")],
    name: Annotated[str | None, typer.Option("--name", help="The node's id (a label).")] = None,
    home: HomeOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
) -> None:
    """Allow a node's SuperNode (its auth public key) to connect to the SuperLink."""
    node = run(lambda: register_supernode(_spec(home, host, port), public_key, name))
    typer.echo(f"registered SuperNode {name or public_key.name}: Flower node {node}")


def train(
    rounds: Annotated[int, typer.Option("--rounds", help="Federated rounds.")] = 3,
    quorum: Annotated[
        int,
        typer.Option(
            help="Valid updates from distinct nodes a round needs (>= 2; the policy's m raises it)."
        ),
    ] = 2,
    min_nodes: Annotated[int, typer.Option("--min-nodes", help="Nodes to wait for.")] = 2,
    t: Annotated[
        int,
        typer.Option(
            "--t", help="Matching key-holder attestations (>= 2; the policy's t raises it)."
        ),
    ] = 2,
    clip_norm: Annotated[float, typer.Option("--clip-norm")] = 1.0,
    round_timeout: Annotated[float, typer.Option("--round-timeout")] = DEFAULT_ROUND_TIMEOUT_S,
    timeout: Annotated[float, typer.Option("--timeout", help="Give up after (s).")] = 1800.0,
    evaluation_set: Annotated[
        Path | None,
        typer.Option(
            "--evaluation-set",
            help="Synthetic evaluation set (`gcdt-node evaluation-set`) to evaluate and publish "
            "the model on.",
        ),
    ] = None,
    home: HomeOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    gate_host: GateHostOpt = DEFAULT_GATE_HOST,
    gate_port: GatePortOpt = DEFAULT_GATE_PORT,
    as_json: JsonOpt = False,
) -> None:
    """Run federated training on the SuperLink (started with its gate if none listens)."""
    spec = _spec(home, host, port, gate_host, gate_port)

    def configure() -> FederationConfig:
        config = FederationConfig(
            coordinator_home=spec.home,
            rounds=rounds,
            quorum=quorum,
            min_nodes=min_nodes,
            t=t,
            clip_norm=clip_norm,
            round_timeout_s=round_timeout,
            evaluation_set=evaluation_set.resolve() if evaluation_set else None,
        )
        if config.evaluation_set is not None:
            from coordinator.federation.publication import read_evaluation_set_file

            read_evaluation_set_file(config.evaluation_set)  # refuse a bad file before training
        return config

    config = run(configure, as_json=as_json)
    run_id, status, published = run(lambda: _train(spec, config, timeout), as_json=as_json)
    models = [
        {"model_id": m[0], "version": m[1], "content_hash": m[2], "log_index": m[3]}
        for m in published
    ]
    if as_json:
        typer.echo(json.dumps({"run_id": run_id, "status": status, "published": models}, indent=2))
    elif models:
        m = models[0]
        typer.echo(
            f"run {run_id} {status}: published {m['model_id']} {m['version']} "
            f"({m['content_hash']}, log entry {m['log_index']})"
        )
    else:
        typer.echo(
            f"run {run_id} {status}: no model published (no round reached quorum "
            "and t attestations; see the transparency log)"
        )
    if not published or status != "finished:completed":
        raise typer.Exit(code=1)


def _train(
    spec: SuperLinkSpec, config: FederationConfig, timeout: float
) -> tuple[int, str, list[tuple[str, str, str, int]]]:
    """Submit the run (starting a SuperLink if none listens), wait, list what it published."""
    started: subprocess.Popen[bytes] | None = None
    try:
        if not is_listening(spec.host, spec.port):
            started = start_superlink(spec)
        run_id = submit_run(spec, config)
        typer.echo(f"submitted run {run_id}; waiting (at most {timeout:.0f} s)", err=True)
        status = wait_for_run(spec, run_id, timeout)
        context = coordinator(spec.home)
        published = [m for m in context.models.list() if m[1] == f"run-{run_id}"]
    finally:
        if started is not None:
            stop_process(started)
    return run_id, status, published
