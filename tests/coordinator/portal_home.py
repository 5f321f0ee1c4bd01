"""A coordinator home populated through the real code paths, for the portal and audit tests.

Three enrolled nodes (two CKKS key holders), one statistics round published by
``StatisticsService`` (node releases charged to a ledger, CKKS sums, key-holder
attestations), and one model trained by ``open_models.train_local`` under DP (Opacus,
charged to a privacy ledger) over two encrypted rounds: each node's update is CKKS-encrypted,
summed with the public context, decrypted and signed by the key holders
(``governance.attestation.attest``), accepted by ``collect_matching`` (which logs the
attestations), then published with a model card, a synthetic evaluation set, the
attestation envelopes and ``t`` in the publication entry, and registered.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coordinator.registry import ModelRegistry
from coordinator.statistics import StatisticsService
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.attestation import AttestationOutcome, attest, collect_matching
from governance.ckks import CkksKey, EncryptedVector, add_all, encrypt
from governance.envelope import seal
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.policy.models import PublicationThresholds
from governance.privacy import Budget, InMemoryLedgerStore, LedgerAccount, PrivacyLedger
from governance.translog import TransparencyLog
from kernel.settings import Settings, load_settings
from open_models.dp import DpSpec
from open_models.evaluation import baseline_estimates, evaluate
from open_models.evaluation_set import EVALUATION_SET_FILE, evaluation_set_bytes
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, unflatten, weight_layout
from open_models.published import PublishedModel
from open_models.training import TrainConfig, train_local
from open_models.update_rule import CARD_SECTION, UpdateRule, card_section
from tests.policy_setup import log_founded_policy
from trust_node.generate import generate
from trust_node.statistics import prepare_release
from trust_node.statistics.attest import attest_statistics

NODES = {"node-0": "DE", "node-1": "IN", "node-2": "BR"}
KEY_HOLDERS = ("node-0", "node-1")
MODEL_ID = "gcdt-intensity"
RUN = "run-portal"
T = 2
EPSILON_BUDGET = 8.0
DELTA = 1e-5
#: Planted in every node's records: no response of the portal may contain it.
CANARY_PRODUCTION = 987654.321


@dataclass
class PortalWorld:
    home: Path
    settings: Settings
    log: TransparencyLog
    identity: Identity
    nodes: dict[str, Identity]
    key: CkksKey
    model: PublishedModel
    version: str
    benchmark_id: str
    records: dict[str, pd.DataFrame]
    publication: dict[str, Any]


def _enrol(store: CoordinatorStore, log: TransparencyLog, nodes: dict[str, Identity]) -> None:
    transports: dict[str, bytes] = {}
    for i, (node_id, ident) in enumerate(nodes.items()):
        transport = Identity.generate(f"{node_id}-transport").public_key
        holder = node_id in KEY_HOLDERS
        store.register_node(
            node_id=node_id,
            jurisdiction=NODES[node_id],
            identity_public_key=ident.public_key,
            transport_public_key=transport,
            cert_serial=0x100 + i,
            key_holder=holder,
        )
        log.append(
            "enrolment",
            {
                "node_id": node_id,
                "jurisdiction": NODES[node_id],
                "identity_public_key": ident.public_key.hex(),
                "transport_public_key": transport.hex(),
                "certificate_serial": f"{0x100 + i:x}",
            },
        )
        transports[node_id] = transport
    log_founded_policy(log, nodes, KEY_HOLDERS, jurisdictions=NODES, transport_keys=transports)


def _statistics(
    store: CoordinatorStore,
    log: TransparencyLog,
    key: CkksKey,
    nodes: dict[str, Identity],
    records: dict[str, pd.DataFrame],
) -> str:
    service = StatisticsService(store, log, key.public(), PublicationThresholds(k=3, m=2, t=T))
    terms = service.open_round(years=(2022, 2023), epsilon=20.0, delta=DELTA)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id, ident in nodes.items():
        release = prepare_release(
            terms,
            key=key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(100.0, DELTA),
            load_records=lambda n=node_id: records[n],  # type: ignore[misc]
        )
        envelope = seal(ident, "statistics_submission", terms.round_id, {"n": node_id})
        service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    request = service.request_decryption(terms.round_id)
    for node_id in KEY_HOLDERS:
        service.accept_attestation(
            request.request_id, attest_statistics(nodes[node_id], key, terms, request.vector)
        )
    return str(service.publish(terms.round_id)["benchmark_id"])


def _train(
    log: TransparencyLog,
    key: CkksKey,
    nodes: dict[str, Identity],
    records: dict[str, pd.DataFrame],
    rounds: int,
) -> tuple[np.ndarray, list[dict[str, Any]], dict[str, list[Any]], dict[str, float]]:
    """Federated rounds as the coordinator logs them: submissions, attested sum, accept."""
    layout = weight_layout(FeatureSpec())
    weights = flatten(initial_weights(FeatureSpec(), 0), layout)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    claims: list[dict[str, Any]] = []
    envelopes: dict[str, list[Any]] = {}
    spent: dict[str, float] = {}
    for round_no in range(1, rounds + 1):
        log.append(
            "round",
            {
                "event": "round_started",
                "run": RUN,
                "round": round_no,
                "model_id": MODEL_ID,
                "nodes_asked": len(nodes),
                "quorum": 2,
            },
        )
        updates = [
            _local_update(log, key, records[node_id], weights, ledger, node_id, i, round_no, rounds)
            for i, node_id in enumerate(nodes)
        ]
        spent.update({node_id: eps for node_id, (_, eps) in zip(nodes, updates, strict=True)})
        total = add_all(key.public(), [vector for vector, _ in updates])
        outcome = _attested(log, key, nodes, total, round_no)
        weights = UpdateRule().step(weights, outcome.values or ())  # the published rule
        total_weight = float(outcome.floats()[-1])
        claims.append(_accept(log, nodes, round_no, total, outcome, total_weight))
        envelopes[str(round_no)] = [a.envelope.to_json() for a in outcome.agreeing]
    return weights, claims, envelopes, spent


def _local_update(
    log: TransparencyLog,
    key: CkksKey,
    records: pd.DataFrame,
    weights: np.ndarray,
    ledger: PrivacyLedger,
    node_id: str,
    i: int,
    round_no: int,
    rounds: int,
) -> tuple[EncryptedVector, float]:
    """One node's encrypted, example-weighted update (its digest logged) and epsilon spent."""
    layout = weight_layout(FeatureSpec())
    privacy = DpSpec(
        LedgerAccount(ledger, node_id, "2026", Budget(EPSILON_BUDGET, DELTA)),
        rounds_remaining=rounds - round_no + 1,
        noise_seed=i,
    )
    result = train_local(
        unflatten(weights, layout), records, TrainConfig(epochs=1, seed=i), privacy
    )
    n = float(result.num_examples)
    vector = encrypt(key.public(), [*(result.update * n).tolist(), n])
    log.append(
        "submission_digest",
        {
            "run": RUN,
            "round": round_no,
            "node_id": node_id,
            "ciphertext_sha256": hashlib.sha256(vector.to_bytes()).hexdigest(),
            "key_id": vector.key_id,
            "length": vector.length,
        },
    )
    return vector, result.epsilon_spent


