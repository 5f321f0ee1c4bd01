"""What the coordinator publishes after a run: the model card and the publication entry.

An auditor's ``gcdt-audit verify-model`` / ``reproduce-eval``
(:mod:`governance.audit_models`) checks a publication against the log, so the card
states only what the log can confirm or what anyone can recompute:

* ``run``, ``t`` and ``rounds`` (each round's status, contributors, aggregate digest and
  log index, as the round entries have them);
* ``federation.nodes``: exactly the contributors of the accepted rounds, with the
  jurisdiction they enrolled with and the privacy each stated in its signed training
  report (cumulative epsilon of its training account, budget, delta; the same value is
  in its ``submission_digest`` entries). No record count leaves a node, not even
  encrypted: every update is weighed by the public constant 1, so the card states the
  averaging rule, never a total that one facility more or fewer would move by one;
* ``compute_footprint``: the codecarbon (offline) energy and CO2 each node measured
  around its local training, summed over its rounds, and the total;
* ``evaluation``: ``open_models.evaluation.evaluate`` of the model against Tier-1 and the
  CBAM defaults on a published synthetic evaluation set (never node data), with the set
  written beside the model files (``evaluation_set.json``) and pinned by its SHA-256.
  The coordinator cannot generate it (the generator is node code, and the layers keep the
  coordinator from importing it): the operator passes it in, written by
  ``gcdt-node evaluation-set`` from a seed anyone can rerun to get the same bytes.

The publication entry carries ``t`` and, per accepted round, the agreeing signed
attestation envelopes, so their signatures can be re-checked offline. The card's
``update_rule`` (:mod:`open_models.update_rule`) states the rule the round loop applied, its
parameters, the accepted rounds and the initial weights (published as
``initial_weights.safetensors``, pinned by hash), so ``verify-model`` and every node
recompute the published weights from those envelopes' values, bit for bit.

Interval calibration: the published interval is the network's own variance head
(``interval.scale`` 1.0) and the evaluation reports the coverage it actually reaches on the
evaluation set. A federated conformal scale (``open_models.calibration.covered_counts``
summed under CKKS) would need a further encrypted round on held-out node records; it is
not run yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from coordinator.federation.config import FederationConfig
from coordinator.federation.errors import FederationConfigError
from coordinator.federation.rounds import TrainingResult, TrainingRoundStatus
from kernel.wire import flower as wire
from open_models.card import build_card
from open_models.errors import EvaluationSetError
from open_models.evaluation import baseline_estimates, evaluate
from open_models.evaluation_set import (
    EVALUATION_SET_FILE,
    MODEL_METHOD,
    EvaluationSet,
    read_evaluation_set,
)
from open_models.features import FeatureSpec
from open_models.inference import NOMINAL_COVERAGE
from open_models.network import flatten, initial_weights, weight_layout
from open_models.published import PublishedModel
from open_models.update_rule import (
    CARD_SECTION,
    INITIAL_WEIGHTS_FILE,
    card_section,
    initial_weights_bytes,
)

ACCEPTED = TrainingRoundStatus.ACCEPTED
FOOTPRINT_TOOL: Final = "codecarbon OfflineEmissionsTracker"
#: What a node's ``epsilon_spent`` on the card means (issue 14); nodes whose policy is looser
#: than the trust's caps (budget, delta or unit) refuse to train and are never counted.
PRIVACY_STATEMENT: Final = (
    "privacy unit: the facility (all its records across years) unless the trust policy "
    "says 'record'; each node's epsilon_spent is the cumulative epsilon, at the delta "
    "stated beside it, of its one privacy-unit account, composed under RDP (Opacus) over "
    "every release charged to it: each DP-SGD round (one record per facility per round) "
    "and each statistics release (one cell per facility and year, noise sized for t - 1 "
    "curious contributors); the model's evaluation uses a published synthetic set and "
    "charges nothing"
)


def read_evaluation_set_file(path: Path) -> EvaluationSet:
    """The operator's evaluation set, refused as run configuration (before a round is spent)."""
    try:
        return EvaluationSet.read(path)
    except EvaluationSetError as exc:
        raise FederationConfigError(str(exc)) from exc


