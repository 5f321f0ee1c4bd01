"""How ``gcdt-node serve`` is reached: HTTPS by default, plain HTTP only on loopback.

SME tenants send bearer tokens and their facility records to the node API, so the API
never listens in clear text where another machine could read it. Three ways to serve:

* **the node's own API root** (default): a self-signed root kept in
  ``<GCDT_HOME>/api-tls/root/`` (made once with :class:`governance.pki.TrustRoot`, the
  same code as the trust root) issues a fresh server certificate at every start for the
  hosts the API answers on. The root stays the same across restarts, so a tenant pins it
  once: its path and SHA-256 fingerprint are printed at ``serve`` for the operator to
  hand to tenants out of band. It is *not* the trust's root: the coordinator must not be
  able to impersonate a node to its tenants.
* **an operator-given certificate** (``--tls-cert`` and ``--tls-key``, e.g. from the
  hosting body's public CA), used as is.
* **plain HTTP**, only with ``--insecure-http`` and only on a loopback address
  (127.0.0.0/8, ``::1``, ``localhost``): for a reverse proxy on the same machine that
  terminates TLS itself, or a local test. Anything else is refused before a socket opens.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from governance.errors import GovernanceError
from governance.pki import (
    CA_CERT_FILE,
    DEFAULT_LEAF_DAYS,
    TrustRoot,
    certificate_fingerprint,
    generate_tls_key,
    make_csr,
    save_certificate,
    save_private_key,
)
from trust_node.errors import NodeSetupError

#: Where the node's own API root and its current server certificate live under GCDT_HOME.
API_TLS_DIR = "api-tls"
#: Names a server certificate always covers (a tenant on the node's machine, the demo).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class ServeTls:
    """What uvicorn is given; ``cert_file is None`` means plain HTTP (loopback only)."""

    cert_file: Path | None
    key_file: Path | None
    root_file: Path | None = None
    root_fingerprint_sha256: str | None = None

    @property
    def scheme(self) -> str:
        return "http" if self.cert_file is None else "https"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; a wildcard (0.0.0.0, ::) is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_tls(
    home: Path,
    host: str,
    *,
    node_id: str,
    insecure_http: bool = False,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    extra_hosts: tuple[str, ...] = (),
) -> ServeTls:
    """Decide how the API on ``host`` is served; refuses clear text off loopback."""
    if insecure_http:
        if cert_file is not None or key_file is not None:
            raise NodeSetupError("--insecure-http and --tls-cert/--tls-key exclude each other")
        if not is_loopback(host):
            raise NodeSetupError(
                f"refusing plain HTTP on {host!r}: tenants' tokens and records would cross "
                "the network in clear text; plain HTTP is allowed only on a loopback address "
                "(127.0.0.1, ::1, localhost). Drop --insecure-http to serve HTTPS."
            )
        return ServeTls(None, None)
    if (cert_file is None) != (key_file is None):
        raise NodeSetupError("give both --tls-cert and --tls-key, or neither")
    if cert_file is not None and key_file is not None:
        for path in (cert_file, key_file):
            if not path.is_file():
                raise NodeSetupError(f"TLS file {path} does not exist")
        return ServeTls(cert_file, key_file)
    return _own_certificate(home / API_TLS_DIR, node_id, (host, *extra_hosts))


def _own_certificate(directory: Path, node_id: str, hosts: tuple[str, ...]) -> ServeTls:
    """A fresh server certificate from the node's API root (created on first use)."""
    root_dir = directory / "root"
    names = [*LOOPBACK_NAMES, *(h for h in hosts if h and not _is_wildcard(h))]
    try:
        root = (
            TrustRoot.load(root_dir)
            if (root_dir / CA_CERT_FILE).exists()
            else TrustRoot.create(root_dir, name=f"{node_id} node API root")
        )
        key = generate_tls_key()
        cert = root.issue_server_certificate(
            make_csr(key, node_id), node_id, list(dict.fromkeys(names)), DEFAULT_LEAF_DAYS
        )
    except GovernanceError as exc:
        raise NodeSetupError(
            f"cannot issue the node API certificate in {directory}: {exc}"
        ) from exc
    key_path = save_private_key(directory / "server.key", key)
    cert_path = save_certificate(directory / "server.crt", cert)
    return ServeTls(
        cert_path,
        key_path,
        root_file=root_dir / CA_CERT_FILE,
        root_fingerprint_sha256=certificate_fingerprint(root.certificate),
    )


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False
