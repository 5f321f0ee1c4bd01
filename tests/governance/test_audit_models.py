"""``gcdt-audit verify-model`` / ``reproduce-eval`` on a real portal export, and tampering.

Each tampering test changes one thing an attacker (or a dishonest coordinator) could change
and expects a non-zero exit whose problems name what failed.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coordinator.portal.services import TransparencyService, public_log
from coordinator.registry import ModelRegistry
from coordinator.store.repository import open_engine
from governance.audit_cli import app
from governance.identity import Identity
from governance.translog import TransparencyLog
from open_models.published import PublishedModel
from tests.coordinator.portal_home import (
    MODEL_ID,
    PortalServer,
    PortalWorld,
    publish_model,
    shared_portal_home,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    return shared_portal_home(tmp_path_factory)


def export(world: PortalWorld, target: Path) -> Path:
    engine = open_engine(world.settings)
    data = TransparencyService(engine, public_log(engine, world.home)).export()
    engine.dispose()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(target)
    return target


def audit(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


def republish(
    world: PortalWorld, version: str, card: dict[str, Any], publication: dict[str, Any]
) -> None:
    """What a dishonest coordinator could do: publish (and log) a model it altered."""
    engine = open_engine(world.settings)
    registry = ModelRegistry(engine)
    files = registry.get(MODEL_ID, world.version).files
    from open_models.network import flatten

    weights = flatten(world.model.weights, world.model.layout)
    publish_model(
        world.log, registry, weights, card, version, publication, files["evaluation_set.json"]
    )
    engine.dispose()


def model_dir(root: Path, version: str) -> Path:
    return root / "models" / MODEL_ID / version


def test_published_model_verifies_and_its_evaluation_reproduces(
    world: PortalWorld, tmp_path: Path
) -> None:
    root = export(world, tmp_path / "export")
    code, report = audit(
        "verify-model", MODEL_ID, "--export", str(root), "--version", world.version, "--strict"
    )
    assert code == 0, report
    assert report["rounds"] == [1, 2] and report["signers"] == ["node-0", "node-1"]
    assert report["content_hash"] == world.model.content_hash and not report["unchecked"]
    assert report["pinned"] is False and "UNPINNED" in report["summary"]
    # pinned to the operator's key it passes; pinned to another key the log fails
    pinned = ("verify-model", MODEL_ID, "--export", str(root), "--version", world.version)
    code, report = audit(*pinned, "--log-key", str(world.log.verifier))
    assert code == 0 and report["pinned"] is True, report
    other = TransparencyLog(world.log.engine, Identity.generate("coordinator")).verifier
    code, report = audit(*pinned, "--log-key", str(other))
    assert code == 1 and "checkpoint #0 is not signed by the pinned log key" in str(report)
    code, report = audit(
        "reproduce-eval", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 0, report


def test_flipped_weight_byte_fails(world: PortalWorld, tmp_path: Path) -> None:
    root = export(world, tmp_path / "export")
    weights = model_dir(root, world.version) / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0x01
    weights.write_bytes(bytes(data))
    code, report = audit(
        "verify-model", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 1 and "weights-hash" in codes(report), report
    code, report = audit(
        "reproduce-eval", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 1 and "weights-hash" in codes(report)


def test_altered_card_claim_fails_even_with_a_recomputed_hash(
    world: PortalWorld, tmp_path: Path
) -> None:
    root = export(world, tmp_path / "export")
    directory = model_dir(root, world.version)
    document = json.loads((directory / "model.json").read_text())
    document["card"]["federation"]["nodes"][0]["epsilon_spent"] = 0.5
    (directory / "model.json").write_text(json.dumps(document))
    code, report = audit(
        "verify-model", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 1 and "weights-hash" in codes(report), report
    # A forger who rewrites the files consistently still cannot match the logged hash.
    forged = PublishedModel(MODEL_ID, world.version, world.model.weights, card=document["card"])
    forged.save(directory)
    code, report = audit(
        "verify-model", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 1 and codes(report) == {"hash-not-logged"}, report


def test_card_lying_about_nodes_and_privacy_fails_although_published(
    world: PortalWorld, tmp_path: Path
) -> None:
    card = copy.deepcopy(dict(world.model.card))
    card["federation"]["nodes"] = card["federation"]["nodes"][:2]
    card["federation"]["nodes"][1]["epsilon_spent"] = 99.0
    card["federation"]["nodes"][1]["jurisdiction"] = "FR"
    republish(world, "lie-card", card, {"t": 2, "attestations": world.publication["attestations"]})
    root = export(world, tmp_path / "export")
    code, report = audit("verify-model", MODEL_ID, "--export", str(root), "--version", "lie-card")
    assert code == 1, report
    assert {"card-nodes", "card-privacy"} <= codes(report)
    messages = " ".join(p["message"] for p in report["problems"])
    assert "node-2" in messages and "exceeds budget" in messages and "'FR'" in messages


def test_publication_with_a_dropped_attestation_fails(world: PortalWorld, tmp_path: Path) -> None:
    envelopes = copy.deepcopy(world.publication["attestations"])
    envelopes["1"] = envelopes["1"][:1]
    republish(world, "lie-attest", dict(world.model.card), {"t": 2, "attestations": envelopes})
    root = export(world, tmp_path / "export")
    code, report = audit("verify-model", MODEL_ID, "--export", str(root), "--version", "lie-attest")
    assert code == 1 and codes(report) == {"attestations-below-t"}, report
    assert report["problems"][0]["where"].startswith("round 1")


def test_publication_without_envelopes_is_unchecked_and_fails_unless_allowed(
    world: PortalWorld, tmp_path: Path
) -> None:
    republish(world, "no-envelopes", dict(world.model.card), {"t": 2})
    root = export(world, tmp_path / "export")
    args = ("verify-model", MODEL_ID, "--export", str(root), "--version", "no-envelopes")
    for strict in ((), ("--strict",)):  # --strict is the default
        code, report = audit(*args, *strict)
        assert code == 1 and codes(report) == {"unchecked"}
        assert len(report["unchecked"]) == 2
    code, report = audit(*args, "--allow-unattested")
    assert code == 0 and len(report["unchecked"]) == 2 and report["unattested_allowed"] is True


def test_evaluation_tampering_fails(world: PortalWorld, tmp_path: Path) -> None:
    card = copy.deepcopy(dict(world.model.card))
    card["evaluation"]["overall"]["model"]["mae_tco2e_per_t"] *= 0.5  # a flattering claim
    republish(world, "lie-eval", card, {"t": 2, "attestations": world.publication["attestations"]})
    root = export(world, tmp_path / "export")
    code, report = audit("reproduce-eval", MODEL_ID, "--export", str(root), "--version", "lie-eval")
    assert code == 1 and codes(report) == {"evaluation-mismatch"}, report
    assert report["problems"][0]["where"] == "evaluation.overall.model.mae_tco2e_per_t"

    evaluation_set = model_dir(root, world.version) / "evaluation_set.json"
    evaluation_set.write_bytes(evaluation_set.read_bytes().replace(b'"year":2023', b'"year":2022'))
    code, report = audit(
        "reproduce-eval", MODEL_ID, "--export", str(root), "--version", world.version
    )
    assert code == 1 and codes(report) == {"evaluation-set-hash"}, report


def test_verify_against_a_running_portal(world: PortalWorld) -> None:
    server = PortalServer(world.settings).start()
    try:
        code, report = audit(
            "verify-model", MODEL_ID, "--portal", server.url, "--version", world.version
        )
        assert code == 0, report
        code, report = audit(
            "reproduce-eval", MODEL_ID, "--portal", server.url, "--version", world.version
        )
        assert code == 0, report
    finally:
        server.stop()


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    code, report = audit("verify-model", MODEL_ID, "--export", str(tmp_path / "bad.zip"))
    assert code == 2 and codes(report) == {"input-unreadable"}
    code, report = audit("verify-model", MODEL_ID, "--export", str(tmp_path / "missing"))
    assert code == 2
