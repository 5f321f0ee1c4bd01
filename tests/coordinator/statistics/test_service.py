"""Coordinator statistics rounds in process: checks, sum, decrypt-and-attest, publication."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coordinator.statistics import (
    NotEnoughSubmissionsError,
    PublicationRefusedError,
    StatisticsService,
    SubmissionRejectedError,
)
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.ckks import CkksKey, EncryptedVector, MissingSecretKeyError, decrypt, encrypt
from governance.ckks.params import CkksParameters
from governance.envelope import seal
from governance.identity import Identity
from governance.policy.models import PublicationThresholds
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from open_models.benchmark_values import derive_benchmarks
from tests.policy_setup import log_founded_policy
from trust_node.generate import generate
from trust_node.statistics import contribution_vector, prepare_release
from trust_node.statistics.attest import attest_statistics

YEARS = (2022, 2023)


@dataclass
class World:
    service: StatisticsService
    log: TransparencyLog
    key: CkksKey
    nodes: dict[str, Identity]
    data: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def world(tmp_path: Path, secret_key: CkksKey) -> Iterator[World]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    store = CoordinatorStore(engine)
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    nodes = {f"node-{i}": Identity.generate(f"node-{i}") for i in range(3)}
    for i, (node_id, ident) in enumerate(nodes.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=100 + i,
            key_holder=True,
        )
    log_founded_policy(log, nodes, list(nodes))
    records = generate(3, 300, seed=5, start_year=2022, end_year=2023).records
    parts = dict(zip(nodes, [g for _, g in records.groupby("jurisdiction")], strict=True))
    thresholds = PublicationThresholds(k=3, m=2, t=2)
    service = StatisticsService(store, log, secret_key.public(), thresholds)
    yield World(service, log, secret_key, nodes, parts)
    engine.dispose()


def _submit_all(w: World, epsilon: float = 8.0) -> int:  # the founded policy's cap
    terms = w.service.open_round(years=YEARS, epsilon=epsilon, delta=1e-5)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id, ident in w.nodes.items():
        release = prepare_release(
            terms,
            key=w.key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(100.0, 1e-5),
            load_records=lambda n=node_id: w.data[n],  # type: ignore[misc]
        )
        envelope = seal(ident, "statistics_submission", terms.round_id, {"n": node_id})
        w.service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    return terms.round_id


def test_published_benchmark_matches_the_noiseless_sum(world: World) -> None:
    w = world
    round_id = _submit_all(w)
    request = w.service.request_decryption(round_id)
    terms = w.service.terms(round_id)
    for ident in list(w.nodes.values())[:2]:
        w.service.accept_attestation(
            request.request_id, attest_statistics(ident, w.key, terms, request.vector)
        )
    published = w.service.publish(round_id)
    truth = np.sum([contribution_vector(d, terms.catalogue) for d in w.data.values()], axis=0)
    truth_cells = terms.catalogue.unpack(truth)
    sigma = terms.sigma_total
    shown = [c for c in published["cells"] if not c["suppressed"]]
    assert shown, "some cells must clear k and m"
    for cell in published["cells"]:
        key = (cell["sector"], cell["product"], cell["route"], cell["year"])
        t = truth_cells[key]
        from open_models.benchmark_cells import field_scale

        if cell["suppressed"]:
            assert set(cell) == {"sector", "product", "route", "year", "suppressed", "reason"}
            continue
        sp = sigma * field_scale(key[0], "production_t")
        se = sigma * field_scale(key[0], "direct_tco2e")
        assert abs(cell["production_t_rounded"] - t["production_t"]) < 5 * sp + 1000
        assert t["facilities"] >= 3
        # I = E_noisy / P_noisy, so E_true - I * P_true = -(e_noise - I * p_noise),
        # a Gaussian with sd sqrt(se^2 + I^2 sp^2): within 5 sd of 0.
        i = cell["intensity_tco2e_per_t"]
        residual = t["direct_tco2e"] - i * t["production_t"]
        assert abs(residual) <= 5 * math.hypot(se, i * sp) + 1e-6 * t["direct_tco2e"]
        assert (
            cell["cbam_default_direct_tco2e_per_t"] is None
            or cell["cbam_default_direct_tco2e_per_t"] > 0
        )
    entry = w.log.entry(published["log_index"])
    assert entry.kind == "publication"
    assert w.service.status(round_id).status == "published"


def test_suppressed_cells_are_zero_in_what_key_holders_sign(world: World) -> None:
    w = world
    round_id = _submit_all(w, epsilon=8.0)  # the founded policy's cap
    request = w.service.request_decryption(round_id)
    terms = w.service.terms(round_id)
    att = attest_statistics(next(iter(w.nodes.values())), w.key, terms, request.vector)
    values = [float(v) for v in att.payload["values"]]  # type: ignore[call-overload,index]
    width = terms.catalogue.width
    cells = derive_benchmarks(terms, values)
    assert any(c["suppressed"] for c in cells)  # hydrogen/electrolysis etc. are small
    for i, cell in enumerate(cells):
        if cell["suppressed"]:
            assert values[i * width : (i + 1) * width] == [0.0] * width


def test_single_forged_attestation_cannot_publish(world: World) -> None:
    w = world
    round_id = _submit_all(w)
    request = w.service.request_decryption(round_id)
    terms = w.service.terms(round_id)
    honest = attest_statistics(w.nodes["node-0"], w.key, terms, request.vector)
    w.service.accept_attestation(request.request_id, honest)
    payload = dict(honest.payload)  # type: ignore[arg-type]
    payload["values"] = ["1.000000"] * len(payload["values"])
    forged = seal(w.nodes["node-1"], "attestation", round_id, payload)
    w.service.accept_attestation(request.request_id, forged)
    with pytest.raises(PublicationRefusedError, match="fewer than t=2"):
        w.service.publish(round_id)
    stages = [r["stage"] for r in w.service.rejections(round_id)]
    assert stages.count("attestation") == 2  # neither value set reached t
    assert w.service.status(round_id).status == "decrypting"


def test_outsider_signature_is_rejected_and_logged(world: World) -> None:
    w = world
    round_id = _submit_all(w)
    request = w.service.request_decryption(round_id)
    terms = w.service.terms(round_id)
    for ident in (w.nodes["node-0"], Identity.generate("node-1")):  # impostor of node-1
        w.service.accept_attestation(
            request.request_id, attest_statistics(ident, w.key, terms, request.vector)
        )
    with pytest.raises(PublicationRefusedError):
        w.service.publish(round_id)
    reasons = [r["reason"] for r in w.service.rejections(round_id)]
    assert any("WrongSignerError" in r or "signature" in r for r in reasons)


def test_garbage_submissions_are_rejected_and_logged(world: World) -> None:
    w = world
    terms = w.service.open_round(years=YEARS, epsilon=5.0, delta=1e-5)
    ident = w.nodes["node-0"]
    env = seal(ident, "statistics_submission", terms.round_id, {"n": 0})
    n = terms.catalogue.vector_length
    short = encrypt(w.key.public(), [0.0] * (n - 1))
    with pytest.raises(SubmissionRejectedError, match="length"):
        w.service.accept_submission(terms.round_id, "node-0", env, [short])
    other = CkksKey.create(CkksParameters(coeff_mod_bit_sizes=(60, 40, 60)))
    foreign = encrypt(other, [0.0] * n)
    with pytest.raises(SubmissionRejectedError, match="key"):
        w.service.accept_submission(terms.round_id, "node-0", env, [foreign])
    # right key id, but the ciphertext bytes come from other parameters
    relabelled = EncryptedVector(terms.key_id, n, foreign.chunks)
    with pytest.raises(SubmissionRejectedError, match="ciphertext refused"):
        w.service.accept_submission(terms.round_id, "node-0", env, [relabelled])
    good = encrypt(w.key.public(), [0.0] * n)
    with pytest.raises(SubmissionRejectedError, match="not expected"):
        w.service.accept_submission(terms.round_id, "stranger", env, [good])
    assert len(w.service.rejections(terms.round_id)) == 4
    kinds = [e.kind for e in w.log.iter_entries()]
    assert kinds.count("refusal") == 4
    with pytest.raises(NotEnoughSubmissionsError):
        w.service.request_decryption(terms.round_id)


def test_coordinator_context_cannot_decrypt_a_submission(world: World) -> None:
    w = world
    vector = encrypt(w.key.public(), [1.0, 2.0])
    with pytest.raises(MissingSecretKeyError):
        decrypt(w.service.key, vector)
    assert not w.service.key.is_private


def test_published_benchmark_verifies_offline_and_tampering_is_caught(
    world: World, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from governance.audit_cli import app
    from governance.benchmark_audit import verify_benchmark

    w = world
    for node_id, ident in w.nodes.items():  # enrolments as the enrolment handler logs them
        w.log.append(
            "enrolment",
            {"node_id": node_id, "identity_public_key": ident.public_key.hex(), "key_holder": True},
        )
    round_id = _submit_all(w)
    request = w.service.request_decryption(round_id)
    terms = w.service.terms(round_id)
    for ident in list(w.nodes.values())[:2]:
        w.service.accept_attestation(
            request.request_id, attest_statistics(ident, w.key, terms, request.vector)
        )
    published = w.service.publish(round_id)
    path = w.log.export_bundle(tmp_path / "bundle.json")
    bundle = json.loads(path.read_text())
    report = verify_benchmark(bundle, published["benchmark_id"])
    assert report.ok, report.problems
    assert report.signers == ["node-0", "node-1"]
    result = CliRunner().invoke(
        app,
        [
            "verify-benchmark",
            published["benchmark_id"],
            "--bundle",
            str(path),
            "--log-key",
            str(w.log.verifier),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True

    # A publication whose values were changed after attestation fails (its leaf too).
    entry = next(e for e in bundle["entries"] if e["kind"] == "publication")
    cell = next(c for c in entry["payload"]["cells"] if not c["suppressed"])
    cell["intensity_tco2e_per_t"] += 0.1
    bad = verify_benchmark(bundle, published["benchmark_id"])
    assert not bad.ok
    assert any("differ" in p for p in bad.problems)
    assert any(p.startswith("log:") for p in bad.problems)
