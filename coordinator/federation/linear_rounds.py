"""The coordinator's two rounds of the sufficient-statistics family (``open_models.linear``).

Same loop, same pipeline as the network's rounds (:class:`FederatedTraining`): nodes'
ciphertexts are checked, kept, summed with the public context, decrypted and attested by
the key holders; only what to ask for and what to do with the attested sum differ.
Round 1 asks every node for its noised statistics and fits the model from their sum;
round 2 sends that model (open, as the global weights) and asks for the noised score
histogram, whose sum calibrates the intervals. Both models are pure functions of the
attested sums (``open_models.linear.model.fit`` / ``calibrate``), so an auditor holding
the attested aggregates recomputes the published coefficients exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from flwr.app import ConfigRecord
from flwr.serverapp import Grid

from coordinator.aggregation import MODEL, AggregationPipeline, model_subject
from coordinator.context import CoordinatorContext
from coordinator.federation.aggregate import CkksSummer
from coordinator.federation.config import FederationConfig
from coordinator.federation.keys import load_trust_keys
from coordinator.federation.rounds import FederatedTraining, TrainingResult, TrainingRoundStatus
from kernel.wire import flower as wire
from open_models.linear.basis import Basis
from open_models.linear.card import linear_card
from open_models.linear.model import DEFAULT_RIDGE, LinearModel, calibrate, fit
from open_models.linear.vectors import (
    model_from_vector,
    model_length,
    model_vector,
    release_length,
    unpack_sum,
)

RELEASE_OF_ROUND = {1: wire.LINEAR_STATISTICS, 2: wire.LINEAR_CALIBRATION}


class LinearTraining(FederatedTraining):
    """Two rounds: statistics, then calibration. ``initial_weights`` is ignored."""

    def __init__(
        self, *args: Any, basis: Basis, ridge: float = DEFAULT_RIDGE, **kwargs: Any
    ) -> None:
        self.basis = basis
        self.ridge = ridge
        kwargs["initial_weights"] = np.zeros(model_length(basis))
        super().__init__(*args, **kwargs)

    def _check_length(self) -> None:
        if self.summer.length != release_length(self.basis):
            raise ValueError(
                f"linear releases have {release_length(self.basis)} slots, "
                f"summer expects {self.summer.length}"
            )
        if self.config.rounds != len(RELEASE_OF_ROUND):
            raise ValueError(f"the linear family runs {len(RELEASE_OF_ROUND)} rounds")

    @property
    def model(self) -> LinearModel:
        return model_from_vector(self.weights, self.basis, self.ridge)

    def _round_config(self, round_no: int) -> ConfigRecord:
        config = super()._round_config(round_no)
        config[wire.RELEASE] = RELEASE_OF_ROUND[round_no]
        # Every node asked adds its share; a node that drops out leaves the sum with
        # less noise than planned, which the quorum bounds (as for statistics rounds).
        config[wire.NOISE_SHARES] = max(self.config.quorum, 1)
        config[wire.JURISDICTIONS] = ",".join(self.basis.jurisdictions)
        return config

    def _apply(self, round_no: int, values: Sequence[str | float]) -> tuple[np.ndarray, float]:
        kind = "statistics" if round_no == 1 else "calibration"
        summed = np.asarray([float(v) for v in values], dtype=np.float64)
        payload, contributors = unpack_sum(summed, self.basis, kind)
        if not contributors > 0.5:
            raise ValueError(f"attested contributor count {contributors} is not positive")
        if kind == "statistics":
            model = fit(payload, self.basis, self.ridge)
        else:
            model = calibrate(self.model, payload)
        return model_vector(model), contributors


def publication(
    training: LinearTraining, result: TrainingResult, model_id: str, t: int
) -> dict[str, Any]:
    """The ``publication`` log entry of a linear run: the model itself (it is small and
    open), its content hash, and the signed attestations of both rounds it came from."""
    model = training.model.to_dict()
    canonical = json.dumps(model, sort_keys=True, separators=(",", ":")).encode()
    return {
        "model_id": model_id,
        "version": training.model_version,
        "family": "linear",
        "content_hash": "sha256:" + hashlib.sha256(canonical).hexdigest(),
        "run": training.run_name,
        "t": t,
        "model": model,
        "card": linear_card(training.model),
        "attestations": {
            str(r.round): list(r.attestations)
            for r in result.rounds
            if r.status == TrainingRoundStatus.ACCEPTED
        },
    }


def run_linear_training(
    grid: Grid, config: FederationConfig, run_name: str, jurisdictions: tuple[str, ...]
) -> tuple[TrainingResult, LinearModel | None]:
    """Both rounds through the one aggregation pipeline, then one log publication.

    Not yet done: the registry files, the model card and installing the model on nodes
    (``gcdt-node estimate`` still serves the network family).
    """
    context = CoordinatorContext.open(config.coordinator_home)
    thresholds = context.trust_policy.publication
    config = replace(config.within_policy(thresholds.m, thresholds.t), rounds=2)
    store = context.store
    keys = load_trust_keys(store, context.trust_policy)
    pipeline = AggregationPipeline(store, context.translog, keys.public_key)
    basis = Basis(jurisdictions)
    training = LinearTraining(
        grid,
        config,
        summer=CkksSummer(keys.public_key, release_length(basis)),
        pipeline=pipeline,
        node_keys=store.identity_keys,
        nonces=context.nonces,
        run_name=run_name,
        initial_weights=np.zeros(0),
        model_version=run_name,
        basis=basis,
    )
    try:
        result = training.run()
        if not all(r.status == TrainingRoundStatus.ACCEPTED for r in result.rounds):
            return result, None
        pipeline.publish(
            subject_id=model_subject(config.model_id, run_name),
            kind=MODEL,
            payload=publication(training, result, config.model_id, config.t),
        )
        return result, training.model
    finally:
        context.engine.dispose()


__all__ = ["LinearTraining", "publication", "run_linear_training"]
