"""The key ceremony, key packages and custody, with real keys end to end."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag

from governance.ckks import (
    CeremonyOutput,
    CkksKey,
    CustodyError,
    KeyCustody,
    KeyIdMismatchError,
    KeyPackage,
    KeyPackageDecryptionError,
    KeyPackageError,
    KeyPackageSignatureError,
    MalformedKeyPackageError,
    MissingSecretKeyError,
    NotAddressedToNodeError,
    TransportKey,
    TransportKeyError,
    UnsignedKeyPackageError,
    add_all,
    decrypt,
    encrypt,
    open_key_package,
    open_public_release,
    run_ceremony,
)
from governance.ckks.ceremony import HPKE_SUITE
from governance.ckks.transport import load_transport_public_key
from governance.identity import Identity

NODES = ("node-a", "node-b", "node-c")


@dataclass(frozen=True)
class Federation:
    ceremony: Identity
    transport: dict[str, TransportKey]
    out_2025: CeremonyOutput
    out_2026: CeremonyOutput


@pytest.fixture(scope="module")
def fed() -> Federation:
    ceremony = Identity.generate("ceremony-1")
    transport = {node: TransportKey.generate() for node in NODES}
    holders = [(node, transport[node].public_bytes) for node in NODES]
    return Federation(
        ceremony,
        transport,
        run_ceremony(ceremony, holders, "2025"),
        run_ceremony(ceremony, holders, "2026"),
    )


def _open(
    fed: Federation, package: KeyPackage, node: str, ceremony_key: bytes | None = None
) -> CkksKey:
    return open_key_package(
        package,
        node_id=node,
        transport_key=fed.transport[node],
        ceremony_public_key=ceremony_key or fed.ceremony.public_key,
    )


def test_every_key_holder_opens_the_same_secret_key(fed: Federation) -> None:
    out = fed.out_2025
    assert sorted(out.packages) == sorted(NODES)
    keys = [_open(fed, out.packages[node], node) for node in NODES]
    assert all(k.is_private and k.key_id == out.key_id and k.period == "2025" for k in keys)

    coordinator = open_public_release(
        out.public_release, ceremony_public_key=out.ceremony_public_key
    )
    assert not coordinator.is_private and coordinator.key_id == out.key_id

    rng = np.random.default_rng(3)
    values = [rng.uniform(-1e6, 1e6, 700) for _ in NODES]
    total = add_all(coordinator, [encrypt(coordinator, v.tolist()) for v in values])
    with pytest.raises(MissingSecretKeyError):
        decrypt(coordinator, total)  # invariant 2: the coordinator cannot open the sum
    for key in keys:  # each key holder decrypts the same aggregate
        assert np.max(np.abs(np.array(decrypt(key, total)) - sum(values))) < 1e-3


def test_unsigned_package_is_refused(fed: Federation) -> None:
    package = fed.out_2025.packages["node-a"]
    for unsigned in (replace(package, signature=None), replace(package, signature=b"")):
        with pytest.raises(UnsignedKeyPackageError):
            _open(fed, unsigned, "node-a")


def test_package_signed_by_someone_else_is_refused(fed: Federation) -> None:
    package = fed.out_2025.packages["node-a"]
    impostor = Identity.generate("ceremony-1")  # same name, other key
    forged = replace(package, signature=impostor.sign(package.signed_bytes()))
    with pytest.raises(KeyPackageSignatureError):
        _open(fed, forged, "node-a")
    with pytest.raises(KeyPackageSignatureError):  # genuine package, wrong trusted key
        _open(fed, package, "node-a", ceremony_key=impostor.public_key)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: replace(p, sealed=p.sealed[:100] + bytes([p.sealed[100] ^ 1]) + p.sealed[101:]),
        lambda p: replace(p, period="2027"),
        lambda p: replace(p, key_id="f" * 32),
        lambda p: replace(p, issued_at="2000-01-01T00:00:00+00:00"),
    ],
    ids=["sealed-byte", "period", "key-id", "issued-at"],
)
def test_tampered_package_is_refused(
    fed: Federation, tamper: Callable[[KeyPackage], KeyPackage]
) -> None:
    with pytest.raises(KeyPackageSignatureError):
        _open(fed, tamper(fed.out_2025.packages["node-a"]), "node-a")


def test_package_for_a_cannot_be_opened_by_b(fed: Federation) -> None:
    package_a = fed.out_2025.packages["node-a"]
    with pytest.raises(NotAddressedToNodeError, match="addressed to 'node-a'"):
        _open(fed, package_a, "node-b")
    with pytest.raises(NotAddressedToNodeError, match="another transport key"):
        # node B claiming to be A still holds only B's transport key
        open_key_package(
            package_a,
            node_id="node-a",
            transport_key=fed.transport["node-b"],
            ceremony_public_key=fed.ceremony.public_key,
        )
    # Even at the HPKE level B's key does not open A's seal.
    with pytest.raises(InvalidTag):
        HPKE_SUITE.decrypt(
            package_a.sealed, fed.transport["node-b"].private_key, info=package_a.hpke_info()
        )


def test_mis_sealed_but_signed_package_fails_to_open(fed: Federation) -> None:
    """A faulty ceremony that sealed B's bytes into A's package: signed, yet unopenable."""
    a, b = fed.out_2025.packages["node-a"], fed.out_2025.packages["node-b"]
    broken = replace(a, sealed=b.sealed, signature=None)
    broken = replace(broken, signature=fed.ceremony.sign(broken.signed_bytes()))
    with pytest.raises(KeyPackageDecryptionError):
        _open(fed, broken, "node-a")


def test_package_bytes_round_trip_and_malformed(fed: Federation) -> None:
    package = fed.out_2025.packages["node-c"]
    again = KeyPackage.from_bytes(package.to_bytes())
    assert again == package
    assert _open(fed, again, "node-c").key_id == fed.out_2025.key_id
    for bad in (b"not json", b'{"type": "other"}', package.to_bytes().replace(b'"sealed"', b'"x"')):
        with pytest.raises(MalformedKeyPackageError):
            KeyPackage.from_bytes(bad)


def test_public_release_tampering_is_refused(fed: Federation) -> None:
    release = fed.out_2025.public_release
    other = fed.out_2026.public_release
    with pytest.raises(KeyPackageSignatureError):
        open_public_release(
            replace(release, public_context=other.public_context),
            ceremony_public_key=fed.ceremony.public_key,
        )
    with pytest.raises(UnsignedKeyPackageError):
        open_public_release(
            replace(release, signature=b""), ceremony_public_key=fed.ceremony.public_key
        )


def test_rotation_gives_each_period_its_own_key(fed: Federation, tmp_path: Path) -> None:
    assert fed.out_2025.key_id != fed.out_2026.key_id
    custody = KeyCustody(
        tmp_path / "ckks",
        node_id="node-b",
        transport_key=fed.transport["node-b"],
        ceremony_public_key=fed.ceremony.public_key,
    )
    custody.accept(fed.out_2025.packages["node-b"])
    custody.accept(fed.out_2026.packages["node-b"])
    assert custody.periods() == ["2025", "2026"]

    public_2025 = open_public_release(
        fed.out_2025.public_release, ceremony_public_key=fed.ceremony.public_key
    )
    old = encrypt(public_2025, [4.0, 2.0])
    with pytest.raises(KeyIdMismatchError):
        decrypt(custody.key_for_period("2026"), old)

    # A restarted node (new custody object) finds the right key by the ciphertext's key id.
    restarted = KeyCustody(
        tmp_path / "ckks",
        node_id="node-b",
        transport_key=fed.transport["node-b"],
        ceremony_public_key=fed.ceremony.public_key,
    )
    key = restarted.key_for_id(old.key_id)
    assert key.period == "2025"
    assert decrypt(key, old) == pytest.approx([4.0, 2.0], abs=1e-6)
    with pytest.raises(CustodyError):
        restarted.key_for_period("2030")
    with pytest.raises(CustodyError):
        restarted.key_for_id("0" * 32)


def test_custody_files_are_owner_only_and_refuse_replacement(
    fed: Federation, tmp_path: Path
) -> None:
    custody = KeyCustody(
        tmp_path / "ckks",
        node_id="node-a",
        transport_key=fed.transport["node-a"],
        ceremony_public_key=fed.ceremony.public_key,
    )
    custody.accept(fed.out_2025.packages["node-a"])
    files = list((tmp_path / "ckks").rglob("*.keypkg"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert fed.out_2025.key_id in files[0].name

    second = run_ceremony(fed.ceremony, [("node-a", fed.transport["node-a"].public_bytes)], "2025")
    with pytest.raises(CustodyError, match="already has key"):
        custody.accept(second.packages["node-a"])
    custody.accept(second.packages["node-a"], replace=True)
    assert custody.key_for_period("2025").key_id == second.key_id
    assert len(list((tmp_path / "ckks").rglob("*.keypkg"))) == 1

    with pytest.raises(UnsignedKeyPackageError):
        custody.accept(replace(fed.out_2026.packages["node-a"], signature=None))
    assert custody.periods() == ["2025"]


def test_transport_key_save_load_is_owner_only(tmp_path: Path) -> None:
    key = TransportKey.generate()
    path = key.save(tmp_path / "keys")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TransportKey.load(tmp_path / "keys").public_bytes == key.public_bytes
    assert (tmp_path / "keys" / "transport.pub").read_text().strip() == key.public_bytes.hex()
    assert repr(key) == "TransportKey()"  # key material never reaches a log line
    with pytest.raises(TransportKeyError):
        TransportKey.load(tmp_path / "missing")
    Identity.generate("x").save(tmp_path / "ed")
    (tmp_path / "ed" / "transport.key").write_bytes((tmp_path / "ed" / "identity.key").read_bytes())
    with pytest.raises(TransportKeyError, match="not an X25519"):
        TransportKey.load(tmp_path / "ed")


def test_ceremony_input_is_checked(fed: Federation) -> None:
    good = fed.transport["node-a"].public_bytes
    with pytest.raises(KeyPackageError, match="at least one"):
        run_ceremony(fed.ceremony, [], "2025")
    with pytest.raises(KeyPackageError, match="listed twice"):
        run_ceremony(fed.ceremony, [("n1", good), ("n1", good)], "2025")
    with pytest.raises(KeyPackageError, match="period"):
        run_ceremony(fed.ceremony, [("n1", good)], "../etc")
    with pytest.raises(TransportKeyError, match="n1"):
        run_ceremony(fed.ceremony, [("n1", good[:31])], "2025")
    with pytest.raises(TransportKeyError):
        load_transport_public_key(b"x" * 33)
