"""The coordinator's Flower ServerApp: load state, run the rounds, publish, serve nodes.

State comes from ``coordinator-home`` in the run config: the coordinator identity (signs
the transparency log) and its database (``coordinator.store``): the enrolled nodes and
key holders with their identity keys, and the public CKKS context the key ceremony
uploaded (public key only; see :mod:`coordinator.federation.keys`). Each node's update
must carry an envelope signed by its enrolled identity key. After the last round the
accepted model is published (the one publication store of
:mod:`coordinator.aggregation`, the files in the model registry; see
:mod:`coordinator.federation.publication`) and sent to every node in a ``query.publish``
message with the log bundle the node checks it against (the update rule's recomputation
included; see :mod:`trust_node.federation.install`). Key holders decrypt and attest each
round's sum over the trust protocol: a trust server (``gcdt-coordinator serve``) on the
same coordinator state must be running, and key holders must be pulling (``gcdt-node
attest --watch``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp

from coordinator.aggregation import MODEL, AggregationPipeline, model_subject
from coordinator.context import CoordinatorContext
from coordinator.federation.aggregate import CkksSummer
from coordinator.federation.config import FederationConfig
from coordinator.federation.keygroups import load_training_groups
from coordinator.federation.keys import load_trust_keys
from coordinator.federation.linear_rounds import run_linear_training
from coordinator.federation.publication import (
    build_model_card,
    initial_of,
    model_files,
    publication_payload,
    read_evaluation_set_file,
)
from coordinator.federation.rounds import (
    FederatedTraining,
    TrainingResult,
    TrainingRoundStatus,
)
from coordinator.registry import ModelRegistry
from kernel.wire import flower as wire
from open_models.evaluation_set import EVALUATION_SET_FILE, EvaluationSet
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, unflatten, weight_layout
from open_models.published import PublishedModel


def run_training(grid: Grid, config: FederationConfig, run_name: str) -> TrainingResult:
    """Train for the configured rounds and publish through the one aggregation pipeline.

    The evaluation set is read first, so a bad one costs no round and no privacy budget.
    """
    home = config.coordinator_home
    # read before training: a bad evaluation set must not cost a run
    evaluation_set = (
        read_evaluation_set_file(config.evaluation_set)
        if config.evaluation_set is not None
        else None
    )
    context = CoordinatorContext.open(home)
    # the trust policy's thresholds bind every publication: never fewer contributors or t
    thresholds = context.trust_policy.publication
    config = config.within_policy(thresholds.m, thresholds.t)
    store = context.store
    keys = load_trust_keys(store, context.trust_policy)
    pipeline = AggregationPipeline(store, context.translog, keys.public_key)
    spec = FeatureSpec()
    layout = weight_layout(spec)
    start = flatten(initial_weights(spec, config.seed), layout)
    version = run_name
    training = FederatedTraining(
        grid,
        config,
        summer=CkksSummer(keys.public_key, start.size + 1),
        pipeline=pipeline,
        node_keys=store.identity_keys,
        nonces=context.nonces,
        run_name=run_name,
        initial_weights=start,
        model_version=version,
        groups=load_training_groups(home),
        privacy_cap=context.trust_policy.privacy_budget.unit_account()[1],
    )
    result = training.run()
    accepted = [r for r in result.rounds if r.status == TrainingRoundStatus.ACCEPTED]
    if accepted:
        jurisdictions = {n.node_id: n.jurisdiction for n in store.nodes(status=None)}
        publish(
            grid,
            config,
            pipeline,
            context.models,
            run_name,
            version,
            spec,
            unflatten(result.weights, layout),
            result,
            jurisdictions,
            evaluation_set,
        )
    context.engine.dispose()
    return result


def publish(
    grid: Grid,
    config: FederationConfig,
    pipeline: AggregationPipeline,
    registry: ModelRegistry,
    run_name: str,
    version: str,
    spec: FeatureSpec,
    weights: dict[str, np.ndarray],
    result: TrainingResult,
    jurisdictions: dict[str, str],
    evaluation_set: EvaluationSet | None,
) -> None:
    """Publish the trained model once: registry files, the log entry with its attestations, then
    every node hears of it.
    """
    card = build_model_card(
        config=config,
        run_name=run_name,
        version=version,
        spec=spec,
        weights=weights,
        result=result,
        jurisdictions=jurisdictions,
        evaluation_set=evaluation_set,
    )
    model = PublishedModel(config.model_id, version, weights, feature_spec=spec, card=card)
    initial = initial_of(result, spec, config.seed)
    with tempfile.TemporaryDirectory() as tmp:
        files = model_files(model, Path(tmp), evaluation_set, initial)
    published = pipeline.publish(
        subject_id=model_subject(model.model_id, version),
        kind=MODEL,
        payload=publication_payload(config, run_name, model, result),
    )
    registry.register(
        model_id=model.model_id,
        version=version,
        content_hash=model.content_hash,
        log_index=published.log_index,
        run=run_name,
        card=card,
        files=files,
    )
    files.pop(EVALUATION_SET_FILE, None)  # nodes get the model; the set is for auditors
    with tempfile.TemporaryDirectory() as tmp:
        # the log up to the tree head the publication signed: the node checks the model
        # against it (the same checks as ``gcdt-audit verify-model``) before installing
        bundle = pipeline.log.export_bundle(Path(tmp) / "log-bundle.json", sign_head=False)
        bundle_bytes = bundle.read_bytes()
    record = ConfigRecord(
        {
            wire.MODEL_ID: model.model_id,
            wire.VERSION: version,
            wire.CONTENT_HASH: model.content_hash,
            wire.LOG_INDEX: published.log_index,
            wire.LOG_BUNDLE: bundle_bytes,
            wire.FILE_NAMES: sorted(files),
            **{wire.FILE_PREFIX + name: data for name, data in files.items()},
        }
    )
    messages = [
        Message(RecordDict({wire.PUBLISHED: record}), dst_node_id=node, message_type=wire.PUBLISH)
        for node in sorted(grid.get_node_ids())
    ]
    grid.send_and_receive(messages, timeout=config.attest_timeout_s)


def enrolled_jurisdictions(config: FederationConfig) -> tuple[str, ...]:
    """The jurisdictions of the enrolled nodes, sorted: the linear basis's indicators."""
    context = CoordinatorContext.open(config.coordinator_home)
    try:
        return tuple(sorted({n.jurisdiction for n in context.store.nodes(status=None)}))
    finally:
        context.engine.dispose()


def build_server_app(config: FederationConfig | None = None) -> ServerApp:
    """The Flower ServerApp; a given ``config`` (tests) wins over the run config ``flwr run``
    passes.
    """
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        cfg = config or FederationConfig.from_run_config(dict(context.run_config))
        run_name = f"run-{grid.run.run_id}" if grid.run.run_id else "run-local"
        if cfg.family == "linear":
            run_linear_training(grid, cfg, run_name, enrolled_jurisdictions(cfg))
        else:
            run_training(grid, cfg, run_name)

    return app


app = build_server_app()
