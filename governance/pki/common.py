"""Constants, party-id and jurisdiction checks, and where PKI files live in a home."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from governance.errors import (
    CertificateInvalidError,
)

PKI_DIRNAME = "pki"
CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.crt"
CRL_FILE = "crl.pem"
ISSUED_DIRNAME = "issued"

NODE_URI_PREFIX = "gcdt://node/"
IDENTITY_URI_PREFIX = "gcdt://identity/ed25519/"

CA_VALIDITY_DAYS = 3650
DEFAULT_LEAF_DAYS = 365
CRL_VALIDITY_DAYS = 30
#: Backdating tolerates small clock differences between issuer and verifier.
BACKDATE = dt.timedelta(minutes=5)

_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}$")
_ED25519_PUBLIC_KEY_LEN = 32


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_party_id(party_id: str) -> str:
    """A node or coordinator id: 1-128 chars of letters, digits, ``_.:-`` (safe in a URI)."""
    if not _PARTY_ID.match(party_id):
        raise CertificateInvalidError(
            f"party id {party_id!r} must be 1-128 letters, digits or '_.:-', "
            "starting with a letter or digit"
        )
    return party_id


def check_jurisdiction(jurisdiction: str) -> str:
    """Refuse (:class:`CertificateInvalidError`) a jurisdiction that is not an upper-case ISO
    3166-1 alpha-2 code, before it is bound into an enrolment or a certificate.
    """
    if not _JURISDICTION.match(jurisdiction):
        raise CertificateInvalidError(
            f"jurisdiction {jurisdiction!r} must be an ISO 3166-1 alpha-2 code in upper case"
        )
    return jurisdiction


@dataclass(frozen=True)
class HomeLayout:
    """Where a party (coordinator or node) keeps identity, TLS and policy files in GCDT_HOME.

    ``pki/`` (the trust root) exists only on the coordinator; ``tls/ca.crt`` is every
    party's copy of the trust root certificate, what it verifies its peers against.
    """

    home: Path

    @property
    def pki_dir(self) -> Path:
        return self.home / PKI_DIRNAME

    @property
    def identity_dir(self) -> Path:
        return self.home / "identity"

    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    @property
    def tls_key(self) -> Path:
        return self.tls_dir / "key.pem"

    @property
    def tls_cert(self) -> Path:
        return self.tls_dir / "cert.pem"

    @property
    def ca_cert(self) -> Path:
        return self.tls_dir / CA_CERT_FILE

    @property
    def policy_dir(self) -> Path:
        return self.home / "policies"

    @property
    def trust_policy(self) -> Path:
        return self.policy_dir / "trust.toml"

    @property
    def trust_draft(self) -> Path:
        """The coordinator's unsigned draft of the founding trust policy (names no one)."""
        return self.policy_dir / "trust-draft.toml"

    @property
    def node_policy(self) -> Path:
        return self.policy_dir / "node.toml"
