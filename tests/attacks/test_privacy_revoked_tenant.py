"""Attack: a revoked tenant's records keep feeding training and statistics.

A real hosted node: its node API (FastAPI app) where the tenant uploads records and
consents to training and statistics, and the operator's real ``gcdt-node tenant revoke``.
Before issue 14 revocation only killed the tenant's token: its last consent stayed in
force, so the next round still read its records, and the tenant could no longer log in to
withdraw. Now the revocation withdraws every scope (a consent log entry that verifies) and
the next round's record selection leaves the tenant out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from governance.policy.models import ConsentScope
from trust_node.api import create_app, load_api_settings
from trust_node.cli import app as node_cli
from trust_node.generate import generate
from trust_node.store import SqlRecordRepository
from trust_node.tenants import ConsentLog, consented_records, verify_consent_log


@pytest.mark.parametrize("scope", ["training", "statistics"])
def test_a_revoked_tenant_is_absent_from_the_next_round(
    tmp_path: Path, scope: ConsentScope
) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{tmp_path / 'node.sqlite'}"
    api = create_app(load_api_settings(home=home, database_url=url))
    token = api.state.services.registry.add("acme").token
    records = generate(["IN"], records=6, seed=4).records
    with TestClient(api) as client:
        auth = {"Authorization": f"Bearer {token}"}
        upload = client.post(
            "/v1/records?name=acme.csv",
            content=records.to_csv(index=False).encode(),
            headers={**auth, "Content-Type": "text/csv"},
        )
        assert upload.status_code == 201, upload.text
        consent = client.put(
            "/v1/consent", json={"scopes": ["training", "statistics"]}, headers=auth
        )
        assert consent.status_code == 200, consent.text
    repo = SqlRecordRepository.from_url(url)
    before = consented_records(repo, scope)
    assert set(records["record_id"]) <= set(before["record_id"])  # consented: in the round

    revoked = CliRunner().invoke(
        node_cli, ["tenant", "revoke", "acme", "--home", str(home), "--database-url", url]
    )
    assert revoked.exit_code == 0, revoked.output

    next_round = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    after = consented_records(repo, scope, as_of=next_round)
    assert not set(records["record_id"]) & set(after["record_id"])
    # the withdrawal is a consent change of its own, in a log that verifies
    log = ConsentLog(repo.engine)
    assert [e.scopes for e in log.history("acme")] == [("training", "statistics"), ()]
    assert verify_consent_log(log.export()) == 2
    repo.engine.dispose()
