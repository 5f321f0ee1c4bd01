"""``gcdt-coordinator``: the coordinator operator's command.

``init`` sets up a coordinator's state once: the trust root, the coordinator's Ed25519
identity, its TLS server certificate and a signed default trust policy, then the
governance tables. Other verbs are added to ``app`` by the modules that own them.
Private keys are written 0600 and never printed; only paths, fingerprints and public
keys are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from coordinator.policy_log import log_policy
from governance.errors import GovernanceError
from governance.identity import Identity
from governance.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    DEFAULT_LEAF_DAYS,
    HomeLayout,
    TrustRoot,
    certificate_fingerprint,
    check_party_id,
    generate_tls_key,
    make_csr,
    save_certificate,
    save_private_key,
)
from governance.policy import default_trust_policy, load_policy, write_policy
from governance.tables import migrate
from kernel.db import make_engine
from kernel.settings import load_settings

DEFAULT_HOSTS = ("localhost", "127.0.0.1")

app = typer.Typer(
    name="gcdt-coordinator",
    help="Global Carbon Data Trust coordinator.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Global Carbon Data Trust coordinator."""


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@app.command()
def init(
    home: Annotated[Path | None, typer.Option(help="State directory (default: GCDT_HOME).")] = None,
    coordinator_id: Annotated[
        str, typer.Option("--coordinator-id", help="The coordinator's party id.")
    ] = "coordinator",
    trust_id: Annotated[str, typer.Option("--trust-id", help="Name of the trust.")] = "gcdt",
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            help="Extra DNS name or IP of the coordinator (repeatable); "
            "localhost and 127.0.0.1 are always included.",
        ),
    ] = None,
    days: Annotated[
        int, typer.Option(help="Validity of the server certificate in days.")
    ] = DEFAULT_LEAF_DAYS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create the trust root, the coordinator identity, its TLS certificate and trust policy."""
    settings = load_settings(home=home)
    layout = HomeLayout(settings.ensure_home())
    hosts = list(dict.fromkeys([*DEFAULT_HOSTS, *(host or [])]))
    existing = [
        p
        for p in (
            layout.pki_dir / CA_KEY_FILE,
            layout.identity_dir / "identity.key",
            layout.tls_key,
            layout.trust_policy,
        )
        if p.exists()
    ]
    if existing:
        _fail(
            f"{layout.home} is already initialised ({existing[0]} exists); "
            "refusing to overwrite keys"
        )
    try:
        check_party_id(coordinator_id)
        root = TrustRoot.create(layout.pki_dir)
        identity = Identity.generate(coordinator_id)
        identity.save(layout.identity_dir)
        tls_key = generate_tls_key()
        save_private_key(layout.tls_key, tls_key)
        server_cert = root.issue_server_certificate(
            make_csr(tls_key, coordinator_id), coordinator_id, hosts, days
        )
        save_certificate(layout.tls_cert, server_cert)
        shutil.copyfile(layout.pki_dir / CA_CERT_FILE, layout.ca_cert)
        write_policy(default_trust_policy(trust_id), layout.trust_policy, identity)
    except GovernanceError as exc:
        _fail(str(exc))
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        policy = load_policy(layout.trust_policy, "trust", identity.public_key)
        log_policy(engine, identity, policy, layout.trust_policy)
    except SQLAlchemyError as exc:
        _fail(f"cannot create governance tables at {_redacted(settings.database_url)}: {exc}")
    finally:
        engine.dispose()

    result = {
        "home": str(layout.home),
        "coordinator_id": coordinator_id,
        "identity_public_key": identity.public_key.hex(),
        "trust_root_certificate": str(layout.ca_cert),
        "trust_root_fingerprint_sha256": certificate_fingerprint(root.certificate),
        "server_certificate": str(layout.tls_cert),
        "server_hosts": hosts,
        "trust_policy": str(layout.trust_policy),
        "database_url": _redacted(settings.database_url),
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"Initialised coordinator {coordinator_id!r} in {layout.home}")
        typer.echo(f"  trust root:        {result['trust_root_certificate']}")
        typer.echo(f"  root fingerprint:  {result['trust_root_fingerprint_sha256']}")
        typer.echo(f"  identity key:      {result['identity_public_key']}")
        typer.echo(f"  server cert:       {result['server_certificate']} ({', '.join(hosts)})")
        typer.echo(f"  trust policy:      {result['trust_policy']}")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


from coordinator import cli_policy  # noqa: E402  (trust policy changes, logged)

app.add_typer(cli_policy.policy_app, name="policy")

from coordinator import cli_trust  # noqa: E402  (verbs of the trust protocol)

app.command("serve")(cli_trust.serve)
app.command("enrol")(cli_trust.enrol)
app.command("revoke")(cli_trust.revoke)

from coordinator import cli_statistics  # noqa: E402  (issue 6: encrypted statistics)

app.add_typer(cli_statistics.statistics_app, name="statistics-round")

from coordinator import cli_portal  # noqa: E402  (issue 8: transparency API and portal)

app.command("portal")(cli_portal.portal)

from coordinator import cli_train  # noqa: E402  (issue 5: federated training)

app.command("superlink")(cli_train.superlink)
app.command("register-supernode")(cli_train.register_supernode_cmd)
app.command("train")(cli_train.train)


def main() -> None:
    app()
