"""``gcdt-node``: the node operator's command line.

This module only assembles the app from the modules that hold the verbs (records,
tenants, policy, trust set-up, statistics, federation); each verb resolves the node
through the kit's options, calls a service and renders the result (rich for people,
``--json`` for scripts). Every node error becomes the kit's error rendering and exit 1.
"""

from __future__ import annotations

from kernel.cli import make_app
from trust_node import (
    cli_attest,
    cli_federation,
    cli_policy,
    cli_records,
    cli_statistics,
    cli_tenants,
    cli_trust,
    cli_witness,
)

app = make_app(
    "gcdt-node",
    "Run a Global Carbon Data Trust node: ingest records, compute Tier-1 figures.",
)

app.command()(cli_records.ingest)
app.command()(cli_records.show)
app.command()(cli_records.tier1)
app.command()(cli_records.factors)
app.command()(cli_records.generate)
app.add_typer(cli_tenants.tenant_app, name="tenant")
app.command("operator-token")(cli_tenants.operator_token)
app.command("serve")(cli_tenants.serve)
app.add_typer(cli_policy.policy_app, name="policy")
app.command("init")(cli_trust.init)
app.command("enrol")(cli_trust.enrol)
app.command("key-ceremony")(cli_trust.key_ceremony)
app.command("fetch-keys")(cli_trust.fetch_keys_cmd)
app.command("submit-statistics")(cli_statistics.submit_statistics_cmd)
app.command("attest")(cli_attest.attest_cmd)
app.add_typer(cli_witness.witness_app, name="witness")
app.command("supernode")(cli_federation.supernode)
app.command("estimate")(cli_federation.estimate)
app.command("evaluation-set")(cli_federation.evaluation_set_cmd)


def main() -> None:
    """Entry point of the ``gcdt-node`` console script."""
    app()


if __name__ == "__main__":
    main()
