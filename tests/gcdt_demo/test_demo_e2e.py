"""The whole trust in one command, smaller: every party a process, as README command (1).

Asserts what the main job promises: a model and a benchmark were published, every
log entry verifies offline, and the coordinator's state directory holds no raw record value
and no CKKS secret key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCDT_", "FLWR_"))}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo") / "run"
    done = _run(
        "gcdt-demo",
        "--workdir",
        str(workdir),
        "--nodes",
        "3",
        "--rounds",
        "1",
        "--records",
        "80",
        "--no-serve",
        "--portal-port",
        "0",
        timeout=900,
    )
    logs = (
        "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted((workdir / "logs").glob("*.log"))
        )
        if (workdir / "logs").exists()
        else ""
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{logs}"
    assert "Where to look" in done.stdout
    return workdir


@pytest.mark.slow
def test_model_and_benchmark_published_and_log_verifies(demo: Path) -> None:
    summary = json.loads((demo / "summary.json").read_text())
    assert summary["published_model"]["content_hash"].startswith("sha256:")
    assert summary["benchmark_id"]
    assert summary["portal_url"].startswith("http://127.0.0.1:")
    assert len(summary["nodes"]) == 3 and sum(n["hosted"] for n in summary["nodes"]) == 1
    for node in summary["nodes"]:
        assert Path(node["home"]).is_dir() and node["database_url"].startswith("sqlite:///")
    anchors = ("--anchors", summary["anchors"])
    verified = _run(
        "gcdt-audit", "verify-log", summary["log_bundle"], *anchors, "--json", timeout=120
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    # every node witnessed the latest checkpoint; every publication has an offline proof
    assert len(report["witnesses"]) == len(summary["nodes"])
    assert Path(summary["checkpoint"]).read_text().count("— gcdt-witness/") == 3
    assert set(summary["proofs"]) == {"benchmark", "model"}
    for proof in summary["proofs"].values():
        checked = _run("gcdt-audit", "verify-proof", proof, *anchors, "--json", timeout=120)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    entries = json.loads(Path(summary["log_bundle"]).read_text())["entries"]
    assert report["ok"] is True and len(entries) > 10
    kinds = {e["kind"] for e in entries}
    assert {"enrolment", "publication"} <= kinds


@pytest.mark.slow
def test_coordinator_holds_no_record_value_and_no_secret_key(demo: Path) -> None:
    import tenseal as ts

    coordinator = demo / "coordinator"
    blobs = [p.read_bytes() for p in coordinator.rglob("*") if p.is_file()]
    assert blobs
    records = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in (demo / "nodes").glob("*/records.csv")
    )
    # Long identifiers and full-precision values are unique enough to be canaries.
    canaries = {r for r in records["record_id"] if len(r) > 12}
    canaries |= {
        v
        for col in ("production_t", "coal_tj", "electricity_mwh")
        for v in records[col]
        if len(v) >= 7
    }
    assert len(canaries) > 100
    leaked = {c for c in canaries for blob in blobs if c.encode() in blob}
    assert not leaked, f"raw record values in the coordinator's state: {sorted(leaked)[:5]}"
    contexts = 0
    for where, blob in _blobs(coordinator):
        try:
            context = ts.context_from(blob)
        except Exception:
            continue  # not a TenSEAL context
        contexts += 1
        assert not context.is_private(), f"{where} holds a CKKS secret key"
    assert contexts >= 1, "the coordinator's public context should be found and checked"


def _blobs(home: Path) -> list[tuple[str, bytes]]:
    """Every file, and every binary cell of every SQLite table, of a state directory."""
    found: list[tuple[str, bytes]] = []
    for path in home.rglob("*"):
        if not path.is_file() or path.stat().st_size < 1000:
            continue
        found.append((str(path), path.read_bytes()))
        if path.suffix != ".sqlite":
            continue
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    found += [
                        (f"{path}:{table}", v)
                        for v in row
                        if isinstance(v, bytes) and len(v) > 1000
                    ]
    return found