def evaluation_section(model: PublishedModel, evaluation_set: EvaluationSet) -> dict[str, Any]:
    """The card's evaluation, exactly as ``gcdt-audit reproduce-eval`` recomputes it."""
    records, truth = read_evaluation_set(evaluation_set.data)
    predicted = model.predict(records)
    estimates = {
        MODEL_METHOD: predicted["estimate_direct_tco2e"].to_numpy(dtype=float),
        **baseline_estimates(records),
    }
    interval = (
        predicted["estimate_low_tco2e"].to_numpy(dtype=float),
        predicted["estimate_high_tco2e"].to_numpy(dtype=float),
    )
    result = evaluate(records, truth, estimates, model=MODEL_METHOD, interval=interval)
    return {**result, "dataset": evaluation_set.dataset()}


def round_claims(result: TrainingResult) -> list[dict[str, Any]]:
    """What the card claims per round, each checkable against the log (status, contributors,
    aggregate digest, entry).
    """
    return [
        {
            "round": r.round,
            "status": str(r.status),
            "contributors": sorted(r.contributors),
            "aggregate_sha256": r.aggregate_digest,
            "log_index": r.log_index,
        }
        for r in result.rounds
    ]


def node_entries(result: TrainingResult, jurisdictions: Mapping[str, str]) -> list[dict[str, Any]]:
    """One card entry per contributor of an accepted round, with its last signed report.

    The spend is the last one the node reported in any round of the run (a skipped round
    still spent privacy), which is also the last ``epsilon_spent`` the log holds for it.
    """
    contributors = sorted(
        {n for r in result.rounds if r.status == ACCEPTED for n in r.contributors}
    )
    last: dict[str, dict[str, float]] = {}
    for r in result.rounds:
        for node, report in r.reports.items():
            last[node] = report
    return [
        {
            "node_id": node,
            "jurisdiction": jurisdictions.get(node),
            "epsilon_spent": last.get(node, {}).get(wire.EPSILON_SPENT),
            "epsilon_budget": last.get(node, {}).get(wire.EPSILON_BUDGET),
            "delta": last.get(node, {}).get(wire.DP_DELTA),
            "rounds_contributed": sum(
                1 for r in result.rounds if r.status == ACCEPTED and node in r.contributors
            ),
        }
        for node in contributors
    ]