def _attested(
    log: TransparencyLog,
    key: CkksKey,
    nodes: dict[str, Identity],
    total: EncryptedVector,
    round_no: int,
) -> AttestationOutcome:
    """The key holders' attestations of the sum, collected as the coordinator does."""
    subject = f"model-update:{RUN}:{round_no}"
    signed = [
        attest(nodes[h], key, total, subject_id=subject, round_id=round_no) for h in KEY_HOLDERS
    ]
    return collect_matching(
        signed,
        {n: nodes[n].public_key for n in KEY_HOLDERS},
        t=T,
        subject_id=subject,
        round_id=round_no,
        key_id=total.key_id,
        digest="sha256:" + hashlib.sha256(total.to_bytes()).hexdigest(),
        log=log,
        max_age=None,
    )


def _accept(
    log: TransparencyLog,
    nodes: dict[str, Identity],
    round_no: int,
    total: EncryptedVector,
    outcome: AttestationOutcome,
    total_weight: float,
) -> dict[str, Any]:
    """Log the round as accepted; return the card's claim about it."""
    aggregate = hashlib.sha256(total.to_bytes()).hexdigest()
    entry = log.append(
        "round",
        {
            "event": "round_accepted",
            "run": RUN,
            "round": round_no,
            "contributors": sorted(nodes),
            "aggregate_sha256": aggregate,
            "attested_by": sorted(outcome.signer_ids()),
            "total_weight": total_weight,
        },
    )
    return {
        "round": round_no,
        "status": "accepted",
        "contributors": sorted(nodes),
        "aggregate_sha256": aggregate,
        "log_index": entry.index,
    }


def evaluation_section(
    model: PublishedModel, eval_records: pd.DataFrame, truth: pd.DataFrame, dataset: dict[str, Any]
) -> dict[str, Any]:
    predicted = model.predict(eval_records)
    estimates = {
        "model": predicted["estimate_direct_tco2e"].to_numpy(dtype=float),
        **baseline_estimates(eval_records),
    }
    result = evaluate(
        eval_records,
        truth,
        estimates,
        model="model",
        interval=(
            predicted["estimate_low_tco2e"].to_numpy(dtype=float),
            predicted["estimate_high_tco2e"].to_numpy(dtype=float),
        ),
    )
    return {**result, "dataset": dataset}


def publish_model(
    world_log: TransparencyLog,
    registry: ModelRegistry,
    weights: np.ndarray,
    card: dict[str, Any],
    version: str,
    publication: dict[str, Any],
    eval_bytes: bytes,
) -> tuple[PublishedModel, dict[str, Any]]:
    """Publish like the ServerApp does, with the evaluation set beside the model files."""
    layout = weight_layout(FeatureSpec())
    bare = PublishedModel(MODEL_ID, version, unflatten(weights, layout), card={})
    dataset = card["evaluation"]["dataset"]
    if "overall" not in card["evaluation"]:
        records, truth = _eval_frames(eval_bytes)
        card = {**card, "evaluation": evaluation_section(bare, records, truth, dataset)}
    model = PublishedModel(MODEL_ID, version, unflatten(weights, layout), card=card)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        (Path(tmp) / EVALUATION_SET_FILE).write_bytes(eval_bytes)
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
    payload = {
        "model_id": MODEL_ID,
        "version": version,
        "content_hash": model.content_hash,
        "run": RUN,
        **publication,
    }
    entry = world_log.append("publication", payload)
    registry.register(
        model_id=MODEL_ID,
        version=version,
        content_hash=model.content_hash,
        log_index=entry.index,
        run=RUN,
        card=dict(model.card),
        files=files,
    )
    world_log.tree_head()
    return model, payload


