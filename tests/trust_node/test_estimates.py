"""Estimate service: no-model answers, a real published model, the accountability register."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from governance.accountability import (
    AccountabilityRegister,
    RegisterIntegrityError,
    verify_register,
)
from governance.accountability.tables import accountability_entries
from kernel.settings import Settings, load_settings
from open_models.published import PublishedModel
from open_models.training import TrainConfig, train_centralised
from trust_node.errors import RecordNotFoundError
from trust_node.estimates import NO_MODEL_REASON, EstimateService, model_dir
from trust_node.generate import generate
from trust_node.store import SqlRecordRepository


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Settings, SqlRecordRepository, pd.DataFrame]:
    settings = load_settings(home=tmp_path / "home")
    settings.ensure_home()
    repo = SqlRecordRepository.from_url(settings.database_url)
    records = generate(["IN", "DE"], records=6, seed=4).records
    repo.add_batch("acme", records, source="a.csv", sha256="0" * 64)
    return settings, repo, records


def _publish(settings: Settings, records: pd.DataFrame) -> PublishedModel:
    weights = train_centralised(records, TrainConfig(epochs=1, batch_size=8, seed=0))
    model = PublishedModel(
        model_id="gcdt-test", version="0.1.0", weights=weights, card={"purpose": "test"}
    )
    model.save(model_dir(settings))
    return model


def test_without_a_model_the_answer_says_so(
    setup: tuple[Settings, SqlRecordRepository, pd.DataFrame],
) -> None:
    settings, repo, records = setup
    frame = EstimateService(repo, settings).for_tenant("acme", asked_by="tenant:acme")
    assert len(frame) == len(records)
    assert frame["model_id"].isna().all() and frame["estimate_direct_tco2e"].isna().all()
    assert (frame["model_reason"] == NO_MODEL_REASON).all()
    assert set(frame["direct_basis"]) <= {"verified", "tier1", None}
    # No invocation, no register entry.
    assert list(AccountabilityRegister(repo.engine).entries()) == []


def test_footprint_arithmetic(setup: tuple[Settings, SqlRecordRepository, pd.DataFrame]) -> None:
    settings, repo, _ = setup
    f = EstimateService(repo, settings).for_tenant("acme", asked_by="x")
    ok = f["direct_tco2e"].notna()
    assert np.allclose(
        f.loc[ok, "embedded_tco2e"], f.loc[ok, "direct_tco2e"] + f.loc[ok, "indirect_tco2e"]
    )
    assert np.allclose(
        f.loc[ok, "specific_embedded_tco2e_per_t"],
        f.loc[ok, "embedded_tco2e"] / f.loc[ok, "production_t"],
    )
    has_default = ok & f["cbam_default_total_tco2e_per_t"].notna()
    assert has_default.any()
    assert np.allclose(
        f.loc[has_default, "difference_total_tco2e_per_t"],
        f.loc[has_default, "specific_embedded_tco2e_per_t"]
        - f.loc[has_default, "cbam_default_total_tco2e_per_t"],
    )
    verified = f["verified_direct_tco2e"].notna()
    assert (f.loc[verified, "direct_basis"] == "verified").all()
    assert np.allclose(f.loc[verified, "direct_tco2e"], f.loc[verified, "verified_direct_tco2e"])
    # German records: EU producers have no CBAM default, and the answer says why.
    de = f[f["jurisdiction"] == "DE"]
    assert de["cbam_default_total_tco2e_per_t"].isna().all()
    assert de["cbam_note"].str.contains("EU producer").all()


def test_published_model_answers_and_every_call_is_registered(
    setup: tuple[Settings, SqlRecordRepository, pd.DataFrame],
) -> None:
    settings, repo, records = setup
    model = _publish(settings, records)
    svc = EstimateService(repo, settings)
    f = svc.for_tenant("acme", asked_by="tenant:acme")
    assert (f["model_id"] == "gcdt-test").all() and (f["model_version"] == "0.1.0").all()
    assert (f["model_hash"] == model.content_hash).all()
    assert f["estimate_direct_tco2e"].notna().all()
    assert (f["estimate_low_tco2e"] <= f["estimate_direct_tco2e"]).all()
    assert (f["estimate_direct_tco2e"] <= f["estimate_high_tco2e"]).all()
    expected = model.predict(records)
    assert np.allclose(f["estimate_direct_tco2e"], expected["estimate_direct_tco2e"])
    declared = f["reported_direct_tco2e"].notna()
    assert f.loc[declared, "corrected_direct_tco2e"].notna().all()
    assert f.loc[~declared, "corrected_direct_tco2e"].isna().all()
    basis = f.loc[declared & f["verified_direct_tco2e"].isna(), "direct_basis"]
    assert (basis == "corrected").all()

    one = svc.for_record("acme", records["record_id"].iloc[0], asked_by="tenant:acme")
    assert one["model_id"] == "gcdt-test"
    with pytest.raises(RecordNotFoundError):
        svc.for_record("beta", records["record_id"].iloc[0], asked_by="tenant:beta")

    register = AccountabilityRegister(repo.engine)
    entries = list(register.entries())
    assert len(entries) == 2
    assert {e["asked_by"] for e in entries} == {"tenant:acme"}
    assert entries[0]["model_hash"] == model.content_hash
    out = json.loads(entries[0]["output"])
    assert set(out) == set(records["record_id"])
    lines = list(register.export_jsonl())
    assert verify_register(lines) == 2

    # An auditor detects an altered output.
    with repo.engine.begin() as conn:
        conn.execute(
            update(accountability_entries)
            .where(accountability_entries.c.seq == entries[0]["seq"])
            .values(output="{}")
        )
    with pytest.raises(RegisterIntegrityError):
        verify_register(list(register.export_jsonl()))


def test_a_corrupt_model_is_refused_not_guessed(
    setup: tuple[Settings, SqlRecordRepository, pd.DataFrame],
) -> None:
    settings, repo, records = setup
    _publish(settings, records)
    meta = model_dir(settings) / "model.json"
    doc = json.loads(meta.read_text())
    doc["version"] = "9.9.9"
    meta.write_text(json.dumps(doc))
    from trust_node.estimates import EstimateError

    with pytest.raises(EstimateError, match="cannot be loaded"):
        EstimateService(repo, settings).for_tenant("acme", asked_by="x")
