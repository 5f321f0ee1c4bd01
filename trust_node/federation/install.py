"""Installing a published model sent by the coordinator's ``query.publish`` message.

The message carries the files of a :class:`open_models.published.PublishedModel`
directory, its content hash and the transparency-log index of its publication. The node
writes them to a staging directory, loads them (``PublishedModel.load`` re-verifies the
content hash), checks the hash equals the one announced, and only then swaps the staging
directory in as ``GCDT_HOME/models/current/`` (older versions stay under
``models/<model_id>/<version>/``). The estimate service reads ``models/current``.

The model id, version and file names come from the coordinator: each must be a
:func:`kernel.paths.identifier` and every path is built with :func:`kernel.paths.within`
``GCDT_HOME``, so a ``../``, an absolute path or a NUL is refused before anything is
written and nothing lands outside ``GCDT_HOME``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flwr.app import ConfigRecord

from kernel import paths
from kernel.wire import flower as wire
from open_models.errors import OpenModelsError
from open_models.published import PublishedModel
from trust_node.context import CURRENT_MODEL_DIR, MODELS_DIR, NodeContext
from trust_node.federation.errors import PublishedModelRejectedError
from trust_node.federation.fields import get_int

PUBLICATION_FILE = "publication.json"
#: Where the files are written first: a hidden name, so no model id can be it.
STAGING_DIR = ".staging"


def install_published(runtime: NodeContext, record: ConfigRecord) -> PublishedModel:
    """Install the model a publish message carries, only if its hash is the announced one."""
    models = paths.within(runtime.home, MODELS_DIR)
    staging = _stage(record, models / STAGING_DIR)
    try:
        model = PublishedModel.load(staging)
    except OpenModelsError as exc:
        raise PublishedModelRejectedError(f"published model does not verify: {exc}") from exc
    _check_announced(record, model)
    (staging / PUBLICATION_FILE).write_text(
        json.dumps(
            {
                "model_id": model.model_id,
                "version": model.version,
                "content_hash": model.content_hash,
                "log_index": get_int(record, wire.LOG_INDEX, -1),
            },
            indent=2,
        )
        + "\n"
    )
    archive = paths.within(models, model.model_id, model.version)
    if not archive.exists():
        shutil.copytree(staging, archive)
    _swap_in(staging, runtime.current_model_dir)
    return model


def _stage(record: ConfigRecord, staging: Path) -> Path:
    """Write the message's files into a fresh staging directory, every name checked first."""
    names = record.get(wire.FILE_NAMES)
    if not isinstance(names, list) or not names:
        raise PublishedModelRejectedError("publish message lists no files")
    for field in (wire.MODEL_ID, wire.VERSION):
        if field in record:
            paths.identifier(record[field], f"announced {field}")
    file_names = [paths.identifier(name, "file name in the publish message") for name in names]
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in file_names:
        data = record.get(wire.FILE_PREFIX + name)
        if not isinstance(data, bytes):
            raise PublishedModelRejectedError(f"publish message lacks the bytes of {name!r}")
        paths.within(staging, name).write_bytes(data)
    return staging


def _check_announced(record: ConfigRecord, model: PublishedModel) -> None:
    """The loaded model must be what the message announced, under identifiers safe as paths."""
    for field, value in ((wire.MODEL_ID, model.model_id), (wire.VERSION, model.version)):
        paths.identifier(value, f"published {field}")
        if field == wire.MODEL_ID and value == CURRENT_MODEL_DIR:
            raise PublishedModelRejectedError(f"model id {CURRENT_MODEL_DIR!r} is reserved")
        if field in record and record[field] != value:
            raise PublishedModelRejectedError(f"published {field} differs from the announced one")
    announced = str(record.get(wire.CONTENT_HASH, ""))
    if model.content_hash != announced:
        raise PublishedModelRejectedError(
            f"published model hash {model.content_hash} differs from announced {announced}"
        )


def _swap_in(staging: Path, current: Path) -> None:
    """Make ``staging`` the current model, keeping the old one until the rename succeeded."""
    old = current.with_name(".previous")
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        current.rename(old)
    staging.rename(current)
    shutil.rmtree(old, ignore_errors=True)
