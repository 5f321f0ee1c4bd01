"""A key holder's custody of its CKKS secret keys, one per accounting period.

Custody stores the sealed, signed packages exactly as the ceremony sent them (0600),
never the raw secret context: at rest a secret key is as safe as the transport key file,
and every load re-verifies the ceremony's signature. Rotation is a new ceremony per
period; old periods stay readable so late aggregates of a closed period still open.
"""

from __future__ import annotations

from pathlib import Path

from governance.ckks.ceremony import KeyPackage, check_name, open_key_package
from governance.ckks.context import CkksKey
from governance.ckks.errors import CustodyError
from governance.ckks.transport import TransportKey
from governance.identity import write_secret

PACKAGE_SUFFIX = ".keypkg"


class KeyCustody:
    def __init__(
        self,
        directory: Path,
        *,
        node_id: str,
        transport_key: TransportKey,
        ceremony_public_key: bytes,
    ) -> None:
        self.directory = directory
        self.node_id = node_id
        self._transport_key = transport_key
        self._ceremony_public_key = ceremony_public_key
        self._cache: dict[str, CkksKey] = {}

    def _path(self, period: str, key_id: str) -> Path:
        return self.directory / check_name("period", period) / f"{key_id}{PACKAGE_SUFFIX}"

    def accept(self, package: KeyPackage, *, replace: bool = False) -> CkksKey:
        """Verify and open ``package``, then keep it as this node's key for its period."""
        key = open_key_package(
            package,
            node_id=self.node_id,
            transport_key=self._transport_key,
            ceremony_public_key=self._ceremony_public_key,
        )
        existing = self._package_paths(package.period)
        if existing and existing != [self._path(package.period, key.key_id)] and not replace:
            raise CustodyError(
                f"period {package.period} already has key {existing[0].stem}; "
                "pass replace=True to rotate within a period"
            )
        for path in existing:
            path.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        write_secret(self._path(package.period, key.key_id), package.to_bytes())
        self._path(package.period, key.key_id).parent.chmod(0o700)
        self._cache[package.period] = key
        return key

    def _package_paths(self, period: str) -> list[Path]:
        folder = self.directory / check_name("period", period)
        return sorted(folder.glob(f"*{PACKAGE_SUFFIX}")) if folder.is_dir() else []

    def periods(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if self._package_paths(p.name))

    def key_for_period(self, period: str) -> CkksKey:
        if period in self._cache:
            return self._cache[period]
        paths = self._package_paths(period)
        if not paths:
            raise CustodyError(f"node {self.node_id!r} holds no CKKS key for period {period}")
        package = KeyPackage.from_bytes(paths[0].read_bytes())
        key = open_key_package(
            package,
            node_id=self.node_id,
            transport_key=self._transport_key,
            ceremony_public_key=self._ceremony_public_key,
        )
        self._cache[period] = key
        return key

    def key_for_id(self, key_id: str) -> CkksKey:
        """The key a ciphertext names, whichever period it belongs to."""
        for period in self.periods():
            if any(p.stem == key_id for p in self._package_paths(period)):
                return self.key_for_period(period)
        raise CustodyError(f"node {self.node_id!r} holds no CKKS key with id {key_id}")