def footprints(result: TrainingResult, jurisdictions: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each node's training footprint summed over the rounds it reported one for."""
    nodes = sorted({n for r in result.rounds for n in r.reports})
    out = []
    for node in nodes:
        reports = [r.reports[node] for r in result.rounds if node in r.reports]
        measured = [p for p in reports if wire.ENERGY_KWH in p and wire.CO2_KG in p]
        out.append(
            {
                "node_id": node,
                "country_iso_code": jurisdictions.get(node),
                "energy_kwh": sum(p[wire.ENERGY_KWH] for p in measured) if measured else None,
                "co2_kg": sum(p[wire.CO2_KG] for p in measured) if measured else None,
                "rounds_measured": len(measured),
                "rounds_trained": len(reports),
                "tool": FOOTPRINT_TOOL,
                "reason": None
                if measured
                else (
                    "the node reported no measurement (codecarbon unavailable, "
                    "or its policy keeps energy_kwh/co2_kg home)"
                ),
            }
        )
    return out


def build_model_card(
    *,
    config: FederationConfig,
    run_name: str,
    version: str,
    spec: FeatureSpec,
    weights: Mapping[str, np.ndarray],
    result: TrainingResult,
    jurisdictions: Mapping[str, str],
    evaluation_set: EvaluationSet | None,
) -> dict[str, Any]:
    """The card of a trained model, from only what was attested, logged or signed by nodes.

    Nodes, privacy spend and footprint come from the nodes' signed reports and the
    evaluation from the published evaluation set, so an auditor can recompute every claim.
    """
    accepted = [r for r in result.rounds if r.status == ACCEPTED]
    initial = initial_of(result, spec, config.seed)
    evaluation = None
    if evaluation_set is not None:
        bare = PublishedModel(config.model_id, version, weights, feature_spec=spec)
        evaluation = evaluation_section(bare, evaluation_set)
    card = build_card(
        model_id=config.model_id,
        version=version,
        spec=spec,
        nodes=node_entries(result, jurisdictions),
        rounds=len(result.rounds),
        training={
            "engine": "Flower deployment engine; coordinator-side round loop",
            "dp": "Opacus DP-SGD on every node, charged to its privacy ledger before training",
            "aggregation": "CKKS-encrypted weighted updates summed with the public context; "
            f"decrypted and signed by key holders, accepted at t = {config.t}",
            "update_clip_norm": config.clip_norm,
            "quorum": config.quorum,
            "accepted_rounds": len(accepted),
            "averaging_weight": "the public constant 1 per contributing node: no record "
            "count leaves a node, so no published number moves by one facility exactly",
            "privacy": PRIVACY_STATEMENT,
            "seed": config.seed,
        },
        evaluation=evaluation,
        interval={
            "nominal": NOMINAL_COVERAGE,
            "scale": 1.0,
            "method": "the network's variance head, not recalibrated (see evaluation coverage)",
        },
        footprints=footprints(result, jurisdictions),
        data_scope={
            "records": "facility records of tenants whose current consent includes training, "
            "on the contributing nodes",
            "jurisdictions": sorted(
                {j for n, j in jurisdictions.items() if any(n in r.contributors for r in accepted)}
            ),
        },
    )
    if evaluation is None:
        card["evaluation"] = {"note": "no evaluation set was given to this run"}
    return {
        **card,
        "run": run_name,
        "t": config.t,
        "rounds": round_claims(result),
        CARD_SECTION: card_section(result.rule, initial, config.seed, [r.round for r in accepted]),
        "published_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def initial_of(result: TrainingResult, spec: FeatureSpec, seed: int) -> np.ndarray:
    """``w_0`` of the run: what the round loop started from (or the seed's initial weights)."""
    if result.initial_weights is not None:
        return np.asarray(result.initial_weights, dtype=np.float64)
    return flatten(initial_weights(spec, seed), weight_layout(spec))


def publication_payload(
    config: FederationConfig, run_name: str, model: PublishedModel, result: TrainingResult
) -> dict[str, Any]:
    """The ``publication`` log entry: hash, run, ``t`` and the signed attestations."""
    return {
        "model_id": model.model_id,
        "version": model.version,
        "content_hash": model.content_hash,
        "run": run_name,
        "t": config.t,
        "attestations": {
            str(r.round): list(r.attestations) for r in result.rounds if r.status == ACCEPTED
        },
    }


def model_files(
    model: PublishedModel,
    directory: Path,
    evaluation_set: EvaluationSet | None,
    initial: np.ndarray | None = None,
) -> dict[str, bytes]:
    """The files a publication registers (weights, card, the update rule's initial weights,
    evaluation set), exactly as written to disk.
    """
    model.save(directory)
    if initial is not None:
        (directory / INITIAL_WEIGHTS_FILE).write_bytes(initial_weights_bytes(initial))
    if evaluation_set is not None:
        (directory / EVALUATION_SET_FILE).write_bytes(evaluation_set.data)
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


__all__: Sequence[str] = [
    "build_model_card",
    "evaluation_section",
    "footprints",
    "initial_of",
    "model_files",
    "node_entries",
    "publication_payload",
    "read_evaluation_set_file",
    "round_claims",
]
