"""``gcdt-coordinator init`` sets up a working trust root, identity, TLS and a policy draft."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import inspect
from typer.testing import CliRunner

from coordinator.cli import app
from governance.identity import Identity
from governance.pki import (
    HomeLayout,
    TrustRoot,
    certificate_fingerprint,
    generate_tls_key,
    load_certificate,
    load_private_key,
    make_csr,
    verify_node_certificate,
)
from governance.policy import TrustPolicy
from governance.policy.trust_chain import parse_trust_toml
from kernel.db import make_engine

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "coordinator-home"
    monkeypatch.setenv("GCDT_HOME", str(home))
    monkeypatch.delenv("GCDT_DATABASE_URL", raising=False)
    return home


def test_init_creates_a_usable_coordinator_home(home: Path) -> None:
    result = runner.invoke(app, ["init", "--host", "coord.example.org", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    layout = HomeLayout(home)
    assert out["home"] == str(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700

    # Every private key is owner-only, and none of them is printed.
    private = [
        layout.pki_dir / "ca.key",
        layout.identity_dir / "identity.key",
        layout.tls_key,
    ]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_bytes().strip().splitlines()[1].decode() not in result.output

    # The server certificate chains to the root and names every host.
    root = TrustRoot.load(layout.pki_dir)
    server = load_certificate(layout.tls_cert)
    server.verify_directly_issued_by(root.certificate)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "coord.example.org"]
    assert load_private_key(layout.tls_key).public_key() == server.public_key()
    assert load_certificate(layout.ca_cert) == root.certificate
    assert out["trust_root_fingerprint_sha256"] == certificate_fingerprint(root.certificate)

    identity = Identity.load(layout.identity_dir)
    assert identity.party_id == "coordinator"
    assert out["identity_public_key"] == identity.public_key.hex()
    # Only a draft of the trust policy: it names no one, and nothing is in force until the
    # founding members sign version 1 (the coordinator's identity signs no trust policy).
    policy = parse_trust_toml(layout.trust_draft.read_text())
    assert isinstance(policy, TrustPolicy) and policy.trust_id == "gcdt" and not policy.founded
    assert not layout.trust_policy.exists()

    # Governance tables exist in the default SQLite database.
    engine = make_engine(f"sqlite:///{home / 'gcdt.sqlite'}")
    try:
        assert "envelope_nonces" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    # The trust root can enrol a node straight away.
    node = Identity.generate("node-cn-1")
    cert = root.issue_node_certificate(
        make_csr(generate_tls_key(), "node-cn-1"), "node-cn-1", "CN", node.public_key
    )
    assert verify_node_certificate(cert, root.certificate).jurisdiction == "CN"


def test_init_refuses_to_overwrite(home: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    ca_key = (home / "pki" / "ca.key").read_bytes()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 1
    assert "already initialised" in again.output
    assert (home / "pki" / "ca.key").read_bytes() == ca_key


def test_init_with_explicit_home_and_bad_id(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--home", str(tmp_path / "h"), "--coordinator-id", "a b"])
    assert result.exit_code == 1
    assert "party id" in result.output
    assert not (tmp_path / "h" / "pki" / "ca.key").exists()
