"""``gcdt-node witness`` and ``gcdt-coordinator log`` together: the operator-driven witness
loop the demo runs, in process, on real homes (``init``, enrolment)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from coordinator.cli import app as coordinator_app
from governance.audit_cli import app as audit_app
from tests.trust_setup import enrol, init_coordinator
from trust_node.cli import app as node_app

runner = CliRunner()


def _ok(app: object, *args: str) -> str:
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.stdout


def test_nodes_cosign_and_the_auditor_counts_them(tmp_path: Path) -> None:
    coordinator = init_coordinator(tmp_path / "coordinator")
    home = ("--home", str(coordinator.home_dir))
    nodes = [enrol(coordinator, tmp_path / n, n, key_holder=False) for n in ("node-a", "node-b")]
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(_ok(coordinator_app, "log", "key", *home))
    first = _ok(coordinator_app, "log", "checkpoint", *home)
    assert first.startswith("gcdt/") and "\n\n— gcdt/" in first
    witness_keys = []
    for node in nodes:
        node_home = ("--home", str(node.home))
        witness_keys.append(_ok(node_app, "witness", "key", *node_home).strip())
        request = tmp_path / f"{node.home.name}.request"
        _ok(coordinator_app, "log", "witness-request", "--out", str(request), *home)
        line = _ok(
            node_app, "witness", "cosign", str(request), "--log-key", str(vkey_file), *node_home
        )
        assert line.startswith("— gcdt-witness/")
        (tmp_path / "cosig").write_text(line)
        assert "1 cosignature(s)" in _ok(
            coordinator_app, "log", "add-cosignatures", str(tmp_path / "cosig"), *home
        )
        # asking again from size 0 is a stale request: refused, not evidence
        again = runner.invoke(
            node_app, ["witness", "cosign", str(request), "--log-key", str(vkey_file), *node_home]
        )
        assert again.exit_code == 1 and "refused (409)" in again.output
    assert _ok(coordinator_app, "log", "checkpoint", *home).count("— gcdt-witness/") == 2
    bundle = tmp_path / "bundle.json"
    _ok(coordinator_app, "statistics-round", "export-log", str(bundle), *home)
    anchors = tmp_path / "anchors.json"
    anchors.write_text(
        json.dumps(
            {
                "format": "gcdt-anchors/1",
                "log": vkey_file.read_text().strip(),
                "witnesses": witness_keys,
                "quorum": 2,
            }
        )
    )
    report = json.loads(
        _ok(audit_app, "verify-log", str(bundle), "--anchors", str(anchors), "--json")
    )
    assert report["ok"] and len(report["witnesses"]) == 2
    proof = tmp_path / "e0.tlog-proof"
    _ok(coordinator_app, "log", "proof", "0", "--out", str(proof), *home)
    checked = json.loads(
        _ok(audit_app, "verify-proof", str(proof), "--anchors", str(anchors), "--json")
    )
    assert checked["ok"] and checked["kind"] == "enrolment" and len(checked["witnesses"]) == 2
    evidence = json.loads(
        _ok(
            node_app,
            "witness",
            "evidence",
            "--log-key",
            str(vkey_file),
            "--home",
            str(nodes[0].home),
            "--json",
        )
    )
    assert evidence["evidence"] == [] and evidence["state"]["halted"] is None
