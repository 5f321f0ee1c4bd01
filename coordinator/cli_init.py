"""``gcdt-coordinator init``: a coordinator's state, set up once.

The trust root, the coordinator's Ed25519 identity, its TLS server certificate and a
signed default trust policy, then the database (logged policy included). Private keys
are written 0600 and never printed; only paths, fingerprints and public keys are.
"""

from __future__ import annotations

import shutil
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from coordinator.cli_common import coordinator, redacted, run
from coordinator.context import CoordinatorContext
from coordinator.store import CoordinatorError
from governance.identity import Identity, identity_fingerprint
from governance.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    DEFAULT_LEAF_DAYS,
    TrustRoot,
    certificate_fingerprint,
    check_party_id,
    generate_tls_key,
    make_csr,
    save_certificate,
    save_private_key,
)
from governance.policy import default_trust_policy, policy_to_toml
from kernel.cli import DatabaseOpt, HomeOpt, JsonOpt, print_json

DEFAULT_HOSTS = ("localhost", "127.0.0.1")


def init(
    home: HomeOpt = None,
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
    database_url: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the trust root, the coordinator identity, its TLS certificate and trust policy."""
    context = coordinator(home, database_url, create=True)
    hosts = list(dict.fromkeys([*DEFAULT_HOSTS, *(host or [])]))
    result = run(
        lambda: _initialise(context, coordinator_id, trust_id, hosts, days), as_json=as_json
    )
    if as_json:
        print_json(result)
        return
    typer.echo(f"Initialised coordinator {coordinator_id!r} in {result['home']}")
    typer.echo(f"  trust root:        {result['trust_root_certificate']}")
    typer.echo(f"  root fingerprint:  {result['trust_root_fingerprint_sha256']}")
    typer.echo(f"  identity key:      {result['identity_public_key']}")
    typer.echo(f"  identity fingerprint: {result['identity_key_fingerprint_sha256']}")
    typer.echo(
        "Hand both fingerprints to every node operator out of band: `gcdt-node enrol` "
        "needs --expect-ca-fingerprint and --expect-coordinator-fingerprint."
    )
    typer.echo(f"  server cert:       {result['server_certificate']} ({', '.join(hosts)})")
    typer.echo(
        f"  trust policy draft: {result['trust_policy_draft']} (in force once its members sign it)"
    )


def _initialise(
    context: CoordinatorContext, coordinator_id: str, trust_id: str, hosts: list[str], days: int
) -> dict[str, Any]:
    layout = context.layout
    existing = [
        p
        for p in (
            layout.pki_dir / CA_KEY_FILE,
            layout.identity_dir / "identity.key",
            layout.tls_key,
            layout.trust_policy,
            layout.trust_draft,
        )
        if p.exists()
    ]
    if existing:
        raise CoordinatorError(
            f"{layout.home} is already initialised ({existing[0]} exists); "
            "refusing to overwrite keys"
        )
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
    layout.trust_draft.parent.mkdir(parents=True, exist_ok=True)
    layout.trust_draft.write_bytes(policy_to_toml(default_trust_policy(trust_id)))
    url = context.settings.database_url
    try:
        context.translog.size()
    except SQLAlchemyError as exc:
        raise CoordinatorError(
            f"cannot create governance tables at {redacted(url)}: {exc}"
        ) from exc
    return {
        "home": str(layout.home),
        "coordinator_id": coordinator_id,
        "identity_public_key": identity.public_key.hex(),
        "identity_key_fingerprint_sha256": identity_fingerprint(identity.public_key),
        "trust_root_certificate": str(layout.ca_cert),
        "trust_root_fingerprint_sha256": certificate_fingerprint(root.certificate),
        "server_certificate": str(layout.tls_cert),
        "server_hosts": hosts,
        "trust_policy_draft": str(layout.trust_draft),
        "database_url": redacted(url),
    }
