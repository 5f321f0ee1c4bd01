"""The documented commands, as separate processes: init, enrol, found the trust (members
sign), serve, key ceremony, fetch keys.

This is the sequence ``docs/operator-guide.md`` ("Joining a trust") gives operators and the
one a multi-process test or demo uses; the server runs as its own process on a free
loopback port and stops cleanly on SIGINT.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GCDT_")}
    return env


def _run(*args: str) -> str:
    result = subprocess.run(
        [str(BIN / args[0]), *args[1:]], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _init_and_enrol(coordinator: Path, name: str, home: Path, pins: list[str]) -> None:
    """``gcdt-node init``, the coordinator approves the request, ``gcdt-node enrol``."""
    out = json.loads(
        _run(
            "gcdt-node",
            "init",
            "--home",
            str(home),
            "--node-id",
            name,
            "--jurisdiction",
            "IN",
            "--json",
        )
    )
    enrolled = json.loads(
        _run(
            "gcdt-coordinator",
            "enrol",
            out["enrolment_request"],
            "--home",
            str(coordinator),
            "--out",
            str(home / "response.json"),
            "--json",
        )
    )
    assert enrolled["identity_key_id"] == out["identity_key_id"]
    _run("gcdt-node", "enrol", str(home / "response.json"), "--home", str(home), *pins)


def _found(coordinator: Path, nodes: dict[str, Path]) -> None:
    """Version 1 of the trust policy: proposed by the coordinator, signed by every member."""
    proposal = coordinator / "founding.toml"
    holders = ",".join(nodes)
    _run(
        "gcdt-coordinator",
        "policy",
        "propose",
        "--out",
        str(proposal),
        "--key-group",
        f"g1={holders}",
        "--home",
        str(coordinator),
    )
    signatures = []
    for home in nodes.values():
        sig = home / "founding.sig.json"
        _run(
            "gcdt-node",
            "policy",
            "sign-trust",
            str(proposal),
            "--out",
            str(sig),
            "--home",
            str(home),
        )
        signatures += ["--signature", str(sig)]
    applied = json.loads(
        _run(
            "gcdt-coordinator",
            "policy",
            "apply",
            str(proposal),
            *signatures,
            "--home",
            str(coordinator),
            "--json",
        )
    )
    assert applied["version"] == 1


@pytest.mark.slow
def test_operators_join_a_trust_with_the_cli(tmp_path: Path) -> None:
    coordinator = tmp_path / "coordinator"
    init = json.loads(_run("gcdt-coordinator", "init", "--home", str(coordinator), "--json"))
    pins = [
        "--expect-ca-fingerprint",
        init["trust_root_fingerprint_sha256"],
        "--expect-coordinator-fingerprint",
        init["identity_key_fingerprint_sha256"],
    ]
    nodes = {name: tmp_path / name for name in ("node-a", "node-b")}
    for name, home in nodes.items():
        _init_and_enrol(coordinator, name, home, pins)
    _found(coordinator, nodes)

    server = subprocess.Popen(
        [str(BIN / "gcdt-coordinator"), "serve", "--home", str(coordinator), "--port", "0"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        address = f"localhost:{match.group(1)}"
        ceremony = json.loads(
            _run(
                "gcdt-node",
                "key-ceremony",
                "--home",
                str(nodes["node-a"]),
                "--address",
                address,
                "--json",
            )
        )
        assert sorted(ceremony["key_holders"]) == ["node-a", "node-b"]
        for home in nodes.values():
            fetched = json.loads(
                _run("gcdt-node", "fetch-keys", "--home", str(home), "--address", address, "--json")
            )
            assert fetched["key_id"] == ceremony["key_id"] and fetched["key_holder"] is True
        server.send_signal(signal.SIGINT)
        stdout, _ = server.communicate(timeout=30)
        assert server.returncode == 0
        assert "stopped" in stdout
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
