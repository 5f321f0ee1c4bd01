"""The server's update rule: how attested round aggregates become the published weights.

Why a pure function here: the coordinator applies it after each attested round, and an
auditor (``gcdt-audit verify-model``) and every node (before installing a model) apply the
*same* code to the same published inputs and refuse weights that differ by a single bit.
``open_models`` is the lowest layer both sides import, so the rule lives here and nowhere
else.

The rule (``gcdt-fedavg-delta/1``), per accepted round ``r`` in round order::

    w_r = w_{r-1} + lr * (s_r / n_r)

``s_r`` is the attested aggregate (the key holders' signed decimal strings, the sum over
contributors of ``num_examples * delta``), ``n_r`` the denominator: by default the
aggregate's last slot (the attested total of the contributors' example counts), or a
public constant of the rule (so a DP-released or agreed count can replace the attested
total without changing the rule's code), ``lr`` the server learning rate (1.0: plain
FedAvg of the deltas). ``w_0`` is the published initial weights (pinned by
:func:`weights_sha256`).

Precision, so the result is bit-identical on every machine: every value is an IEEE 754
binary64 (``float64``, little-endian when hashed), rounded to nearest-even; each decimal
string is parsed with Python's correctly rounded ``float``; then, elementwise and in this
order, one division ``s / n``, one multiplication by ``lr`` and one addition to ``w``,
each a separate correctly rounded numpy operation (no fused multiply-add, no reduction
whose order could vary). Nothing depends on the platform's float printer, BLAS or threads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load, save

from open_models.errors import OpenModelsError

RULE_ID: Final = "gcdt-fedavg-delta/1"
PRECISION: Final = "float64"
#: The denominator's name when it is the aggregate's last slot (the attested total weight).
ATTESTED_TOTAL: Final = "attested_total"
#: The published file holding ``w_0`` (beside ``weights.safetensors``), tensor ``weights``.
INITIAL_WEIGHTS_FILE: Final = "initial_weights.safetensors"
INITIAL_TENSOR: Final = "weights"
#: The model card section that states the rule and its parameters.
CARD_SECTION: Final = "update_rule"


class UpdateRuleError(OpenModelsError, ValueError):
    """The rule's parameters or inputs are not usable (named with where they came from)."""


def weights_sha256(vector: np.ndarray) -> str:
    """``sha256:<hex>`` of a flat weight vector's little-endian float64 bytes."""
    data = np.ascontiguousarray(np.asarray(vector, dtype="<f8"))
    if data.ndim != 1:
        raise UpdateRuleError(f"weights must be a flat vector, got shape {data.shape}")
    return "sha256:" + hashlib.sha256(data.tobytes()).hexdigest()


def parse_aggregate(values: Sequence[str | float]) -> np.ndarray:
    """The attested values as float64: decimal strings parsed correctly rounded."""
    out = np.empty(len(values), dtype="<f8")
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, str | float | int):
            raise UpdateRuleError(f"aggregate value {index} is not a number or decimal string")
        try:
            number = float(value)
        except ValueError as exc:
            raise UpdateRuleError(f"aggregate value {index} is not a decimal: {exc}") from exc
        if not math.isfinite(number):
            raise UpdateRuleError(f"aggregate value {index} is not finite")
        out[index] = number
    return out


