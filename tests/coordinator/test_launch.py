"""What the coordinator's Flower launcher refuses before any process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.federation.config import FederationConfig
from coordinator.federation.launch import (
    LaunchError,
    SuperLinkSpec,
    is_loopback,
    write_app_dir,
    write_run_config,
)
from kernel.wire.app_bundle import pyproject_text


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "coordinator.example"])
def test_the_superlink_never_listens_beyond_loopback(tmp_path: Path, host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(LaunchError, match="loopback"):
        SuperLinkSpec(tmp_path, host=host).command()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


def test_a_run_is_the_pinned_bundle_plus_typed_values(tmp_path: Path) -> None:
    app = write_app_dir(tmp_path / "app")
    assert [p.name for p in app.iterdir()] == ["pyproject.toml"]
    assert (app / "pyproject.toml").read_text() == pyproject_text()
    config = FederationConfig(coordinator_home=tmp_path, rounds=2, round_timeout_s=90)
    text = write_run_config(tmp_path / "run.toml", config).read_text()
    assert '"rounds" = 2\n' in text and '"round-timeout" = 90.0\n' in text
