"""Tenants, hashed tokens, consent scopes, the consent log and consented_records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, update

from governance.policy import default_node_policy
from governance.policy.models import Consent
from trust_node.generate import generate
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository
from trust_node.tenants import (
    AuthenticationError,
    ChainError,
    ConsentError,
    ConsentLog,
    TenantExistsError,
    TenantRegistry,
    UnknownTenantError,
    consented_records,
    verify_consent_log,
)
from trust_node.tenants.tables import api_tokens, consent_log


@pytest.fixture
def repo(database_url: str) -> SqlRecordRepository:
    return SqlRecordRepository.from_url(database_url)


def _store(repo: SqlRecordRepository, tenant: str, seed: int, n: int = 5) -> pd.DataFrame:
    frame = generate(["DE"], records=n, seed=seed).records
    repo.add_batch(tenant, frame, source=f"{tenant}.csv", sha256="0" * 64)
    return frame


def test_tokens_are_stored_hashed_and_authenticate(repo: SqlRecordRepository) -> None:
    reg = TenantRegistry(repo.engine)
    issued = reg.add("acme")
    assert issued.token.startswith("gcdt_t_") and len(issued.token) > 40
    with repo.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(issued.token.encode()).hexdigest()]
    assert issued.token not in str(stored)
    who = reg.authenticate(issued.token)
    assert (who.role, who.tenant_id) == ("tenant", "acme")
    with pytest.raises(AuthenticationError):
        reg.authenticate(issued.token + "x")


def test_rotate_refuses_old_token_and_revoke_refuses_all(repo: SqlRecordRepository) -> None:
    reg = TenantRegistry(repo.engine)
    old = reg.add("acme").token
    new = reg.rotate("acme").token
    with pytest.raises(AuthenticationError):
        reg.authenticate(old)
    assert reg.authenticate(new).tenant_id == "acme"
    reg.revoke("acme")
    with pytest.raises(AuthenticationError):
        reg.authenticate(new)
    with pytest.raises(UnknownTenantError):
        reg.rotate("acme")
    assert [t.active for t in reg.list()] == [False]


def test_names_are_checked(repo: SqlRecordRepository) -> None:
    reg = TenantRegistry(repo.engine)
    reg.add("acme")
    with pytest.raises(TenantExistsError):
        reg.add("acme")
    with pytest.raises(TenantExistsError, match="reserved"):
        reg.add(OPERATOR_TENANT)
    with pytest.raises(Exception, match="invalid tenant name"):
        reg.add("bad name/..")


def test_operator_token_replaces_the_previous_one(repo: SqlRecordRepository) -> None:
    reg = TenantRegistry(repo.engine)
    assert not reg.has_operator_token()
    first = reg.issue_operator_token().token
    assert reg.authenticate(first).role == "operator"
    second = reg.issue_operator_token().token
    with pytest.raises(AuthenticationError):
        reg.authenticate(first)
    who = reg.authenticate(second)
    assert (who.role, who.tenant_id) == ("operator", None)


def test_consent_defaults_opt_in_and_operator(repo: SqlRecordRepository) -> None:
    _store(repo, "acme", seed=1)
    own = _store(repo, OPERATOR_TENANT, seed=2)
    # Hosted tenants start with no consent; the operator's own records default to both scopes.
    for scope in ("training", "statistics"):
        got = consented_records(repo, scope)
        assert set(got["tenant_id"]) == {OPERATOR_TENANT}
        assert sorted(got["record_id"]) == sorted(own["record_id"])
    # The signed node policy can restrict the operator's own records.
    policy = default_node_policy("node-a", "DE").model_copy(
        update={"consent": Consent(tenants={OPERATOR_TENANT: ("statistics",)})}
    )
    assert consented_records(repo, "training", policy=policy).empty
    assert len(consented_records(repo, "statistics", policy=policy)) == len(own)


def test_policy_default_applies_until_a_tenant_sets_consent(repo: SqlRecordRepository) -> None:
    _store(repo, "acme", seed=1)
    policy = default_node_policy("node-a", "DE").model_copy(
        update={"consent": Consent(default=("statistics",))}
    )
    assert set(consented_records(repo, "statistics", policy=policy)["tenant_id"]) >= {"acme"}
    ConsentLog(repo.engine).set("acme", [], actor="acme")
    assert "acme" not in set(consented_records(repo, "statistics", policy=policy)["tenant_id"])


def test_withdrawal_takes_effect_from_the_next_round(repo: SqlRecordRepository) -> None:
    acme = _store(repo, "acme", seed=1)
    _store(repo, "beta", seed=3)
    log = ConsentLog(repo.engine)
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    log.set("acme", ["training", "statistics"], actor="acme", at=t0)
    log.set("beta", ["training"], actor="beta", at=t0)
    round_r = t0 + timedelta(hours=1)  # round r starts
    log.set("acme", ["statistics"], actor="acme", at=round_r + timedelta(minutes=5))
    round_r1 = round_r + timedelta(hours=1)  # round r+1 starts after the withdrawal

    in_r = consented_records(repo, "training", as_of=round_r)
    in_r1 = consented_records(repo, "training", as_of=round_r1)
    assert set(acme["record_id"]) <= set(in_r.loc[in_r["tenant_id"] == "acme", "record_id"])
    assert "acme" not in set(in_r1["tenant_id"])
    assert "beta" in set(in_r1["tenant_id"])
    # Statistics consent was kept: acme still contributes there.
    assert "acme" in set(consented_records(repo, "statistics", as_of=round_r1)["tenant_id"])
    # Without as_of, "now" is after every change.
    assert "acme" not in set(consented_records(repo, "training")["tenant_id"])


def test_unknown_scope_is_refused(repo: SqlRecordRepository) -> None:
    with pytest.raises(ConsentError, match="marketing"):
        ConsentLog(repo.engine).set("acme", ["marketing"], actor="acme")
    with pytest.raises(ConsentError):
        consented_records(repo, "marketing")  # type: ignore[arg-type]


def test_consent_log_is_a_verifiable_chain(repo: SqlRecordRepository) -> None:
    log = ConsentLog(repo.engine)
    log.set("acme", ["training"], actor="acme")
    log.set("beta", ["statistics", "training"], actor="beta")
    log.set("acme", [], actor="acme")
    exported = log.export()
    assert verify_consent_log(exported) == 3
    assert exported[1]["scopes"] == "training,statistics"
    # An edit in the database (the operator quietly restoring consent) is detected.
    with repo.engine.begin() as conn:
        conn.execute(
            update(consent_log)
            .where(consent_log.c.seq == exported[2]["seq"])
            .values(scopes="training")
        )
    with pytest.raises(ChainError) as info:
        verify_consent_log(log.export())
    assert info.value.index == 2
    # Dropping an entry breaks the link of the next one.
    with pytest.raises(ChainError):
        verify_consent_log([exported[0], exported[2]])
