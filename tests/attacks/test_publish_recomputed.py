"""Attack: the coordinator publishes weights that are not the attested aggregate's.

After an honest, attested two-round run (``publish_support``), the coordinator publishes
(and logs the content hash of) the same run's model with its weights changed: by one ulp
of float64 (the update rule's precision) in one weight, and by 0.6 in the mean head's
bias. The attestations, the log and the card are the honest ones. ``gcdt-audit
verify-model`` must fail each (on a11d848 both passed: nothing recomputed the weights), and
every node must refuse to install it and keep the honest model (on a11d848 each installed
it). The control: the honest model verifies and every node installed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from governance.audit_cli import app
from kernel.wire import flower as wire
from open_models.network import weight_layout
from tests.attacks.publish_support import MODEL_ID, RUN, Published, error_reasons

runner = CliRunner()


def _audit(root: Path, version: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app, ["verify-model", MODEL_ID, "--export", str(root), "--version", version, "--json"]
    )
    return result.exit_code, json.loads(result.stdout)


def _offset(published: Published, name: str) -> int:
    """Where tensor ``name`` starts in the flat weight vector."""
    start = 0
    for tensor, shape in weight_layout(published.spec):
        if tensor == name:
            return start
        start += int(np.prod(shape))
    raise KeyError(name)


def one_ulp(published: Published, weights: np.ndarray) -> np.ndarray:
    """One float64 ulp up in the first weight of the mean head's bias."""
    i = _offset(published, "ef_out.bias")
    weights[i] = np.nextafter(weights[i], np.inf)
    return weights


def bias_shift(published: Published, weights: np.ndarray) -> np.ndarray:
    """The mean head's bias (``ef_out.bias[0]``: the mean of log1p intensity) shifted by 0.6."""
    weights[_offset(published, "ef_out.bias")] += 0.6
    return weights


TAMPER: dict[str, Callable[[Published, np.ndarray], np.ndarray]] = {
    "one-ulp": one_ulp,
    "bias-0.6": bias_shift,
}


def test_the_honest_model_verifies_and_every_node_installed_it(
    published: Published, tmp_path: Path
) -> None:
    code, report = _audit(published.export(tmp_path / "export"), RUN)
    assert code == 0, report
    assert report["rounds"] == [1, 2] and report["t"] == 2
    for node in range(len(published.fed.node_homes)):
        installed = published.installed(node)
        assert installed is not None and installed.content_hash == published.content_hash


@pytest.mark.parametrize("attack", sorted(TAMPER))
def test_weights_off_the_attested_aggregate_fail_audit_and_install(
    published: Published, tmp_path: Path, attack: str
) -> None:
    version = f"{RUN}-{attack}"
    forged = TAMPER[attack](published, np.array(published.result.weights, dtype=np.float64))
    assert not np.array_equal(forged, published.result.weights)
    published.push(version, forged)

    code, report = _audit(published.export(tmp_path / "export"), version)
    assert code == 1, report
    assert "weights-not-recomputed" in {p["code"] for p in report["problems"]}, report
    # the hash is logged and the attestations are honest: only the recomputation catches it
    assert "hash-not-logged" not in {p["code"] for p in report["problems"]}

    replies = published.grid.publish_replies()
    assert error_reasons(replies) == [wire.ReasonCode.INSTALL_REFUSED.value] * len(replies)
    for node, home in enumerate(published.fed.node_homes):
        installed = published.installed(node)
        assert installed is not None and installed.content_hash == published.content_hash
        assert not (home / "models" / MODEL_ID / version).exists()
        assert not (home / "models" / ".staging").exists()
