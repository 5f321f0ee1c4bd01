"""Attack: a benchmark publication that under-states ``t`` or hides a second group of ``t``.

A real statistics round (real CKKS sums, key-holder attestations through
``StatisticsService``, a real transparency log exported as a bundle). The coordinator,
dishonest, logs publications ``verify-benchmark`` must fail although each carries ``t``
valid matching attestations: one stating the ``t = 2`` it met while the trust policy in
force (its ``policy_change`` entry) requires 3, and one carrying two groups of ``t``
attestations that sign different values (it used to pass, taking the first group).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coordinator.statistics import StatisticsService
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.attestation import ATTESTATION_KIND
from governance.benchmark_audit import verify_benchmark
from governance.ckks import CkksKey
from governance.envelope import Envelope, seal
from governance.identity import Identity
from governance.policy.models import PublicationThresholds
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from trust_node.generate import generate
from trust_node.statistics import prepare_release
from trust_node.statistics.attest import attest_statistics

NODES = ("node-0", "node-1", "node-2", "node-3")


@dataclass
class Published:
    log: TransparencyLog
    payload: dict[str, object]
    nodes: dict[str, Identity]
    tmp: Path


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def published(tmp_path: Path, secret_key: CkksKey) -> Iterator[Published]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    store = CoordinatorStore(engine)
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    nodes = {n: Identity.generate(n) for n in NODES}
    for i, (node_id, ident) in enumerate(nodes.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=500 + i,
            key_holder=True,
        )
        log.append(
            "enrolment",
            {"node_id": node_id, "identity_public_key": ident.public_key.hex(), "key_holder": True},
        )
    # the policy in force, as ``coordinator.membership.log_version`` logs it: t = 3, every
    # node a key holder
    log.append(
        "policy_change",
        {
            "policy": "trust",
            "thresholds": {"k": 3, "m": 3, "t": 3},
            "members": [
                {"node_id": n, "identity_public_key": i.public_key.hex()} for n, i in nodes.items()
            ],
            "key_groups": [{"group": "g1", "holders": list(nodes)}],
        },
    )
    records = generate(3, 300, seed=5, start_year=2022, end_year=2023).records
    parts = [g for _, g in records.groupby("jurisdiction")]
    # the service itself is configured below the logged policy (t = 2): what a dishonest
    # coordinator would run
    service = StatisticsService(
        store, log, secret_key.public(), PublicationThresholds(k=3, m=3, t=2)
    )
    terms = service.open_round(
        years=(2022, 2023), epsilon=20.0, delta=1e-5, expected_nodes=NODES[:3]
    )
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id, part in zip(NODES[:3], parts, strict=True):
        release = prepare_release(
            terms,
            key=secret_key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(100.0, 1e-5),
            load_records=lambda p=part: p,  # type: ignore[misc]
        )
        envelope = seal(nodes[node_id], "statistics_submission", terms.round_id, {"n": node_id})
        service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    request = service.request_decryption(terms.round_id)
    for node_id in NODES[:2]:
        service.accept_attestation(
            request.request_id,
            attest_statistics(nodes[node_id], secret_key, terms, request.vector),
        )
    payload = service.publish(terms.round_id)
    yield Published(log, payload, nodes, tmp_path)
    engine.dispose()


def _bundle(p: Published) -> dict[str, object]:
    import json

    path = p.log.export_bundle(p.tmp / f"bundle-{p.log.size()}.json")
    return dict(json.loads(path.read_text()))


def test_benchmark_stating_a_t_below_the_policy_in_force_fails(published: Published) -> None:
    report = verify_benchmark(_bundle(published), str(published.payload["benchmark_id"]))
    assert not report.ok
    assert any("policy in force requires t=3" in p for p in report.problems), report.problems


def test_benchmark_hiding_a_second_group_of_t_fails(published: Published) -> None:
    p = published
    honest = [Envelope.from_json(raw) for raw in p.payload["attestations"]]  # type: ignore[attr-defined]
    forged_payload = dict(honest[0].payload)  # type: ignore[arg-type]
    forged_payload["values"] = ["1.000000"] * len(forged_payload["values"])
    forged = [
        seal(p.nodes[n], ATTESTATION_KIND, honest[0].round_id, forged_payload)
        for n in ("node-2", "node-3")
    ]
    body = {k: v for k, v in p.payload.items() if k != "log_index"}
    tie_id = f"{body['benchmark_id']}-tie"
    p.log.append(
        "publication",
        {
            **body,
            "benchmark_id": tie_id,
            "t": 2,
            "attestations": [e.to_json() for e in (*honest, *forged)],
        },
    )
    p.log.tree_head()
    report = verify_benchmark(_bundle(p), tie_id)
    assert not report.ok
    conflict = [problem for problem in report.problems if "conflict" in problem]
    assert conflict and "node-0, node-1" in conflict[0] and "node-2, node-3" in conflict[0]
