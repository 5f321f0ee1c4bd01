"""Attack: the coordinator pushes a model no key holder attested.

After an honest, attested run (``publish_support``), the coordinator publishes (and logs)
a model under the same run and pushes it to every node: once with the rounds' signed
attestations left out of the publication, once as a run that never had an attested round
at all. Every node must refuse it with ``install_refused``, write nothing of it (no
archive, no staging directory) and keep the model it has, with the reason in its own
refusal log; ``gcdt-audit verify-model`` fails both. On a11d848 each node installed
whatever hashed to what the message announced.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coordinator.federation.rounds import TrainingResult
from governance.audit_cli import app
from kernel.wire import flower as wire
from tests.attacks.publish_support import MODEL_ID, Published, error_reasons
from trust_node.context import NodeContext


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def without_envelopes(published: Published) -> TrainingResult:
    """The honest rounds, their signed attestations left out of the publication."""
    rounds = [dataclasses.replace(r, attestations=[]) for r in published.result.rounds]
    return dataclasses.replace(published.result, rounds=rounds)


def never_attested(published: Published) -> TrainingResult:
    """A run with no round at all: weights of the coordinator's choosing."""
    return dataclasses.replace(published.result, rounds=[])


ATTACKS = {"without-envelopes": without_envelopes, "never-attested": never_attested}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_unattested_model_is_refused_and_nothing_is_written(
    published: Published, tmp_path: Path, attack: str
) -> None:
    version = f"unattested-{attack}"
    homes = published.fed.node_homes
    before = {home: tree(home / "models") for home in homes}
    weights = np.array(published.result.weights, dtype=np.float64)
    weights[0] += 0.25  # what the coordinator would rather have published
    published.push(version, weights, ATTACKS[attack](published))

    replies = published.grid.publish_replies()
    assert error_reasons(replies) == [wire.ReasonCode.INSTALL_REFUSED.value] * len(replies)
    for node, home in enumerate(homes):
        installed = published.installed(node)
        assert installed is not None and installed.content_hash == published.content_hash
        assert tree(home / "models") == before[home], "the refused push wrote files"
        assert not (home / "models" / MODEL_ID / version).exists()
        reasons = [r.reason for r in NodeContext.open(home).refusals.entries()]
        assert any(version in r for r in reasons), reasons

    result = CliRunner().invoke(
        app,
        [
            "verify-model",
            MODEL_ID,
            "--export",
            str(published.export(tmp_path / "export")),
            "--version",
            version,
            "--json",
        ],
    )
    assert result.exit_code == 1, result.stdout
    assert not json.loads(result.stdout)["ok"]
