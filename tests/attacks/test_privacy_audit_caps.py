"""Attack: a coordinator publishes under budgets above the trust policy's privacy cap.

Real coordinator pieces: the trust policy written, signed and logged as
``gcdt-coordinator policy apply`` logs it (``coordinator.membership``), a real
statistics round (real CKKS sums, key-holder attestations), a model publication (the
portal home's real training log), and the auditors' real ``gcdt-audit`` verbs. Before issue
14 neither ``verify-model`` nor ``verify-benchmark`` knew the cap: a card listing a node
trained under epsilon 1000, or a benchmark released at epsilon 20 against a cap of 8,
verified.
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
from coordinator.statistics import StatisticsService
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.audit_cli import app
from governance.benchmark_audit import verify_benchmark
from governance.ckks import CkksKey
from governance.envelope import seal
from governance.policy.models import PublicationThresholds
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from open_models.network import flatten
from tests.coordinator.portal_home import MODEL_ID, PortalWorld, make_portal_home, publish_model
from trust_node.statistics import prepare_release
from trust_node.statistics.attest import attest_statistics

LOOSE = 1000.0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PortalWorld:
    """A populated coordinator home whose member-signed trust policy (default cap,
    epsilon 8) is logged as ``policy apply`` logs it (``coordinator.membership``)."""
    return make_portal_home(tmp_path_factory.mktemp("audit-caps"))


def _export(world: PortalWorld, target: Path) -> Path:
    engine = open_engine(world.settings)
    data = TransparencyService(engine, public_log(engine, world.home)).export()
    engine.dispose()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(target)
    return target


def _verify_model(root: Path, version: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        app, ["verify-model", MODEL_ID, "--export", str(root), "--version", version, "--json"]
    )
    return result.exit_code, json.loads(result.stdout)


def test_a_card_counting_a_node_above_the_cap_fails(world: PortalWorld, tmp_path: Path) -> None:
    card = copy.deepcopy(dict(world.model.card))
    card["federation"]["nodes"][0]["epsilon_budget"] = LOOSE
    engine = open_engine(world.settings)
    registry = ModelRegistry(engine)
    files = registry.get(MODEL_ID, world.version).files
    publish_model(
        world.log,
        registry,
        flatten(world.model.weights, world.model.layout),
        card,
        "loose-card",
        {"t": 2, "attestations": world.publication["attestations"]},
        files["evaluation_set.json"],
    )
    engine.dispose()
    code, report = _verify_model(_export(world, tmp_path / "export"), "loose-card")
    assert code == 1, report
    caps = [p for p in report["problems"] if p["code"] == "card-privacy-cap"]
    assert caps and "budget epsilon 1000 exceeds the trust's cap 8" in caps[0]["message"], report


def test_a_benchmark_released_above_the_cap_fails(world: PortalWorld) -> None:
    engine = open_engine(world.settings)
    store = CoordinatorStore(engine)
    key = CkksKey.create()  # this round's own key: only sums of its submissions matter here
    service = StatisticsService(
        store, world.log, key.public(), PublicationThresholds(k=3, m=2, t=2)
    )
    nodes = ["node-0", "node-1"]  # the key holders (KEY_HOLDERS)
    terms = service.open_round(
        years=(2022, 2023), epsilon=20.0, delta=1e-5, expected_nodes=nodes[:2]
    )
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id in nodes[:2]:
        release = prepare_release(
            terms,
            key=key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(100.0, 1e-5),
            load_records=lambda n=node_id: world.records[n],  # type: ignore[misc]
        )
        envelope = seal(world.nodes[node_id], "statistics_submission", terms.round_id, {})
        service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    request = service.request_decryption(terms.round_id)
    for node_id in nodes[:2]:
        service.accept_attestation(
            request.request_id,
            attest_statistics(world.nodes[node_id], key, terms, request.vector),
        )
    payload = service.publish(terms.round_id)
    path = world.log.export_bundle(world.home / "bundle-caps.json")
    engine.dispose()
    report = verify_benchmark(json.loads(path.read_text()), str(payload["benchmark_id"]))
    assert not report.ok
    assert any("round epsilon 20 exceeds the trust's cap 8" in p for p in report.problems), (
        report.problems
    )
