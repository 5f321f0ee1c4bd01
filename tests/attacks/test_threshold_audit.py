"""Attack: a dishonest coordinator logs publications the auditors' tools must not pass.

On the real portal export (``tests.coordinator.portal_home``: real CKKS sums, key-holder
attestations, transparency log), the coordinator appends what the publication store would
refuse: a model and a benchmark publication claiming ``t = 1`` with a single key holder's
attestation, and a model publication with no signed attestations at all. ``gcdt-audit
verify-model`` and ``verify-benchmark`` fail the ``t = 1`` claims; ``verify-model``
without flags fails the unattested one, and only ``--allow-unattested`` inspects it,
saying so.
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
from coordinator.store import CoordinatorStore
from coordinator.store.repository import open_engine
from governance.audit_cli import app
from open_models.network import flatten
from tests.coordinator.portal_home import MODEL_ID, PortalWorld, publish_model, shared_portal_home

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    return shared_portal_home(tmp_path_factory)


def export(world: PortalWorld, target: Path) -> Path:
    """The portal's export, unpacked, as an auditor downloads it."""
    engine = open_engine(world.settings)
    data = TransparencyService(engine, public_log(engine, world.home)).export()
    engine.dispose()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(target)
    return target


def republish(
    world: PortalWorld, version: str, card: dict[str, Any], publication: dict[str, Any]
) -> None:
    """Publish (and log) the world's model under ``version`` with ``publication`` fields."""
    engine = open_engine(world.settings)
    registry = ModelRegistry(engine)
    files = registry.get(MODEL_ID, world.version).files
    weights = flatten(world.model.weights, world.model.layout)
    publish_model(
        world.log, registry, weights, card, version, publication, files["evaluation_set.json"]
    )
    engine.dispose()


def _audit(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def _codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


def test_publications_claiming_t_1_fail_both_audit_verbs(
    world: PortalWorld, tmp_path: Path
) -> None:
    # a model: one attestation envelope per round, t = 1 in the publication and the card
    envelopes = {r: envs[:1] for r, envs in world.publication["attestations"].items()}
    card = {**copy.deepcopy(dict(world.model.card)), "t": 1}
    republish(world, "t-one", card, {"t": 1, "attestations": envelopes})
    # a benchmark: the published one re-logged under a new id with t = 1 and one attestation
    engine = open_engine(world.settings)
    body = dict(CoordinatorStore(engine).publication(world.benchmark_id).body)
    engine.dispose()
    forged_id = world.benchmark_id + "-t1"
    world.log.append(
        "publication",
        {**body, "benchmark_id": forged_id, "t": 1, "attestations": body["attestations"][:1]},
    )
    world.log.tree_head()

    root = export(world, tmp_path / "export")
    code, report = _audit("verify-model", MODEL_ID, "--export", str(root), "--version", "t-one")
    assert code == 1 and "t-below-minimum" in _codes(report), report
    code, report = _audit(
        "verify-benchmark",
        forged_id,
        "--bundle",
        str(root / "log-bundle.json"),
        "--log-key",
        str(world.log.verifier),
    )
    assert code == 1, report
    assert any("t=1" in p["message"] for p in report["problems"]), report


def test_verify_model_without_flags_fails_a_publication_lacking_attestations(
    world: PortalWorld, tmp_path: Path
) -> None:
    republish(world, "unattested", dict(world.model.card), {"t": 2})
    root = export(world, tmp_path / "export")
    args = ("verify-model", MODEL_ID, "--export", str(root), "--version", "unattested")
    code, report = _audit(*args)
    assert code == 1 and _codes(report) == {"unchecked"}, report
    assert not report["ok"] and report["unattested_allowed"] is False
    # only an explicit flag inspects it, and the output says it was inspected unattested
    code, report = _audit(*args, "--allow-unattested")
    assert code == 0 and report["unattested_allowed"] is True and report["unchecked"], report
    assert "--allow-unattested" in report["summary"]
    text = runner.invoke(app, [*args, "--allow-unattested"]).output
    assert "INSPECTED WITHOUT SIGNED ATTESTATIONS" in text and "UNCHECKED" in text
