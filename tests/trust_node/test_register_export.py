"""The node's register export, as the operator downloads it, passes ``gcdt-audit
verify-register``; the same export after a change in the node's database does not."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from governance.accountability.tables import accountability_entries
from governance.audit_cli import EXIT_FAILED, EXIT_OK
from governance.audit_cli import app as audit_app
from open_models.published import PublishedModel
from open_models.training import TrainConfig, train_centralised
from trust_node.api import create_app, load_api_settings
from trust_node.estimates import model_dir
from trust_node.generate import generate


def test_the_operator_export_verifies_offline_and_a_changed_row_does_not(
    tmp_path: Path,
) -> None:
    settings = load_api_settings(home=tmp_path / "home")
    records = generate(["IN"], records=5, seed=7).records
    weights = train_centralised(records, TrainConfig(epochs=1, batch_size=8, seed=0))
    PublishedModel(model_id="gcdt-test", version="0.1.0", weights=weights).save(model_dir(settings))
    app = create_app(settings)
    svc = app.state.services
    tenant = {"Authorization": f"Bearer {svc.registry.add('acme').token}"}
    operator = {"Authorization": f"Bearer {svc.registry.issue_operator_token().token}"}
    runner = CliRunner()
    with TestClient(app) as client:
        upload = client.post(
            "/v1/records",
            content=records.to_csv(index=False).encode(),
            headers={**tenant, "Content-Type": "text/csv"},
        )
        assert upload.status_code == 201, upload.text
        for _ in range(2):
            assert client.get("/v1/estimates", headers=tenant).status_code == 200
        export = tmp_path / "register.jsonl"
        export.write_text(client.get("/operator/register", headers=operator).text)
        head = json.loads(export.read_text().splitlines()[-1])["entry_hash"]
        result = runner.invoke(audit_app, ["verify-register", str(export), "--head", head])
        assert result.exit_code == EXIT_OK, result.output
        assert "2 entries" in result.output

        with svc.repository.engine.begin() as conn:
            conn.execute(
                update(accountability_entries)
                .where(accountability_entries.c.seq == 1)
                .values(asked_by="tenant:beta")
            )
        export.write_text(client.get("/operator/register", headers=operator).text)
        result = runner.invoke(audit_app, ["verify-register", str(export), "--json"])
        assert result.exit_code == EXIT_FAILED, result.output
        assert json.loads(result.output)["problems"][0]["where"] == "entry 0"
