"""Running the parties' commands: one-shot steps and long-running services.

Every process gets its own log file under the work directory and an environment with no
inherited ``GCDT_*`` variables (each party is told its home explicitly). Services are
stopped in reverse start order: SIGINT first (clean shutdown), then SIGTERM, then SIGKILL,
each with a bounded wait, so Ctrl-C on the demo leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


class DemoError(Exception):
    """A step of the demo failed; the message names the step and the log to read."""


def party_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a party's process: no inherited ``GCDT_*``, no telemetry.

    Each party must see only the settings the demo gives it, as on its own machine.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCDT_")}
    env.update(
        FLWR_TELEMETRY_ENABLED="0",
        FLWR_DISABLE_UPDATE_CHECK="1",
        CODECARBON_LOG_LEVEL="error",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


@dataclass
class Runner:
    """Runs commands with their output in ``logs/<name>.log``."""

    logs: Path
    env: dict[str, str] = field(default_factory=party_env)

    def run(self, name: str, *args: str, timeout: float = 300) -> str:
        """Run a command to completion; return its stdout; raise DemoError on failure."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        command = [str(BIN / args[0]), *args[1:]]
        with log.open("a") as err:
            err.write(f"$ {' '.join(command)}\n")
            err.flush()
            try:
                result = subprocess.run(  # noqa: S603 - our own console scripts
                    command,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise DemoError(f"{name}: no answer within {timeout:.0f} s (log: {log})") from exc
            err.write(result.stdout)
        if result.returncode != 0:
            raise DemoError(f"{name} failed (exit {result.returncode}); log: {log}\n{_tail(log)}")
        return result.stdout

    def run_json(self, name: str, *args: str, timeout: float = 300) -> Any:
        out = self.run(name, *args, "--json", timeout=timeout)
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise DemoError(f"{name}: expected JSON output, got: {out[:300]!r}") from exc


@dataclass
class Service:
    name: str
    process: subprocess.Popen[str]
    log: Path
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """Block until a line of the service's stdout matches ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            while seen < len(self.lines):
                match = regex.search(self.lines[seen])
                seen += 1
                if match:
                    return match
            if self.process.poll() is not None and seen >= len(self.lines):
                raise DemoError(
                    f"{self.name} exited (code {self.process.returncode}) before it was ready;"
                    f" log: {self.log}\n{_tail(self.log)}"
                )
            time.sleep(0.1)
        raise DemoError(f"{self.name}: not ready within {timeout:.0f} s; log: {self.log}")


@dataclass
class ServiceGroup:
    """Long-running parties, stopped together (reverse order) on exit or Ctrl-C."""

    logs: Path
    env: dict[str, str] = field(default_factory=party_env)
    services: list[Service] = field(default_factory=list)

    def start(self, name: str, *args: str, env: Mapping[str, str] | None = None) -> Service:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        command = [str(BIN / args[0]), *args[1:]]
        handle = log.open("a")
        handle.write(f"$ {' '.join(command)}\n")
        handle.flush()
        process = subprocess.Popen(  # noqa: S603 - our own console scripts
            command,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            start_new_session=True,
        )
        service = Service(name, process, log)

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                service.lines.append(line)
                handle.write(line)
                handle.flush()
            handle.close()

        service._reader = threading.Thread(target=pump, daemon=True)
        service._reader.start()
        self.services.append(service)
        return service

    def stop_all(self, grace: float = 10) -> None:
        for service in reversed(self.services):
            _stop(service.process, grace)
        self.services.clear()


def _stop(process: subprocess.Popen[str], grace: float) -> None:
    if process.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
