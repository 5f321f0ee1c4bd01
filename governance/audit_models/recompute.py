"""``verify-model``'s last word on the weights: recompute them from what key holders signed.

Hashes, signatures and card claims bind a model to the log, but not its weights to the
attested aggregates: a coordinator could publish (and log the hash of) any weights beside
honest attestations. So the published weights are recomputed here with the published
update rule (:mod:`open_models.update_rule`, the same code the coordinator ran) from the
published initial weights and the agreed values of each accepted round's signed
attestations, and must be bit-identical: one ulp of float64 is a failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from governance.audit_models.report import ModelReport
from open_models.network import flatten, initial_weights
from open_models.published import PublishedModel
from open_models.update_rule import (
    CARD_SECTION,
    INITIAL_WEIGHTS_FILE,
    UpdateRule,
    UpdateRuleError,
    read_initial_weights,
    weights_sha256,
)

WHERE = f"card {CARD_SECTION}"


def check_recomputation(
    model: PublishedModel,
    model_dir: Path,
    rounds: Sequence[int],
    agreed: Mapping[int, tuple[str, ...] | None],
    report: ModelReport,
) -> None:
    """Fail the report unless the rule, applied to the attested rounds, gives the weights.

    ``rounds`` are the run's accepted rounds in the log, ``agreed`` the values their ``t``
    valid signed attestations agree on (``None`` where none could be re-checked: the
    attestation checks have reported why, as unchecked, which ``--strict`` fails, or failed).
    """
    section = model.card.get(CARD_SECTION)
    if not isinstance(section, Mapping):
        report.fail(
            "rule-unpublished",
            WHERE,
            "the card states no update rule: the weights cannot be recomputed from the "
            "attested aggregates",
        )
        return
    try:
        rule = UpdateRule.from_parameters(section)
    except UpdateRuleError as exc:
        report.fail("rule-invalid", WHERE, str(exc))
        return
    if section.get("rounds") != list(rounds):
        report.fail(
            "rule-rounds",
            WHERE,
            f"the rule applies rounds {section.get('rounds')}, the log accepted {list(rounds)}",
        )
        return
    if any(agreed.get(r) is None for r in rounds):
        return  # why is reported already: unchecked (no envelopes) or failed (below t, ...)
    initial = _initial(model, model_dir, section.get("initial_weights"), report)
    if initial is None:
        return
    try:
        expected = rule.apply(initial, [agreed[r] or () for r in rounds])
    except UpdateRuleError as exc:
        report.fail("weights-not-recomputed", WHERE, f"the rule cannot be applied: {exc}")
        return
    _compare(model, flatten(model.weights, model.layout), expected, report)


def _initial(
    model: PublishedModel, model_dir: Path, stated: Any, report: ModelReport
) -> np.ndarray | None:
    """``w_0``: the published file (or, without it, the stated seed's), as the card pins it."""
    if not isinstance(stated, Mapping) or not isinstance(stated.get("sha256"), str):
        report.fail("initial-weights", WHERE, "the rule does not pin its initial weights")
        return None
    path = model_dir / INITIAL_WEIGHTS_FILE
    try:
        if path.is_file():
            vector = read_initial_weights(path.read_bytes(), str(path))
        else:
            seed = stated.get("seed")
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise UpdateRuleError(f"{path} is missing and the rule states no integer seed")
            vector = flatten(initial_weights(model.feature_spec, seed), model.layout)
    except (UpdateRuleError, OSError) as exc:
        report.fail("initial-weights", WHERE, str(exc))
        return None
    if weights_sha256(vector) != stated["sha256"]:
        report.fail(
            "initial-weights",
            WHERE,
            f"the initial weights hash to {weights_sha256(vector)}, the rule pins "
            f"{stated['sha256']}",
        )
        return None
    return vector


def _compare(
    model: PublishedModel, actual: np.ndarray, expected: np.ndarray, report: ModelReport
) -> None:
    """Bitwise equality of the published and the recomputed float64 weights."""
    if actual.shape != expected.shape:
        report.fail(
            "weights-not-recomputed",
            WHERE,
            f"the rule gives {expected.size} weights, the model has {actual.size}",
        )
        return
    differ = np.flatnonzero(actual.astype("<f8").view("<u8") != expected.astype("<f8").view("<u8"))
    if differ.size == 0:
        return
    first = int(differ[0])
    name, offset = _locate(model, first)
    report.fail(
        "weights-not-recomputed",
        WHERE,
        f"{differ.size} published weight(s) differ from the update rule applied to the attested "
        f"aggregates (first: {name}[{offset}] is {actual[first]!r}, recomputed "
        f"{expected[first]!r}; largest difference {float(np.max(np.abs(actual - expected)))!r})",
    )


def _locate(model: PublishedModel, index: int) -> tuple[str, int]:
    """(tensor name, flat offset in it) of a flat-vector index."""
    start = 0
    for name, shape in model.layout:
        size = int(np.prod(shape))
        if index < start + size:
            return name, index - start
        start += size
    return "?", index
