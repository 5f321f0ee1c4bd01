"""The one publication store: every published aggregate, whatever its kind.

A publication is one ``publication`` entry in the transparency log (its payload exactly as
the auditors' tools read it: ``gcdt-audit verify-model`` for models, ``verify-benchmark``
for benchmarks) and one row of ``publications`` keeping that payload under its subject and
log index, followed by a signed tree head so the entry is checkable at once. Models also
keep their files in the model registry (``coordinator.registry``), which records the log
index of this entry; the registry stores artifacts, this store says what was published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from coordinator.store import (
    AlreadyPublishedError,
    CoordinatorStore,
    InvalidRequestError,
    NotFoundError,
    Publication,
)
from governance.attestation import MIN_T
from governance.translog import TransparencyLog


class PublicationThresholdError(InvalidRequestError):
    """A publication would rest on fewer than :data:`MIN_T` attestations."""


#: Publication kinds (what the ``publications.kind`` column holds).
MODEL: Final = "model"
BENCHMARK: Final = "benchmark"


def model_subject(model_id: str, version: str) -> str:
    """A model version's publication subject."""
    return f"model:{model_id}:{version}"


def publish(
    store: CoordinatorStore,
    log: TransparencyLog,
    *,
    subject_id: str,
    kind: str,
    payload: Mapping[str, Any],
) -> Publication:
    """Log ``payload`` as a ``publication``, keep it under ``subject_id``, sign a tree head.

    A subject is published once: a second publication is refused before anything is logged,
    and so is a payload whose ``t`` is missing or below :data:`MIN_T`
    (:class:`PublicationThresholdError`): no kind of publication rests on one key holder.
    """
    t = payload.get("t")
    if type(t) is not int or t < MIN_T:
        raise PublicationThresholdError(
            f"{subject_id!r} states t = {t!r}: a publication needs t >= {MIN_T} attestations"
        )
    try:
        store.publication(subject_id)
    except NotFoundError:
        pass
    else:
        raise AlreadyPublishedError(f"{subject_id!r} is published already")
    entry = log.append("publication", dict(payload))
    published = store.add_publication(subject_id, kind, payload, entry.index)
    log.tree_head()
    return published
