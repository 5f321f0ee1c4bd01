"""The coordinator's SuperLink process: ``flower-superlink``, its gate, the ServerApp runner.

One process group, started by :func:`coordinator.federation.launch.start_superlink` (so by
``gcdt-coordinator superlink`` and ``train``): this module starts ``flower-superlink``
(``--isolation process``, on loopback) as its child, the gate nodes connect to
(:mod:`coordinator.federation.gate`) in a thread, and, in its own main thread, runs
:func:`coordinator.federation.app_runner.serve_server_tasks`, so no run of that SuperLink
is ever served by code other than the installed ServerApp. SIGTERM/SIGINT stop both.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from coordinator.federation.app_runner import serve_server_tasks
from coordinator.federation.gate import start_gate
from coordinator.federation.launch import SuperLinkSpec, flower_env, is_listening
from governance.pki import HomeLayout


def main(argv: list[str] | None = None) -> int:
    """Start the SuperLink, serve its ServerApp tasks until a signal; the SuperLink's exit code."""
    parser = argparse.ArgumentParser(prog="python -m coordinator.federation.superlink_host")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--gate-host", required=True)
    parser.add_argument("--gate-port", type=int, required=True)
    args = parser.parse_args(argv)
    spec = SuperLinkSpec(args.home, args.host, args.port, args.gate_host, args.gate_port)
    proc = subprocess.Popen(spec.command(), env=flower_env(spec.home))  # noqa: S603 (our argv)
    stop = threading.Event()

    def shut(*_: object) -> None:
        stop.set()
        if proc.poll() is None:
            proc.terminate()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut)

    def watch() -> None:
        proc.wait()
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        while not stop.is_set() and not is_listening(spec.host, spec.port):
            time.sleep(0.2)
        gate = start_gate(spec.home, spec.gate_host, spec.gate_port, spec.address)
        try:
            ca = HomeLayout(spec.home).ca_cert.read_bytes()
            secret = spec.superexec_secret.read_bytes()
            serve_server_tasks(spec.home, spec.address, ca, secret, stop)
        finally:
            gate.stop()
    finally:
        shut()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
