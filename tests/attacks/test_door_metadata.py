"""Attacks on the metadata allowlist: a number hidden in a field the guard lets through.

Each test hands the node's egress guard one outbound message a compromised or careless
caller could build, carrying a record value (``1234.5678`` t of production) in metadata,
and checks the guard refuses it and logs the refusal. On the code before the metadata
was typed, every one of these messages was released and signed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.ckks import CkksKey, encrypt
from governance.identity import Identity
from governance.policy import DataSovereignty, default_node_policy
from governance.policy.models import OUTBOUND_KINDS
from kernel.wire import flower as wire
from trust_node.context import ENGINES
from trust_node.egress import EgressGuard, EgressRefusedError, Outbound, SqlRefusalLog

RECORD_VALUE = "1234.5678"  # a facility's production, as a numeric string
KEY_ID = "0" * 32


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


def _guard(tmp_path: Path, key: CkksKey, *listed: str) -> EgressGuard:
    policy = default_node_policy("node-a", "IN")
    fields = (*policy.data_sovereignty.metadata_fields, *listed)
    policy = policy.model_copy(
        update={
            "data_sovereignty": DataSovereignty(
                allowed_outbound=OUTBOUND_KINDS, metadata_fields=fields
            )
        }
    )
    return EgressGuard(
        policy,
        Identity.generate("node-a"),
        refusals=SqlRefusalLog(ENGINES.engine(f"sqlite:///{tmp_path / 'node.sqlite'}")),
        public_key=key.public(),
    )


def _assert_refused(guard: EgressGuard, outbound: Outbound) -> None:
    with pytest.raises(EgressRefusedError):
        guard.release(outbound)
    assert len(guard.refusals.entries()) == 1
    assert RECORD_VALUE not in guard.refusals.entries()[0].reason


def _update(key: CkksKey, metadata: dict[str, str | int | bool]) -> Outbound:
    return Outbound(
        kind="ciphertext_update",
        method=wire.UPDATE_METHOD,
        round_id=1,
        ciphertexts=(encrypt(key.public(), [1.0, 2.0]),),
        metadata={"node_id": "node-a", "round_id": 1, "key_id": KEY_ID, **metadata},
    )


def test_a_listed_field_carrying_a_numeric_string_is_refused(tmp_path: Path, key: CkksKey) -> None:
    guard = _guard(tmp_path, key, "site_label")
    _assert_refused(guard, _update(key, {"site_label": RECORD_VALUE}))


def test_a_default_listed_field_carrying_a_numeric_string_is_refused(
    tmp_path: Path, key: CkksKey
) -> None:
    # ``software_version`` is listed by the default policy; it is the node's own version.
    guard = _guard(tmp_path, key)
    _assert_refused(guard, _update(key, {"software_version": RECORD_VALUE}))


def test_a_listed_field_carrying_an_integer_is_refused(tmp_path: Path, key: CkksKey) -> None:
    guard = _guard(tmp_path, key, "site_label")
    _assert_refused(guard, _update(key, {"site_label": 12345678}))


def test_a_report_field_outside_a_model_update_is_refused(tmp_path: Path, key: CkksKey) -> None:
    # The training report is numeric by design, but only beside the update it reports on.
    guard = _guard(tmp_path, key)
    outbound = Outbound("metadata", "get_round", metadata={wire.CO2_KG: RECORD_VALUE})
    _assert_refused(guard, outbound)


def test_an_unlisted_round_id_carrying_a_number_is_refused(tmp_path: Path, key: CkksKey) -> None:
    # round_id is a protocol field: it must be the message's own round, not any integer.
    guard = _guard(tmp_path, key)
    outbound = Outbound("metadata", "get_round", metadata={"round_id": 12345678})
    _assert_refused(guard, outbound)


def test_an_unlisted_subject_id_carrying_a_number_is_refused(tmp_path: Path, key: CkksKey) -> None:
    # subject_id names a publication to read; it has no business in a model update.
    guard = _guard(tmp_path, key)
    _assert_refused(guard, _update(key, {"subject_id": RECORD_VALUE}))
