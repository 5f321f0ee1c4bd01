"""Attacks on the paths a coordinator's identifiers become on a node.

A coordinator (compromised, or an impostor past enrolment) pushes a model whose
``model_id`` or ``version``, or a training round whose ``run`` name, holds ``../``, an
absolute path or a NUL. The node's real ClientApp (with its egress mod) must refuse with
the ``bad_request`` code, and the filesystem outside ``GCDT_HOME`` must be untouched:
before identifiers were checked, ``../`` and absolute paths put the model files (and the
node's plaintext round update) outside ``GCDT_HOME`` and a NUL crashed with its text.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, RecordDict

from kernel.wire import flower as wire
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from open_models.published import PublishedModel
from tests.attacks.door_support import files_outside, leave, message_to
from tests.federation.homes import Federation, running_federation

#: name -> a builder of the hostile identifier, given a directory outside GCDT_HOME
HOSTILE: dict[str, Callable[[Path], str]] = {
    "dotdot": lambda outside: "../../../escaped",
    "absolute": lambda outside: str(outside / "escaped"),
    "nul": lambda outside: "escaped\x00model",
}


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(tmp_path_factory.mktemp("door-paths"), nodes=2, records=30) as f:
        yield f


@pytest.fixture(autouse=True)
def no_model_installed(fed: Federation) -> None:
    """Each attack starts from a node with no installed model."""
    shutil.rmtree(fed.node_homes[0] / "models", ignore_errors=True)


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside every GCDT_HOME, where an absolute path would point."""
    with tempfile.TemporaryDirectory(prefix="door-outside-") as tmp:
        yield Path(tmp)


def _publish(model_id: str, version: str) -> Message:
    model = PublishedModel(model_id, version, initial_weights(FeatureSpec()))
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        files = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    record = ConfigRecord(
        {
            wire.CONTENT_HASH: model.content_hash,
            wire.LOG_INDEX: 1,
            wire.FILE_NAMES: sorted(files),
            **{wire.FILE_PREFIX + name: data for name, data in files.items()},
        }
    )
    return message_to(RecordDict({wire.PUBLISHED: record}), wire.PUBLISH)


def _train(run: str, key_id: str) -> Message:
    spec = FeatureSpec()
    weights = np.asarray(flatten(initial_weights(spec), weight_layout(spec)))
    config = ConfigRecord(
        {
            wire.RUN: run,
            wire.ROUND: 1,
            wire.KEY_ID: key_id,
            wire.CLIP_NORM: 1.0,
            wire.ROUNDS_REMAINING: 1,
        }
    )
    arrays = ArrayRecord({wire.WEIGHTS: Array(weights)})
    return message_to(
        RecordDict({wire.GLOBAL_ARRAYS: arrays, wire.ROUND_CONFIG: config}), wire.TRAIN
    )


def _attack(fed: Federation, outside: Path, message: Message) -> None:
    home = fed.node_homes[0]
    root = home.parent.parent  # where ``../../../escaped`` lands, at the deepest
    before = files_outside(root, home)
    reply = leave(home, message)
    assert files_outside(root, home) - before == set(), "a file was written outside GCDT_HOME"
    assert list(outside.iterdir()) == [], "a file was written at an absolute path"
    assert not (home / "models" / "current").exists(), "the hostile model was installed"
    assert reply.has_error(), "the node accepted a hostile identifier"
    assert reply.error.reason == "bad_request"


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_pushed_model_id_is_refused(fed: Federation, outside: Path, attack: str) -> None:
    _attack(fed, outside, _publish(HOSTILE[attack](outside), "v1"))


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_pushed_model_version_is_refused(fed: Federation, outside: Path, attack: str) -> None:
    _attack(fed, outside, _publish("gcdt-emission-factor", HOSTILE[attack](outside)))


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_training_run_name_is_refused(fed: Federation, outside: Path, attack: str) -> None:
    _attack(fed, outside, _train(HOSTILE[attack](outside), fed.key_id))


def test_a_safe_identifier_passes_the_path_checks(fed: Federation) -> None:
    # The control: the same message with safe identifiers passes the identifier checks, so
    # each attack above is refused for its identifier, not for the way the test builds the
    # message. It then meets the publication checks (this bare model was never published
    # or attested, so it is refused as ``install_refused``, not ``bad_request``); a
    # published, attested model installing is ``test_publish_recomputed``'s control.
    reply = leave(fed.node_homes[0], _publish("gcdt-emission-factor", "run-1"))
    assert reply.has_error() and reply.error.reason == "install_refused"
    assert not (fed.node_homes[0] / "models" / "current").exists()
