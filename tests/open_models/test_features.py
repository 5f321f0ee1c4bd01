"""Feature encoding: unknown is never zero-as-known; the spec is fixed and versioned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from open_models.contract import FUEL_COLUMNS
from open_models.errors import FeatureEncodingError
from open_models.features import FeatureSpec, encode
from trust_node.generate import generate


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return generate(["DE"], records=40, seed=5).records


def test_empty_fuels_set_indicators_and_differ_from_known_zero(records: pd.DataFrame) -> None:
    spec = FeatureSpec()
    names = list(spec.names)
    row = records[records["coal_tj"].notna()].iloc[[0]].copy()
    unknown = row.copy()
    unknown[list(FUEL_COLUMNS)] = np.nan
    zero = row.copy()
    zero[list(FUEL_COLUMNS)] = 0.0
    x_unknown, x_zero = encode(unknown, spec)[0], encode(zero, spec)[0]
    for column in FUEL_COLUMNS:
        assert x_unknown[names.index(f"missing_{column}")] == 1.0
        assert x_zero[names.index(f"missing_{column}")] == 0.0
        value = names.index(f"log1p_{column[:-3]}_gj_per_t")
        assert x_unknown[value] == 0.0 and x_zero[value] == 0.0
    assert not np.array_equal(x_unknown, x_zero)
    # Tier-1 with fuels unknown falls back to production defaults or is unknown, never "0 fuel".
    assert x_unknown[names.index("missing_electricity_mwh")] == 0.0


def test_absent_energy_column_means_zero_known(records: pd.DataFrame) -> None:
    spec = FeatureSpec()
    frame = records.drop(columns=["oil_tj"])
    x = encode(frame, spec)
    assert (x[:, spec.names.index("missing_oil_tj")] == 0.0).all()


def test_per_tonne_scaling_is_log1p(records: pd.DataFrame) -> None:
    spec = FeatureSpec()
    row = records[records["electricity_mwh"].notna()].iloc[[0]]
    x = encode(row, spec)[0]
    expected = np.log1p(row["electricity_mwh"].iloc[0] / row["production_t"].iloc[0])
    assert x[spec.names.index("log1p_electricity_mwh_per_t")] == pytest.approx(expected)


def test_bad_values_are_named(records: pd.DataFrame) -> None:
    bad = records.head(3).copy()
    bad.loc[bad.index[1], "sector"] = "glass"
    with pytest.raises(FeatureEncodingError, match="row 1"):
        encode(bad)
    with pytest.raises(FeatureEncodingError, match="production_t"):
        encode(records.head(2).assign(production_t=[1.0, 0.0]))
    with pytest.raises(FeatureEncodingError, match="lacks required"):
        encode(records.drop(columns=["route"]))


def test_jurisdiction_only_by_policy_flag(records: pd.DataFrame) -> None:
    assert not any(n.startswith("jurisdiction=") for n in FeatureSpec().names)
    with pytest.raises(FeatureEncodingError, match="include_jurisdiction"):
        FeatureSpec(jurisdictions=("DE",))
    spec = FeatureSpec(include_jurisdiction=True, jurisdictions=("DE", "IN"))
    x = encode(records, spec)
    assert (x[:, spec.names.index("jurisdiction=DE")] == 1.0).all()
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    assert x.shape == (len(records), spec.width)


def test_encoding_is_deterministic(records: pd.DataFrame) -> None:
    assert np.array_equal(encode(records), encode(records.copy()))