@dataclass(frozen=True)
class UpdateRule:
    """The rule's parameters (see the module docstring for the formula and precision).

    ``denominator``: ``None`` divides by the aggregate's last slot (the attested total
    weight, which the aggregate then carries after the ``P`` parameters); a number
    divides by that public constant, and the aggregate carries the ``P`` values only.
    """

    server_learning_rate: float = 1.0
    denominator: float | None = None

    def __post_init__(self) -> None:
        lr = self.server_learning_rate
        if isinstance(lr, bool) or not isinstance(lr, float | int) or not math.isfinite(lr):
            raise UpdateRuleError(f"server_learning_rate must be a finite number, got {lr!r}")
        if lr <= 0:
            raise UpdateRuleError(f"server_learning_rate must be > 0, got {lr}")
        d = self.denominator
        if d is not None and (
            isinstance(d, bool)
            or not isinstance(d, float | int)
            or not (math.isfinite(d) and d > 0)
        ):
            raise UpdateRuleError(f"denominator must be a finite number > 0 or None, got {d!r}")
        object.__setattr__(self, "server_learning_rate", float(lr))
        if d is not None:
            object.__setattr__(self, "denominator", float(d))

    def step(self, weights: np.ndarray, aggregate: Sequence[str | float]) -> np.ndarray:
        """``w + lr * (s / n)`` for one attested aggregate; a new float64 vector."""
        w = np.asarray(weights, dtype="<f8")
        values = parse_aggregate(aggregate)
        if self.denominator is None:
            if values.size != w.size + 1:
                raise UpdateRuleError(
                    f"aggregate has {values.size} values; the rule needs {w.size} parameters "
                    "and the total weight"
                )
            s, n = values[:-1], values[-1]
            if not n > 0:
                raise UpdateRuleError(f"attested total weight {n} is not positive")
        else:
            if values.size != w.size:
                raise UpdateRuleError(
                    f"aggregate has {values.size} values; the rule needs {w.size} parameters"
                )
            s, n = values, np.float64(self.denominator)
        update = np.divide(s, n, dtype="<f8")
        update = np.multiply(update, np.float64(self.server_learning_rate), dtype="<f8")
        result: np.ndarray = np.add(w, update, dtype="<f8")
        if not np.isfinite(result).all():
            raise UpdateRuleError("the update rule produced non-finite weights")
        return result

    def apply(self, initial: np.ndarray, aggregates: Iterable[Sequence[str | float]]) -> np.ndarray:
        """The weights after every aggregate in order, from ``initial``."""
        weights = np.array(initial, dtype="<f8", copy=True)
        for aggregate in aggregates:
            weights = self.step(weights, aggregate)
        return weights

    def parameters(self) -> dict[str, Any]:
        """The rule's parameters as published (JSON)."""
        return {
            "rule": RULE_ID,
            "precision": PRECISION,
            "server_learning_rate": self.server_learning_rate,
            "denominator": ATTESTED_TOTAL if self.denominator is None else self.denominator,
        }

    @classmethod
    def from_parameters(cls, document: Mapping[str, Any]) -> UpdateRule:
        """The rule a published document states; refuses another rule id or precision."""
        if document.get("rule") != RULE_ID:
            raise UpdateRuleError(f"update rule {document.get('rule')!r} is not {RULE_ID!r}")
        if document.get("precision") != PRECISION:
            raise UpdateRuleError(f"precision {document.get('precision')!r} is not {PRECISION!r}")
        denominator = document.get("denominator")
        return cls(
            server_learning_rate=document.get("server_learning_rate"),  # type: ignore[arg-type]
            denominator=None if denominator == ATTESTED_TOTAL else denominator,
        )


def initial_weights_bytes(initial: np.ndarray) -> bytes:
    """``w_0`` as the published safetensors file (tensors only: loading runs no code)."""
    vector = np.ascontiguousarray(np.asarray(initial, dtype="<f8"))
    return save({INITIAL_TENSOR: vector})


def read_initial_weights(data: bytes, where: str) -> np.ndarray:
    """``w_0`` from the published file's bytes; ``where`` names the file in errors."""
    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as exc:
        raise UpdateRuleError(f"{where}: unreadable safetensors: {exc}") from exc
    if set(tensors) != {INITIAL_TENSOR} or tensors[INITIAL_TENSOR].ndim != 1:
        raise UpdateRuleError(f"{where}: must hold one flat tensor {INITIAL_TENSOR!r}")
    return np.asarray(tensors[INITIAL_TENSOR], dtype="<f8")


def card_section(
    rule: UpdateRule, initial: np.ndarray, seed: int, rounds: Sequence[int]
) -> dict[str, Any]:
    """The model card's statement of the rule: parameters, ``w_0`` and the rounds applied.

    The aggregates themselves are referenced, not copied: they are the agreed values of the
    signed attestations the publication entry carries for each listed round.
    """
    return {
        **rule.parameters(),
        "formula": "w_r = w_(r-1) + server_learning_rate * (s_r / n_r), r in rounds order",
        "initial_weights": {
            "file": INITIAL_WEIGHTS_FILE,
            "sha256": weights_sha256(initial),
            "seed": seed,
        },
        "rounds": [int(r) for r in rounds],
        "aggregates": "the values of the t agreeing signed attestations of each round "
        "(publication entry, attestations.<round>)",
    }


__all__ = [
    "ATTESTED_TOTAL",
    "CARD_SECTION",
    "INITIAL_TENSOR",
    "INITIAL_WEIGHTS_FILE",
    "PRECISION",
    "RULE_ID",
    "UpdateRule",
    "UpdateRuleError",
    "card_section",
    "initial_weights_bytes",
    "parse_aggregate",
    "read_initial_weights",
    "weights_sha256",
]
