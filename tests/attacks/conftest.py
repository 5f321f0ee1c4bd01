"""A real trust for the attack tests: four enrolled nodes (two key holders), one key
ceremony, the trust server over mutual TLS, real TenSEAL; shared by the whole package.
``published``: a trust of its own with a real, published training run
(:mod:`tests.attacks.publish_support`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.attacks.adversary import HOLDERS, NODES, Adversary
from tests.attacks.publish_support import Published, published_run
from tests.trust_setup import Trust, running_trust


@pytest.fixture(scope="package")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    with running_trust(tmp_path_factory.mktemp("attacks"), NODES, HOLDERS) as trust:
        yield trust


@pytest.fixture
def adversary(trust: Trust) -> Adversary:
    return Adversary(trust)


@pytest.fixture(scope="package")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """An honest two-round run, published and installed by every node (its own trust)."""
    with published_run(tmp_path_factory.mktemp("publish")) as run:
        yield run
