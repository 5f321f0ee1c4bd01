"""The trust's one app bundle: what Flower packs from it passes, anything else is refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from flwr.cli.build import build_fab_from_files

from kernel.wire.app_bundle import (
    BUNDLE_DIGEST,
    CLIENT_APP,
    AppBundleRefused,
    check_fab,
    pyproject_text,
)


def _fab(files: dict[str, bytes]) -> bytes:
    fab, _ = build_fab_from_files(files)
    return fab


def test_the_bundle_flower_packs_is_accepted() -> None:
    assert check_fab(_fab({"pyproject.toml": pyproject_text().encode()})) == BUNDLE_DIGEST


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"hostile.py": b"print('hi')\n"}, "carries_files"),
        # a module shadowing the node's own ClientApp, with the pinned component names
        ({"trust_node/federation/client_app.py": b"app = None\n"}, "carries_files"),
    ],
)
def test_a_bundle_carrying_files_is_refused(extra: dict[str, bytes], reason: str) -> None:
    fab = _fab({"pyproject.toml": pyproject_text().encode(), **extra})
    with pytest.raises(AppBundleRefused) as refused:
        check_fab(fab)
    assert refused.value.reason == reason


def test_a_bundle_naming_other_code_is_refused() -> None:
    text = pyproject_text().replace(CLIENT_APP, "hostile:client")
    with pytest.raises(AppBundleRefused) as refused:
        check_fab(_fab({"pyproject.toml": text.encode()}))
    assert refused.value.reason == "names_other_code"


def test_a_bundle_that_differs_from_the_pin_is_refused() -> None:
    text = pyproject_text().replace("rounds = 3", "rounds = 4")
    with pytest.raises(AppBundleRefused) as refused:
        check_fab(_fab({"pyproject.toml": text.encode()}))
    assert refused.value.reason == "differs_from_pin"


def test_a_tampered_manifest_and_a_non_zip_are_refused() -> None:
    good = _fab({"pyproject.toml": pyproject_text().encode()})
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        pyproject = archive.read("pyproject.toml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("pyproject.toml", pyproject)
        archive.writestr(".info/CONTENT", "pyproject.toml,00,8\n")
    with pytest.raises(AppBundleRefused) as refused:
        check_fab(out.getvalue())
    assert refused.value.reason == "bad_manifest"
    with pytest.raises(AppBundleRefused) as refused:
        check_fab(b"not a zip")
    assert refused.value.reason == "not_a_zip"
