"""Published model: round trip, content hash, tamper detection, no pickle."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from open_models.errors import ModelIntegrityError, PublishedModelError, WeightShapeError
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, unflatten, weight_layout
from open_models.published import METADATA_FILE, WEIGHTS_FILE, PublishedModel
from trust_node.generate import generate


@pytest.fixture()
def model() -> PublishedModel:
    return PublishedModel(
        "gcdt-ef",
        "1",
        initial_weights(FeatureSpec(), seed=3),
        interval_scale=1.2,
        card={"note": "test", "nan_becomes_null": float("nan")},
    )


def test_round_trip_without_pickle(
    model: PublishedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [METADATA_FILE, WEIGHTS_FILE]

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = PublishedModel.load(tmp_path)
    assert loaded.content_hash == model.content_hash
    assert loaded.interval_scale == 1.2 and loaded.card["nan_becomes_null"] is None
    records = generate(["IN"], records=20, seed=1).records
    pd.testing.assert_frame_equal(loaded.predict(records), model.predict(records))


def test_predict_columns(model: PublishedModel) -> None:
    records = generate(["IN"], records=30, seed=2).records
    records.index = records.index + 100
    out = model.predict(records)
    assert list(out.columns) == [
        "estimate_direct_tco2e",
        "estimate_low_tco2e",
        "estimate_high_tco2e",
        "corrected_direct_tco2e",
    ]
    assert out.index.equals(records.index)
    assert (out["estimate_low_tco2e"] <= out["estimate_direct_tco2e"]).all()
    assert (out["estimate_direct_tco2e"] <= out["estimate_high_tco2e"]).all()
    no_reported = records["reported_direct_tco2e"].isna()
    assert out.loc[no_reported, "corrected_direct_tco2e"].isna().all()
    assert out.loc[~no_reported, "corrected_direct_tco2e"].notna().all()


def test_tampered_weights_fail_hash(model: PublishedModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    data = bytearray((tmp_path / WEIGHTS_FILE).read_bytes())
    data[-3] ^= 0x01  # flip a bit inside the last tensor's bytes
    (tmp_path / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="content hash mismatch"):
        PublishedModel.load(tmp_path)


def test_tampered_metadata_fails_hash(model: PublishedModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    document = json.loads((tmp_path / METADATA_FILE).read_text())
    document["interval"]["scale"] = 0.5
    (tmp_path / METADATA_FILE).write_text(json.dumps(document))
    with pytest.raises(ModelIntegrityError):
        PublishedModel.load(tmp_path)
    (tmp_path / METADATA_FILE).unlink()
    with pytest.raises(PublishedModelError, match="missing"):
        PublishedModel.load(tmp_path)


def test_hash_changes_with_any_weight() -> None:
    spec = FeatureSpec()
    weights = initial_weights(spec)
    first = PublishedModel("m", "1", weights).content_hash
    layout = weight_layout(spec)
    vector = flatten(weights, layout)
    vector[7] += 1e-9
    assert PublishedModel("m", "1", unflatten(vector, layout)).content_hash != first


def test_flatten_unflatten_checks_shapes() -> None:
    spec = FeatureSpec()
    layout = weight_layout(spec)
    weights = initial_weights(spec)
    vector = flatten(weights, layout)
    assert vector.dtype == np.float64 and vector.size <= 2000
    back = unflatten(vector, layout)
    assert all(np.array_equal(back[k], weights[k]) for k in weights)
    with pytest.raises(WeightShapeError):
        unflatten(vector[:-1], layout)
    with pytest.raises(WeightShapeError):
        flatten({k: v for k, v in weights.items() if k != "ef_out.bias"}, layout)
