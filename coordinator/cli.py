"""``gcdt-coordinator``: the coordinator operator's command.

This module only assembles the app from the modules that hold the verbs (set-up, trust
policy, the trust protocol, statistics rounds, the portal, federated training); each
verb resolves the coordinator through the kit's options and its composition root
(:class:`coordinator.context.CoordinatorContext`), and fails the kit's way.
"""

from __future__ import annotations

from coordinator import (
    cli_init,
    cli_log,
    cli_policy,
    cli_portal,
    cli_statistics,
    cli_train,
    cli_trust,
)
from kernel.cli import make_app

app = make_app("gcdt-coordinator", "Global Carbon Data Trust coordinator.")


@app.callback()
def _root() -> None:
    """Global Carbon Data Trust coordinator."""


app.command()(cli_init.init)
app.add_typer(cli_policy.policy_app, name="policy")
app.command("serve")(cli_trust.serve)
app.command("enrol")(cli_trust.enrol)
app.command("revoke")(cli_trust.revoke)
app.command("unregister-supernode")(cli_trust.unregister_supernode_cmd)
app.add_typer(cli_statistics.statistics_app, name="statistics-round")
app.command("portal")(cli_portal.portal)
app.add_typer(cli_log.log_app, name="log")
app.command("superlink")(cli_train.superlink)
app.command("register-supernode")(cli_train.register_supernode_cmd)
app.command("train")(cli_train.train)


def main() -> None:
    """Entry point of the ``gcdt-coordinator`` console script."""
    app()
