"""Attack: configure the trust so one key holder publishes alone (``t = 1``).

Each place a ``t`` comes from refuses 1: the signed trust policy (even with the old
``allow_single_attestation`` escape), the training configuration (``gcdt-coordinator train
--t 1 --quorum 1`` builds it), the attestation collector, and the publication store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coordinator.aggregation import MODEL, AggregationPipeline, model_subject
from coordinator.cli import app as coordinator_app
from coordinator.federation.config import FederationConfig
from coordinator.federation.errors import FederationConfigError
from coordinator.store import CoordinatorStore, NotFoundError, open_engine
from governance.attestation import AttestationError, attest, ciphertext_digest, collect_matching
from governance.ckks import CkksKey, encrypt
from governance.errors import PolicyError
from governance.identity import Identity
from governance.policy import default_trust_policy, parse_policy
from governance.translog import TransparencyLog
from kernel.settings import load_settings


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def pipeline(tmp_path: Path, secret_key: CkksKey) -> Iterator[AggregationPipeline]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    yield AggregationPipeline(CoordinatorStore(engine), log, secret_key.public())
    engine.dispose()


def test_trust_policy_with_t_1_is_refused_even_when_said_explicitly() -> None:
    data = default_trust_policy(accounting_period="2026").model_dump(mode="json")
    data["publication"].update(t=1, m=1, allow_single_attestation=True)
    with pytest.raises(PolicyError) as info:
        parse_policy(data, "trust")
    assert any(p.startswith("publication.t: must be >= 2") for p in info.value.problems)
    assert any(p.startswith("publication.m: must be >= 2") for p in info.value.problems)


@pytest.mark.parametrize(("t", "quorum"), [(1, 2), (2, 1), (1, 1)])
def test_training_configuration_with_t_1_or_quorum_1_is_refused(t: int, quorum: int) -> None:
    with pytest.raises(FederationConfigError, match="must be >= 2"):
        FederationConfig(coordinator_home=Path("."), t=t, quorum=quorum)
    with pytest.raises(FederationConfigError, match="must be >= 2"):
        FederationConfig.from_run_config({"coordinator-home": ".", "t": t, "quorum": quorum})


def test_train_command_refuses_t_1_before_starting_anything(tmp_path: Path) -> None:
    # ``configure`` runs before any SuperLink is looked for or started
    result = CliRunner().invoke(
        coordinator_app,
        ["train", "--home", str(tmp_path), "--t", "1", "--quorum", "1", "--port", "1"],
    )
    assert result.exit_code != 0
    assert "must be >= 2" in result.output
    assert not (tmp_path / "flower").exists()


def test_collector_refuses_t_1(secret_key: CkksKey) -> None:
    holder = Identity.generate("node-0")
    vector = encrypt(secret_key.public(), [1.0, 2.0])
    envelope = attest(holder, secret_key, vector, subject_id="model-update:x:1", round_id=1)
    with pytest.raises(AttestationError, match="t must be >= 2"):
        collect_matching(
            [envelope],
            {"node-0": holder.public_key},
            t=1,
            subject_id="model-update:x:1",
            round_id=1,
            key_id=vector.key_id,
            digest=ciphertext_digest(vector),
            max_age=None,
        )


def test_publication_stating_t_1_is_refused_before_anything_is_logged(
    pipeline: AggregationPipeline,
) -> None:
    subject = model_subject("m", "run-1")
    size = pipeline.log.size()
    for t in (1, 0, None, "2"):
        payload = {"model_id": "m", "version": "run-1", "content_hash": "x", "t": t}
        with pytest.raises(Exception, match="needs t >= 2"):
            pipeline.publish(subject_id=subject, kind=MODEL, payload=payload)
    assert pipeline.log.size() == size
    with pytest.raises(NotFoundError):
        pipeline.store.publication(subject)
