"""Witness cosignatures reach the bundle, and auditors count them against pinned keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from governance.audit_cli import EXIT_FAILED, EXIT_OK, app
from governance.identity import Identity
from governance.tables import migrate
from governance.translog import TransparencyLog
from governance.translog.anchors import anchors_json
from governance.translog.note import SIG_COSIGNATURE_V1, NoteSigner
from governance.translog.witness import Witness
from kernel.db import make_engine

runner = CliRunner()


def _witness(tmp_path: Path, name: str, log: TransparencyLog) -> Witness:
    signer = NoteSigner(name, Ed25519PrivateKey.generate(), SIG_COSIGNATURE_V1)
    return Witness(tmp_path / name.replace("/", "_"), signer, [log.verifier])


@pytest.fixture
def log(tmp_path: Path) -> TransparencyLog:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    migrate(engine)
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    for i in range(5):
        log.append("round", {"seq": i})
    return log


def test_quorum_of_pinned_witnesses(log: TransparencyLog, tmp_path: Path) -> None:
    witnesses = [_witness(tmp_path, f"gcdt-witness/node-{n}", log) for n in "abc"]
    head = log.tree_head()
    for w in witnesses[:2]:
        assert log.add_cosignatures(head, w.add_checkpoint(log.witness_request(head, 0))) == 1
    bundle = log.export_bundle(tmp_path / "bundle.json", sign_head=False)
    anchors = tmp_path / "anchors.json"
    keys = [w.signer.verifier for w in witnesses]
    anchors.write_text(anchors_json(log.verifier, keys, 2))
    result = runner.invoke(app, ["verify-log", str(bundle), "--anchors", str(anchors), "--json"])
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert report["witnesses"] == sorted(k.fingerprint for k in keys[:2])

    anchors.write_text(anchors_json(log.verifier, keys, 3))
    result = runner.invoke(app, ["verify-log", str(bundle), "--anchors", str(anchors), "--json"])
    assert result.exit_code == EXIT_FAILED
    assert json.loads(result.stdout)["problems"][0]["code"] == "witness-quorum"


def test_a_forged_cosignature_rejects_the_checkpoint(log: TransparencyLog, tmp_path: Path) -> None:
    witness = _witness(tmp_path, "gcdt-witness/node-a", log)
    head = log.tree_head()
    line = witness.add_checkpoint(log.witness_request(head, 0))
    blob = bytearray(line.split(" ")[2].encode())
    blob[20] = ord("A") if blob[20] != ord("A") else ord("B")
    log.add_cosignatures(head, f"— gcdt-witness/node-a {blob.decode()}")
    bundle = log.export_bundle(tmp_path / "bundle.json", sign_head=False)
    result = runner.invoke(
        app,
        [
            "verify-log",
            str(bundle),
            "--log-key",
            str(log.verifier),
            "--witness-key",
            str(witness.signer.verifier),
            "--quorum",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == EXIT_FAILED
    assert json.loads(result.stdout)["problems"][0]["code"] == "checkpoint-invalid"
