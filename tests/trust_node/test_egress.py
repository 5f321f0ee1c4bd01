"""The egress guard lets through only what the node policy allows, and logs every refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from governance.attestation import attest
from governance.ckks import CkksKey, EncryptedVector, encrypt, run_ceremony
from governance.ckks.transport import TransportKey
from governance.envelope import open_envelope, seal
from governance.identity import Identity
from governance.policy import DataSovereignty, default_node_policy
from governance.signed_requests import summarize
from trust_node.context import ENGINES
from trust_node.egress import EgressGuard, EgressRefusedError, Outbound, SqlRefusalLog


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def guard(tmp_path: Path, key: CkksKey) -> EgressGuard:
    identity = Identity.generate("node-a")
    policy = default_node_policy("node-a", "IN")
    return EgressGuard(
        policy,
        identity,
        refusals=SqlRefusalLog(ENGINES.engine(f"sqlite:///{tmp_path / 'node.sqlite'}")),
        public_key=key.public(),
    )


def _refused(guard: EgressGuard, outbound: object, reason: str) -> None:
    before = len(guard.refusals.entries())
    with pytest.raises(EgressRefusedError, match=re.escape(reason)):
        guard.release(outbound)  # type: ignore[arg-type]
    entries = guard.refusals.entries()
    assert len(entries) == before + 1
    assert reason in entries[-1].reason


def test_a_ciphertext_submission_is_released_and_signed(guard: EgressGuard, key: CkksKey) -> None:
    outbound = Outbound(
        "ciphertext_statistics",
        "submit",
        round_id=3,
        ciphertexts=(encrypt(key.public(), [1.0, 2.0]),),
        metadata={"round_kind": "statistics", "node_id": "node-a", "round_id": 3},
    )
    released = guard.check(outbound)
    payload = open_envelope(
        released.envelope, guard.identity.public_key, nonce_store=None, current_round=3
    )
    assert payload == summarize(
        method="submit",
        outbound_kind="ciphertext_statistics",
        round_id=3,
        ciphertexts=outbound.ciphertexts,
        metadata=outbound.metadata,
    )
    assert guard.refusals.entries() == []


def test_kind_not_allowed_by_policy_is_refused(tmp_path: Path, key: CkksKey) -> None:
    identity = Identity.generate("node-a")
    policy = default_node_policy("node-a", "IN").model_copy(
        update={"data_sovereignty": DataSovereignty(allowed_outbound=("attestation",))}
    )
    guard = EgressGuard(
        policy,
        identity,
        refusals=SqlRefusalLog(ENGINES.engine(f"sqlite:///{tmp_path / 'n.sqlite'}")),
        public_key=key.public(),
    )
    outbound = Outbound("ciphertext_statistics", "submit", 1, (encrypt(key, [1.0]),))
    _refused(guard, outbound, "not in the node policy's allowed_outbound")


def test_float_metadata_is_refused(guard: EgressGuard) -> None:
    floats = {"round_id": 1.5}
    _refused(guard, Outbound("metadata", "get_round", metadata=floats), "only strings")  # type: ignore[arg-type]


def test_unlisted_metadata_field_is_refused(guard: EgressGuard) -> None:
    outbound = Outbound("metadata", "get_round", metadata={"facility_id": "F-1"})
    _refused(guard, outbound, "neither a protocol field nor listed")


def test_protocol_field_with_a_free_text_value_is_refused(guard: EgressGuard) -> None:
    outbound = Outbound("metadata", "get_round", metadata={"period": "FAC-0001"})
    _refused(guard, outbound, "not a valid period")


def test_metadata_claiming_another_node_is_refused(guard: EgressGuard) -> None:
    outbound = Outbound("metadata", "get_round", metadata={"node_id": "node-b"})
    _refused(guard, outbound, "not this node's id")


def test_raw_bytes_dressed_as_a_ciphertext_are_refused(guard: EgressGuard, key: CkksKey) -> None:
    real = encrypt(key, [1.0])
    fake = EncryptedVector(real.key_id, 1, (b"facility F-1 produced 1234.5 t",))
    _refused(guard, Outbound("ciphertext_statistics", "submit", 1, (fake,)), "not a valid")


def test_ciphertext_under_another_key_is_refused(guard: EgressGuard) -> None:
    other = encrypt(CkksKey.create(), [1.0])
    _refused(guard, Outbound("ciphertext_statistics", "submit", 1, (other,)), "not a valid")


def test_ciphertext_without_installed_public_context_is_refused(
    guard: EgressGuard, key: CkksKey
) -> None:
    guard.public_key = None
    outbound = Outbound("ciphertext_statistics", "submit", 1, (encrypt(key, [1.0]),))
    _refused(guard, outbound, "no trust public context")


def test_ciphertext_in_a_metadata_message_is_refused(guard: EgressGuard, key: CkksKey) -> None:
    outbound = Outbound("metadata", "get_round", ciphertexts=(encrypt(key, [1.0]),))
    _refused(guard, outbound, "ciphertexts may leave only")


def test_attestation_must_be_signed_by_this_node(guard: EgressGuard, key: CkksKey) -> None:
    vector = encrypt(key, [1.0, 2.0])
    mine = attest(guard.identity, key, vector, subject_id="s", round_id=1)
    assert guard.check(Outbound("attestation", "submit_attestation", 1, attestations=(mine,)))
    theirs = attest(Identity.generate("node-b"), key, vector, subject_id="s", round_id=1)
    _refused(
        guard,
        Outbound("attestation", "submit_attestation", 1, attestations=(theirs,)),
        "attestation refused",
    )
    arbitrary = seal(guard.identity, "attestation", 1, {"record": "F-1", "production_t": 5.0})
    _refused(
        guard,
        Outbound("attestation", "submit_attestation", 1, attestations=(arbitrary,)),
        "attestation refused",
    )


def test_key_material_only_from_this_node_as_ceremony(guard: EgressGuard) -> None:
    holder = TransportKey.generate()
    mine = run_ceremony(guard.identity, [("node-a", holder.public_bytes)], "2026")
    ok = Outbound(
        "enrolment",
        "upload_ceremony",
        key_packages=tuple(mine.packages.values()),
        public_release=mine.public_release,
    )
    assert guard.check(ok)
    other = run_ceremony(Identity.generate("x"), [("node-a", holder.public_bytes)], "2026")
    _refused(
        guard,
        Outbound("enrolment", "upload_ceremony", key_packages=tuple(other.packages.values())),
        "not signed by this node",
    )
    _refused(
        guard,
        Outbound("metadata", "upload_ceremony", public_release=mine.public_release),
        "key material may leave only",
    )


def test_anything_but_an_outbound_is_refused(guard: EgressGuard) -> None:
    _refused(guard, {"kind": "metadata", "method": "x"}, "not an Outbound")
