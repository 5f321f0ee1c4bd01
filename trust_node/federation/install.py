"""Installing a published model sent by the coordinator's ``query.publish`` message.

Every message from the coordinator is untrusted input. The message carries the files of a
:class:`open_models.published.PublishedModel` directory, its content hash, the
transparency-log index of its publication and the coordinator's exported log (a bundle up
to a signed tree head covering the publication). The node writes the files to a staging
directory, loads them (``PublishedModel.load`` re-verifies the content hash), checks the
hash equals the one announced, and then runs exactly the checks of ``gcdt-audit
verify-model`` (strict: :func:`governance.audit_models.verify_model`) against the bundle:
the bundle is signed by the coordinator key this node pinned at enrolment, the publication
is in the signed tree, each accepted round carries ``t`` signed attestations by key holders
enrolled in the log (``t`` and the contributor minimum raised to this node's own copy of
the trust policy), and the weights are bit for bit the published update rule applied to
the attested aggregates. Only then is the staging directory swapped in as
``GCDT_HOME/models/current/`` (older versions stay under ``models/<model_id>/<version>/``).
Otherwise the staging directory is removed, the current model stays, and the reason is
logged on the node (its log and the refusal log) and raised as
:class:`PublishedModelRejectedError` (the reply leaves as ``install_refused``). The
estimate service reads ``models/current``.

Not checked here: that the coordinator shows this node the same log as everyone else (a
forked log is the witnesses' and auditors' to detect), and key holders are those the log
enrols (until the member-signed policy names them).

The model id, version and file names come from the coordinator: each must be a
:func:`kernel.paths.identifier` and every path is built with :func:`kernel.paths.within`
``GCDT_HOME``, so a ``../``, an absolute path or a NUL is refused before anything is
written and nothing lands outside ``GCDT_HOME``.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from flwr.app import ConfigRecord

from governance.audit_models.verify_model import verify_model
from governance.errors import GovernanceError
from governance.translog import Anchors
from governance.translog.note import NoteError, VerifierKey
from kernel import paths
from kernel.wire import flower as wire
from open_models.errors import OpenModelsError
from open_models.published import PublishedModel
from trust_node.context import CURRENT_MODEL_DIR, MODELS_DIR, NodeContext
from trust_node.federation.errors import PublishedModelRejectedError
from trust_node.federation.fields import get_int

logger = logging.getLogger(__name__)

PUBLICATION_FILE = "publication.json"
#: The refusal log's ``kind`` of a refused install (reason kept on the node only).
INSTALL_KIND = "published_model"
#: Where the files are written first: a hidden name, so no model id can be it.
STAGING_DIR = ".staging"


def install_published(runtime: NodeContext, record: ConfigRecord) -> PublishedModel:
    """Install the model a publish message carries, only if it verifies as published.

    A refusal leaves nothing of the message behind and the current model in place.
    """
    models = paths.within(runtime.home, MODELS_DIR)
    staging = _stage(record, models / STAGING_DIR)
    try:
        model = _verified(runtime, record, staging)
    except PublishedModelRejectedError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        logger.warning("published model refused, current model kept: %s", exc)
        runtime.refusals.record(INSTALL_KIND, wire.PUBLISH, str(exc))
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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


def _verified(runtime: NodeContext, record: ConfigRecord, staging: Path) -> PublishedModel:
    """The staged model, once its hash and its publication verify (else rejected)."""
    try:
        model = PublishedModel.load(staging)
    except OpenModelsError as exc:
        raise PublishedModelRejectedError(f"published model does not verify: {exc}") from exc
    _check_announced(record, model)
    check_publication(runtime, record, staging, model)
    return model


def check_publication(
    runtime: NodeContext, record: ConfigRecord, staging: Path, model: PublishedModel
) -> None:
    """``verify-model --strict`` of the staged model against the message's log bundle."""
    bundle, anchors = _bundle(runtime, record)
    policy = runtime.state.trust_policy
    thresholds = (
        {"t": policy.publication.t, "m": policy.publication.m} if policy is not None else {}
    )
    try:
        report = verify_model(
            bundle, staging, model.model_id, model.version, anchors, thresholds=thresholds
        )
    except GovernanceError as exc:
        raise PublishedModelRejectedError(f"publication cannot be checked: {exc}") from exc
    announced = record.get(wire.LOG_INDEX)
    if isinstance(announced, int) and announced != report.entry_index:
        report.fail(
            "log-index",
            "publish message",
            f"announced log entry {announced}, the log publishes it at {report.entry_index}",
        )
    if not report.ok(strict=True):
        problems = [f"{p['code']} at {p['where']}: {p['message']}" for p in report.problems]
        problems += [f"unchecked: {item}" for item in report.unchecked]
        raise PublishedModelRejectedError(
            f"model {model.model_id} {model.version} fails the publication checks "
            f"({len(problems)} problem(s)): " + "; ".join(problems)
        )


def _bundle(runtime: NodeContext, record: ConfigRecord) -> tuple[dict[str, Any], Anchors]:
    """The message's log bundle, and the anchors that pin its log key to the coordinator
    key this node pinned at enrolment (never the key the bundle names for itself).
    """
    raw = record.get(wire.LOG_BUNDLE)
    if not isinstance(raw, bytes):
        raise PublishedModelRejectedError(
            "publish message carries no transparency-log bundle: the publication cannot be checked"
        )
    try:
        bundle = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishedModelRejectedError(f"log bundle is not JSON: {exc}") from exc
    pinned = runtime.coordinator.get("identity_public_key")
    claimed = bundle.get("log_vkey") if isinstance(bundle, dict) else None
    try:
        key = VerifierKey.parse(claimed) if isinstance(claimed, str) else None
    except NoteError as exc:
        raise PublishedModelRejectedError(f"log bundle names no valid log key: {exc}") from exc
    if key is None or not pinned or key.public_key.hex() != pinned:
        raise PublishedModelRejectedError(
            "log bundle is not signed by the coordinator key pinned at enrolment"
        )
    return bundle, Anchors(log_key=key)


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