def _eval_frames(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    from open_models.evaluation_set import read_evaluation_set

    return read_evaluation_set(data)


def make_portal_home(home: Path, *, rounds: int = 2) -> PortalWorld:
    layout = HomeLayout(home)
    identity = Identity.generate("coordinator")
    identity.save(layout.identity_dir)
    settings = load_settings(home=home, database_url=f"sqlite:///{home}/coordinator.sqlite")
    engine = open_engine(settings)
    store = CoordinatorStore(engine)
    log = TransparencyLog(engine, identity)
    nodes = {node_id: Identity.generate(node_id) for node_id in NODES}
    _enrol(store, log, nodes)
    key = CkksKey.create()
    data = generate(
        list(NODES.values()), records=120, seed=5, start_year=2022, end_year=2023
    ).records
    data.loc[data.index[0], "production_t"] = CANARY_PRODUCTION
    data["record_id"] = "private-" + data["record_id"]  # distinct from the evaluation set's
    records = {n: data[data["jurisdiction"] == j].copy() for n, j in NODES.items()}
    benchmark_id = _statistics(store, log, key, nodes, records)
    weights, claims, envelopes, spent = _train(log, key, nodes, records, rounds)
    eval_bytes = _evaluation_set()
    card = _card(rounds, claims, records, spent, weights.size, eval_bytes)
    model, payload = publish_model(
        log,
        ModelRegistry(engine),
        weights,
        card,
        RUN,
        {"t": T, "attestations": envelopes},
        eval_bytes,
    )
    return PortalWorld(
        home, settings, log, identity, nodes, key, model, RUN, benchmark_id, records, payload
    )


def _evaluation_set() -> bytes:
    """The published evaluation set: other facilities than the nodes' own records."""
    generated = generate(list(NODES.values()), records=30, seed=99, start_year=2023, end_year=2023)
    return evaluation_set_bytes(
        generated.records,
        generated.truth,
        seed=99,
        generator="trust_node.generate (seed 99, 30/jurisdiction)",
    )


def _card(
    rounds: int,
    claims: list[dict[str, Any]],
    records: dict[str, pd.DataFrame],
    spent: dict[str, float],
    parameters: int,
    eval_bytes: bytes,
) -> dict[str, Any]:
    """A model card as the coordinator publishes one, its claims matching the log."""
    return {
        "card_version": "gcdt-model-card/1",
        "model": {"model_id": MODEL_ID, "version": RUN, "parameters": int(parameters)},
        "run": RUN,
        "t": T,
        "rounds": claims,
        "data_scope": {"records": "facility records of consenting tenants on the nodes"},
        "federation": {
            "rounds": rounds,
            "nodes": [
                {
                    "node_id": n,
                    "jurisdiction": NODES[n],
                    "labelled_records": int(records[n]["verified_direct_tco2e"].notna().sum()),
                    "epsilon_spent": spent[n],
                    "delta": DELTA,
                    "epsilon_budget": EPSILON_BUDGET,
                }
                for n in NODES
            ],
        },
        # the rule as the coordinator states it; w_0 from seed 0 (no initial-weights file)
        CARD_SECTION: card_section(
            UpdateRule(),
            flatten(initial_weights(FeatureSpec(), 0), weight_layout(FeatureSpec())),
            0,
            list(range(1, rounds + 1)),
        ),
        "evaluation": {
            "dataset": {
                "file": EVALUATION_SET_FILE,
                "sha256": hashlib.sha256(eval_bytes).hexdigest(),
                "seed": 99,
                "generator": "trust_node.generate",
                "method": "model",
                "description": "synthetic facilities from the demo-data generator",
            }
        },
        "compute_footprint": {
            "per_node": [],
            "total": {"energy_kwh": None, "co2_kg": None, "measured_nodes": 0, "unmeasured": []},
        },
    }


_SHARED: dict[str, PortalWorld] = {}


def shared_portal_home(factory: Any) -> PortalWorld:
    """One populated home per test session (``factory``: pytest's ``tmp_path_factory``).

    Tests that add publications use their own versions, so others still find theirs.
    """
    if "world" not in _SHARED:
        _SHARED["world"] = make_portal_home(factory.mktemp("portal-home"))
    return _SHARED["world"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortalServer:
    """The portal app under uvicorn on a free loopback port, in a thread; ``stop`` joins it."""

    def __init__(self, settings: Settings) -> None:
        import threading

        import uvicorn

        from coordinator.portal import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> PortalServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the portal did not start within 30 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
