"""How ``gcdt-node serve`` decides between its own certificate, the operator's and clear text."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from governance.pki import certificate_fingerprint, load_certificate
from trust_node.api.tls import is_loopback, serve_tls
from trust_node.errors import NodeSetupError


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("node.example.org", False),
    ],
)
def test_loopback_is_only_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_own_root_is_kept_and_each_start_covers_the_hosts(tmp_path: Path) -> None:
    first = serve_tls(tmp_path, "0.0.0.0", node_id="node-a", extra_hosts=("node.example.org",))
    second = serve_tls(tmp_path, "10.0.0.5", node_id="node-a")
    assert first.scheme == second.scheme == "https"
    assert first.root_fingerprint_sha256 == second.root_fingerprint_sha256  # pinned once
    assert first.root_file is not None and first.cert_file is not None
    root = load_certificate(first.root_file)
    assert certificate_fingerprint(root) == first.root_fingerprint_sha256
    assert second.cert_file is not None
    cert = load_certificate(second.cert_file)
    cert.verify_directly_issued_by(root)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    shown = {str(v) for v in names.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "10.0.0.5"} <= shown and "0.0.0.0" not in shown
    assert (tmp_path / "api-tls" / "server.key").stat().st_mode & 0o077 == 0


def test_operator_certificate_is_used_as_given(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("y")
    tls = serve_tls(tmp_path, "0.0.0.0", node_id="n", cert_file=cert, key_file=key)
    assert (tls.cert_file, tls.key_file, tls.root_file) == (cert, key, None)
    with pytest.raises(NodeSetupError, match="both --tls-cert and --tls-key"):
        serve_tls(tmp_path, "0.0.0.0", node_id="n", cert_file=cert)
    with pytest.raises(NodeSetupError, match="does not exist"):
        serve_tls(tmp_path, "0.0.0.0", node_id="n", cert_file=cert, key_file=tmp_path / "no")


def test_clear_text_only_on_loopback_and_never_with_a_certificate(tmp_path: Path) -> None:
    assert serve_tls(tmp_path, "127.0.0.1", node_id="n", insecure_http=True).scheme == "http"
    with pytest.raises(NodeSetupError, match=r"refusing plain HTTP on '10\.0\.0\.5'"):
        serve_tls(tmp_path, "10.0.0.5", node_id="n", insecure_http=True)
    with pytest.raises(NodeSetupError, match="exclude each other"):
        serve_tls(tmp_path, "127.0.0.1", node_id="n", insecure_http=True, cert_file=tmp_path)
    assert not (tmp_path / "api-tls").exists()
