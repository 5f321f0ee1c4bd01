"""Signed policies: round trip, validation errors naming the field, signature refusals."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from governance.envelope import seal
from governance.errors import PolicyError, PolicySignatureError
from governance.identity import Identity
from governance.policy import (
    NodePolicy,
    TrustPolicy,
    default_node_policy,
    default_trust_policy,
    load_policy,
    node_within_trust,
    parse_policy,
    policy_to_toml,
    sign_policy,
    signature_path,
    write_policy,
)


@pytest.fixture
def operator() -> Identity:
    return Identity.generate("operator-de")


@pytest.fixture
def coordinator() -> Identity:
    return Identity.generate("coordinator")


def node_data(**overrides: Any) -> dict[str, Any]:
    data = default_node_policy("node-de-1", "DE", accounting_period="2026-Q4").model_dump(
        mode="json", exclude_none=True
    )
    data["consent"] = {"default": [], "tenants": {"acme-steel": ["training", "statistics"]}}
    data["privacy_budget"]["datasets"] = {"facility_records": {"epsilon": 3.0, "delta": 1e-6}}
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split("__")
        target = data
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return data


_DELETE = object()


def write_raw(path: Path, data: dict[str, Any], signer: Identity | None = None) -> Path:
    path.write_bytes(tomli_w.dumps(data).encode())
    if signer is not None:
        sign_policy(path, signer)
    return path


def test_node_policy_round_trip(tmp_path: Path, operator: Identity) -> None:
    policy = parse_policy(node_data(), "node")
    path = write_policy(policy, tmp_path / "node.toml", operator)
    loaded = load_policy(path, "node", operator.public_key)
    assert isinstance(loaded, NodePolicy)
    assert loaded == policy
    assert loaded.consent.allows("acme-steel", "training")
    assert not loaded.consent.allows("other-tenant", "training")
    assert loaded.privacy_budget.for_dataset("facility_records").epsilon == 3.0
    assert loaded.privacy_budget.for_dataset("statistics").epsilon == 8.0
    assert loaded.data_sovereignty.allows("ciphertext_update")
    assert loaded.data_sovereignty.allows_metadata_field("jurisdiction")
    assert not loaded.data_sovereignty.allows_metadata_field("production_t")


def test_trust_policy_round_trip_and_no_single_signer(
    tmp_path: Path, coordinator: Identity
) -> None:
    policy = default_trust_policy("gcdt", accounting_period="2026")
    text = policy_to_toml(policy)
    loaded = parse_policy(tomllib.loads(text.decode()), "trust")
    assert isinstance(loaded, TrustPolicy)
    assert loaded == policy
    assert (loaded.publication.k, loaded.publication.m, loaded.publication.t) == (3, 3, 2)
    # one party's signature never makes a trust policy (governance.policy.trust_chain)
    with pytest.raises(PolicySignatureError, match="members' signatures"):
        write_policy(policy, tmp_path / "trust.toml", coordinator)
    with pytest.raises(PolicySignatureError, match="members' signatures"):
        load_policy(tmp_path / "trust.toml", "trust", coordinator.public_key)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"privacy_budget__epsilon": 0}, "privacy_budget.epsilon: must be > 0"),
        ({"privacy_budget__epsilon": -1.5}, "privacy_budget.epsilon: must be > 0"),
        ({"privacy_budget__delta": 1.0}, "privacy_budget.delta: must be < 1"),
        (
            {"privacy_budget__datasets": {"facility_records": {"epsilon": 1.0, "delta": 0.0}}},
            "privacy_budget.datasets.facility_records.delta: must be > 0",
        ),
        ({"privacy_budget__accounting_period": "2026-Q5"}, "privacy_budget.accounting_period:"),
        ({"privacy_budget__epsilom": 1.0}, "privacy_budget.epsilom: unknown field"),
        ({"surprise": True}, "surprise: unknown field"),
        ({"version": 0}, "version: must be >= 1"),
        ({"version": _DELETE}, "version: required field is missing"),
        ({"jurisdiction": "Germany"}, "jurisdiction: must match"),
        (
            {"data_sovereignty__allowed_outbound": ["raw_records"]},
            "data_sovereignty.allowed_outbound.0: Input should be",
        ),
        (
            {"data_sovereignty__metadata_fields": ["node_id", "production_t"]},
            "data_sovereignty.metadata_fields: record columns may never leave as metadata: "
            "production_t",
        ),
        (
            {"data_sovereignty__allowed_outbound": ["ciphertext_update"]},
            "data_sovereignty: metadata_fields are listed but 'metadata' is not",
        ),
        (
            {"consent__tenants": {"acme-steel": ["marketing"]}},
            "consent.tenants.acme-steel.0: Input should be 'training' or 'statistics'",
        ),
        (
            {"consent__tenants": {"acme-steel": ["training", "training"]}},
            "consent.tenants: consent scope of tenant 'acme-steel' listed twice",
        ),
    ],
)
def test_bad_node_policy_names_field(
    tmp_path: Path, operator: Identity, overrides: dict[str, Any], problem: str
) -> None:
    path = write_raw(tmp_path / "node.toml", node_data(**overrides))
    sign_policy_error = None
    try:
        sign_policy(path, operator)
    except PolicyError as exc:
        sign_policy_error = exc
    assert sign_policy_error is not None, "an invalid policy must not be signed"
    # Even a signature made without validation does not get a bad policy accepted.
    signature_path(path).write_bytes(
        seal(operator, "policy.node", None, path.read_bytes(), detached=True).to_bytes()
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path, "node", operator.public_key)
    assert type(info.value) is PolicyError
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("publication", "problem"),
    [
        ({"k": 0}, "publication.k: must be >= 1"),
        ({"t": 1}, "publication.t: must be >= 2"),
        ({"m": 1, "t": 1}, "publication.m: must be >= 2"),
        ({"t": 4, "m": 3}, "publication: t (4) must be <= m (3)"),
        ({"k": "three"}, "publication.k: Input should be a valid integer"),
    ],
)
def test_bad_publication_thresholds(publication: dict[str, Any], problem: str) -> None:
    data = default_trust_policy(accounting_period="2026").model_dump(mode="json")
    data["publication"].update(publication)
    with pytest.raises(PolicyError) as info:
        parse_policy(data, "trust")
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_single_attestation_is_never_allowed() -> None:
    data = default_trust_policy(accounting_period="2026").model_dump(mode="json")
    data["publication"].update(t=1, allow_single_attestation=True)
    with pytest.raises(PolicyError) as info:
        parse_policy(data, "trust")
    assert any(p.startswith("publication.t: must be >= 2") for p in info.value.problems)
    assert any(p.startswith("publication.allow_single_attestation") for p in info.value.problems)


def test_unsigned_policy_is_refused(tmp_path: Path, operator: Identity) -> None:
    path = write_raw(tmp_path / "node.toml", node_data())
    with pytest.raises(PolicySignatureError, match="unsigned"):
        load_policy(path, "node", operator.public_key)


def test_wrongly_signed_policy_is_refused(tmp_path: Path, operator: Identity) -> None:
    mallory = Identity.generate("operator-de")
    path = write_raw(tmp_path / "node.toml", node_data(), signer=mallory)
    with pytest.raises(PolicySignatureError, match="WrongSignerError"):
        load_policy(path, "node", operator.public_key)


def test_edited_policy_is_refused(tmp_path: Path, operator: Identity) -> None:
    path = write_raw(tmp_path / "node.toml", node_data(), signer=operator)
    path.write_text(path.read_text().replace("epsilon = 3.0", "epsilon = 30.0"))
    with pytest.raises(PolicySignatureError, match="BadSignatureError"):
        load_policy(path, "node", operator.public_key)


def test_garbage_signature_is_refused(tmp_path: Path, operator: Identity) -> None:
    path = write_raw(tmp_path / "node.toml", node_data(), signer=operator)
    signature_path(path).write_text("not an envelope")
    with pytest.raises(PolicySignatureError, match="MalformedEnvelopeError"):
        load_policy(path, "node", operator.public_key)


def test_a_node_policy_signature_does_not_make_a_trust_policy(
    tmp_path: Path, coordinator: Identity
) -> None:
    # The same key signed a node policy; no single signature makes a trust policy at all.
    path = write_raw(tmp_path / "node.toml", node_data(), signer=coordinator)
    with pytest.raises(PolicySignatureError, match="members' signatures"):
        load_policy(path, "trust", coordinator.public_key)


def test_rollback_to_an_older_version_is_refused(tmp_path: Path, operator: Identity) -> None:
    path = write_raw(tmp_path / "node.toml", node_data(version=2), signer=operator)
    assert load_policy(path, "node", operator.public_key, min_version=2).version == 2
    with pytest.raises(PolicyError, match=r"version 2 is older .* \(3\)"):
        load_policy(path, "node", operator.public_key, min_version=3)


def test_invalid_toml_names_the_file(tmp_path: Path, operator: Identity) -> None:
    path = tmp_path / "node.toml"
    path.write_text("version = = 1\n")
    with pytest.raises(PolicyError, match="not valid TOML") as info:
        sign_policy(path, operator)
    assert str(path) in str(info.value)


def test_node_within_trust() -> None:
    trust = default_trust_policy(accounting_period="2026-Q4")
    node = parse_policy(node_data(), "node")
    assert isinstance(node, NodePolicy)
    assert node_within_trust(node, trust) == []
    greedy = parse_policy(node_data(privacy_budget__epsilon=20.0), "node")
    assert isinstance(greedy, NodePolicy)
    assert node_within_trust(greedy, trust) == [
        "privacy_budget.epsilon: 20.0 exceeds the trust's cap 8.0"
    ]
