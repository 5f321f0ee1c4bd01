"""Decrypt-and-attest: t matching signed plaintexts publish; a forged or disagreeing one cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.attestation import (
    AttestationError,
    AttestationOutcome,
    InsufficientAttestationsError,
    attest,
    ciphertext_digest,
    collect_matching,
    format_values,
)
from governance.ckks import CkksKey, add_all, encrypt
from governance.envelope import Envelope, seal
from governance.identity import Identity
from governance.nonces import InMemoryNonceStore
from governance.tables import migrate
from governance.translog import TransparencyLog
from kernel.db import make_engine


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture(scope="module")
def holders() -> dict[str, Identity]:
    return {n: Identity.generate(n) for n in ("kh-1", "kh-2", "kh-3")}


@pytest.fixture
def log(tmp_path: Path) -> TransparencyLog:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    migrate(engine)
    return TransparencyLog(engine, Identity.generate("coordinator"))


def _setup(key: CkksKey):  # type: ignore[no-untyped-def]
    total = add_all(key.public(), [encrypt(key.public(), [1.25, 2.5]), encrypt(key, [3.0, 4.0])])
    return total, ciphertext_digest(total)


def _collect(
    envelopes: list[Envelope],
    holders: dict[str, Identity],
    key: CkksKey,
    digest: str,
    log: TransparencyLog | None = None,
    t: int = 2,
) -> AttestationOutcome:
    return collect_matching(
        envelopes,
        {n: i.public_key for n, i in holders.items()},
        t=t,
        subject_id="bench/1",
        round_id=7,
        key_id=key.key_id,
        digest=digest,
        nonce_store=InMemoryNonceStore(),
        log=log,
    )


def test_t_matching_attestations_are_accepted_and_logged(
    key: CkksKey, holders: dict[str, Identity], log: TransparencyLog
) -> None:
    total, digest = _setup(key)
    envs = [attest(holders[n], key, total, subject_id="bench/1", round_id=7) for n in holders]
    outcome = _collect(envs, holders, key, digest, log)
    assert outcome.accepted and outcome.floats() == pytest.approx([4.25, 6.5], abs=1e-6)
    assert set(outcome.signer_ids()) == set(holders) and outcome.rejected == ()
    assert [e.kind for e in log.iter_entries()] == ["attestation"] * 3


def test_one_disagreeing_attestation_is_rejected_and_logged(
    key: CkksKey, holders: dict[str, Identity], log: TransparencyLog
) -> None:
    total, digest = _setup(key)
    honest = [
        attest(holders[n], key, total, subject_id="bench/1", round_id=7) for n in ("kh-1", "kh-2")
    ]
    payload = dict(honest[0].payload)  # type: ignore[arg-type]
    payload["values"] = format_values([400.25, 6.5])
    liar = seal(holders["kh-3"], "attestation", 7, payload)
    outcome = _collect([*honest, liar], holders, key, digest, log)
    assert outcome.floats() == pytest.approx([4.25, 6.5], abs=1e-6)
    assert [(r.signer_id, "disagree" in r.reason) for r in outcome.rejected] == [("kh-3", True)]
    kinds = [e.kind for e in log.iter_entries()]
    assert kinds.count("attestation") == 2 and kinds.count("attestation_rejected") == 1


def test_a_single_forger_cannot_publish(key: CkksKey, holders: dict[str, Identity]) -> None:
    total, digest = _setup(key)
    honest = attest(holders["kh-1"], key, total, subject_id="bench/1", round_id=7)
    payload = dict(honest.payload)  # type: ignore[arg-type]
    payload["values"] = format_values([1.0, 1.0])
    forged_as_kh2 = seal(Identity.generate("kh-2"), "attestation", 7, payload)  # wrong key
    forged_by_kh1_twice = seal(holders["kh-1"], "attestation", 7, payload)
    outsider = seal(Identity.generate("mallory"), "attestation", 7, payload)
    with pytest.raises(InsufficientAttestationsError) as info:
        _collect([honest, forged_as_kh2, forged_by_kh1_twice, outsider], holders, key, digest)
    reasons = {r.signer_id: r.reason for r in info.value.outcome.rejected}
    assert "WrongSignerError" in reasons["kh-2"]
    assert "UnknownSignerError" in reasons["mallory"]
    assert not info.value.outcome.accepted


def test_attestation_of_another_ciphertext_is_rejected(
    key: CkksKey, holders: dict[str, Identity]
) -> None:
    _total, digest = _setup(key)
    other = encrypt(key, [9.0, 9.0])
    envs = [attest(holders[n], key, other, subject_id="bench/1", round_id=7) for n in holders]
    with pytest.raises(InsufficientAttestationsError) as info:
        _collect(envs, holders, key, digest)
    assert all("ciphertext_digest" in r.reason for r in info.value.outcome.rejected)


def test_values_are_rounded_decimal_strings() -> None:
    assert format_values([1.23456789, -0.0000001, 2.0], 6) == ["1.234568", "0.000000", "2.000000"]
    with pytest.raises(AttestationError):
        format_values([float("nan")])
