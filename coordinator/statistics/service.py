"""The coordinator's statistics rounds: open, check and keep submissions, sum, ask the key
holders to decrypt, publish on ``t`` matching attestations.

The coordinator holds the *public* CKKS context only (invariant 2): it checks every
ciphertext against it (key id, ring, modulus level, scale, vector length — a vector made
under other parameters would otherwise decrypt to noise) and sums with it. It refuses to
ask for decryption unless at least ``max(m, noise_shares)`` nodes submitted, so the sum
always carries the full noise the nodes' ledgers were charged for, and at least ``m``
nodes are in it. Key holders mask suppressed cells before they sign
(``trust_node.statistics.attest``), so the coordinator never sees their values.

Every step goes into the transparency log: the round terms (``round``), each accepted
submission's digest (``submission_digest``), each refusal (``refusal``, with its reason
and never the content), each attestation and rejected attestation (``attestation`` /
``attestation_rejected``, via ``governance.attestation.collect_matching``; two disagreeing
groups that both reach ``t`` refuse publication and are logged as ``attestation_conflict``)
and the
benchmark (``publication``), whose payload carries the full attestation envelopes so an
auditor can check them offline (``gcdt-audit verify-benchmark``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from coordinator.aggregation import BENCHMARK, AggregationPipeline
from coordinator.statistics.errors import (
    NotEnoughSubmissionsError,
    PublicationRefusedError,
    StatisticsRoundError,
    SubmissionRejectedError,
)
from coordinator.statistics.tables import statistics_rejections, statistics_rounds
from coordinator.store.errors import DuplicateSubmissionError, NotFoundError
from coordinator.store.repository import CoordinatorStore, DecryptionRequest
from governance.attestation import InsufficientAttestationsError, ciphertext_digest
from governance.ckks import CkksError, CkksKey, EncryptedVector, check_ciphertext
from governance.envelope import Envelope
from governance.policy.models import PublicationThresholds
from governance.privacy import noise_multiplier_for
from governance.translog import TransparencyLog
from kernel.wire import trust as wire
from kernel.wire.trust import STATISTICS_ROUND as ROUND_KIND
from open_models.benchmark_cells import CellCatalogue
from open_models.benchmark_values import RoundTerms, derive_benchmarks

SUBMISSION_KIND = ROUND_KIND  # generic store keys submissions by round kind
BENCHMARK_FORMAT = "gcdt-benchmark/1"
DEFAULT_DEADLINE = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RoundStatus:
    round_id: int
    status: str
    terms: RoundTerms
    expected_nodes: tuple[str, ...]
    submitted: tuple[str, ...]
    deadline: dt.datetime
    request_id: str | None
    benchmark_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "round_id": self.round_id,
            "status": self.status,
            "terms": self.terms.to_dict(),
            "expected_nodes": list(self.expected_nodes),
            "submitted": list(self.submitted),
            "deadline": self.deadline.isoformat(),
            "request_id": self.request_id,
            "benchmark_id": self.benchmark_id,
        }


class StatisticsService:
    def __init__(
        self,
        store: CoordinatorStore,
        log: TransparencyLog,
        public_key: CkksKey | Callable[[], CkksKey],
        thresholds: PublicationThresholds,
    ) -> None:
        self.store = store
        self.log = log
        self._key = public_key
        self.thresholds = thresholds
        self.pipeline = AggregationPipeline(store, log, lambda: self.key)

    @property
    def key(self) -> CkksKey:
        """The public context (resolved late: the ceremony may follow the server start)."""
        key = self._key if isinstance(self._key, CkksKey) else self._key()
        if key.is_private:
            raise StatisticsRoundError("the coordinator must hold the public CKKS context only")
        return key

    @property
    def engine(self) -> Any:
        return self.store.engine

    # --- rounds ------------------------------------------------------------------------

    def open_round(
        self,
        *,
        years: Sequence[int],
        epsilon: float,
        delta: float,
        expected_nodes: Sequence[str] | None = None,
        noise_shares: int | None = None,
        deadline: dt.timedelta = DEFAULT_DEADLINE,
        unit: str = "facility",
    ) -> RoundTerms:
        """Open a round over the public catalogue of ``years``; log its terms."""
        nodes = tuple(expected_nodes or [n.node_id for n in self.store.nodes()])
        if not nodes:
            raise StatisticsRoundError("no enrolled nodes to expect in a statistics round")
        shares = noise_shares or len(nodes)
        if not self.thresholds.m <= shares <= len(nodes):
            raise StatisticsRoundError(
                f"noise_shares {shares} must be between m={self.thresholds.m} and the "
                f"{len(nodes)} expected nodes"
            )
        curious = max(1, self.thresholds.t - 1)
        if shares <= curious:
            raise StatisticsRoundError(
                f"noise_shares {shares} must exceed the {curious} curious contributors the "
                f"policy tolerates (t - 1 = {self.thresholds.t - 1}, at least 1)"
            )
        catalogue = CellCatalogue.for_years(years)
        # z is stated against one facility-cell (SENSITIVITY); under the facility unit one
        # facility moves len(years) cells, so z grows by sqrt(len(years)) to keep the
        # facility's epsilon at the round's stated epsilon (RoundTerms.sensitivity).
        units = len(catalogue.years) if unit == "facility" else 1
        z = math.sqrt(units) * noise_multiplier_for(
            target_epsilon=epsilon, delta=delta, sample_rate=1.0, steps=1
        )
        round_id = self.store.open_round(ROUND_KIND)
        terms = RoundTerms(
            round_id=round_id,
            years=catalogue.years,
            noise_multiplier=z,
            noise_shares=shares,
            key_id=self.key.key_id,
            epsilon=float(epsilon),
            delta=float(delta),
            k=self.thresholds.k,
            m=self.thresholds.m,
            curious=curious,
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert(statistics_rounds).values(
                    round_id=round_id,
                    terms=json.dumps(terms.to_dict(), sort_keys=True),
                    expected_nodes=json.dumps(list(nodes)),
                    status="open",
                    deadline=_now() + deadline,
                    opened_at=_now(),
                )
            )
        self.log.append(
            "round",
            {"kind": ROUND_KIND, "terms": terms.to_dict(), "expected_nodes": list(nodes)},
        )
        return terms

    def _row(self, round_id: int) -> Any:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(statistics_rounds).where(statistics_rounds.c.round_id == round_id)
            ).first()
        if row is None:
            raise StatisticsRoundError(f"no statistics round {round_id}")
        return row

    def terms(self, round_id: int) -> RoundTerms:
        return RoundTerms.from_dict(json.loads(self._row(round_id).terms))

    def current_round(self) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(statistics_rounds.c.round_id)
                .where(statistics_rounds.c.status.in_(("open", "decrypting")))
                .order_by(statistics_rounds.c.round_id.desc())
            ).first()
        return None if value is None else int(value[0])

    def status(self, round_id: int) -> RoundStatus:
        row = self._row(round_id)
        submitted = tuple(s.node_id for s in self.store.submissions(round_id, SUBMISSION_KIND))
        deadline = row.deadline if row.deadline.tzinfo else row.deadline.replace(tzinfo=dt.UTC)
        return RoundStatus(
            round_id=round_id,
            status=row.status,
            terms=self.terms(round_id),
            expected_nodes=tuple(json.loads(row.expected_nodes)),
            submitted=submitted,
            deadline=deadline,
            request_id=row.request_id,
            benchmark_id=row.benchmark_id,
        )

    def _set(self, round_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(statistics_rounds)
                .where(statistics_rounds.c.round_id == round_id)
                .values(**values)
            )

    # --- submissions -------------------------------------------------------------------

    def _reject(
        self, round_id: int, node_id: str, stage: str, reason: str, *, to_log: bool = True
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(statistics_rejections).values(
                    round_id=round_id, node_id=node_id, stage=stage, reason=reason, at=_now()
                )
            )
        if not to_log:
            return
        self.log.append(
            "refusal",
            {
                "kind": ROUND_KIND,
                "round_id": round_id,
                "node_id": node_id,
                "stage": stage,
                "reason": reason,
            },
        )

    def rejections(self, round_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(statistics_rejections)
                .where(statistics_rejections.c.round_id == round_id)
                .order_by(statistics_rejections.c.id)
            ).all()
        return [{"node_id": r.node_id, "stage": r.stage, "reason": r.reason} for r in rows]

    def check_submission(
        self,
        round_id: int,
        node_id: str,
        vectors: Sequence[EncryptedVector],
        *,
        to_log: bool = True,
    ) -> RoundTerms:
        """Refuse (recorded, with reason) a submission this round cannot take.

        ``to_log=False`` when the caller (the gRPC handler) logs the refusal itself.
        """
        status = self.status(round_id)
        terms = status.terms
        problem: str | None = None
        if status.status != "open":
            problem = f"round {round_id} is {status.status}, not open"
        elif _now() > status.deadline:
            problem = f"round {round_id} closed at its deadline {status.deadline.isoformat()}"
        elif node_id not in status.expected_nodes:
            problem = f"node {node_id!r} is not expected in round {round_id}"
        elif len(vectors) != 1:
            problem = f"expected exactly one encrypted vector, got {len(vectors)}"
        elif vectors[0].key_id != terms.key_id:
            problem = f"vector is under key {vectors[0].key_id}, the round under {terms.key_id}"
        elif vectors[0].length != terms.catalogue.vector_length:
            problem = (
                f"vector has length {vectors[0].length}, the round's catalogue needs "
                f"{terms.catalogue.vector_length}"
            )
        else:
            try:
                check_ciphertext(self.key, vectors[0])
            except CkksError as exc:
                problem = f"ciphertext refused: {exc}"
        if problem is not None:
            self._reject(round_id, node_id, "submission", problem, to_log=to_log)
            raise SubmissionRejectedError(problem)
        return terms

    def accept_submission(
        self,
        round_id: int,
        node_id: str,
        envelope: Envelope,
        vectors: Sequence[EncryptedVector],
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Check, keep and log the digest of one node's (already authenticated) vector."""
        self.check_submission(round_id, node_id, vectors)
        try:
            self.pipeline.keep(
                round_id=round_id,
                node_id=node_id,
                kind=SUBMISSION_KIND,
                envelope=envelope,
                vectors=vectors,
                metadata=metadata or {},
            )
        except DuplicateSubmissionError as exc:
            self._reject(round_id, node_id, "submission", str(exc))
            raise
        return ciphertext_digest(vectors[0])

    # --- sum and decryption --------------------------------------------------------------

    def request_decryption(self, round_id: int) -> DecryptionRequest:
        """Close submissions, sum with the public context, queue the sum for key holders."""
        status = self.status(round_id)
        if status.status != "open":
            raise StatisticsRoundError(f"round {round_id} is {status.status}, not open")
        need = max(self.thresholds.m, status.terms.noise_shares)
        submissions = self.store.submissions(round_id, SUBMISSION_KIND)
        if len(submissions) < need:
            raise NotEnoughSubmissionsError(
                f"round {round_id}: {len(submissions)} node(s) submitted, at least {need} "
                f"needed (m={self.thresholds.m}, noise shares {status.terms.noise_shares})"
            )
        request = self.pipeline.request_decryption(
            round_id=round_id,
            kind=ROUND_KIND,
            subject_id=status.terms.subject_id,
            submissions=submissions,
            parameters={wire.TERMS: json.dumps(status.terms.to_dict(), sort_keys=True)},
            min_contributors=need,
        )
        self._set(round_id, status="decrypting", request_id=request.request_id)
        self.store.close_round(round_id)
        self.log.append(
            "round",
            {
                "kind": ROUND_KIND,
                "round_id": round_id,
                "event": "summed",
                "submitters": sorted(s.node_id for s in submissions),
                "digest": request.digest,
            },
        )
        return request

    def accept_attestation(self, request_id: str, envelope: Envelope) -> None:
        """Keep an attestation handed in-process (the trust server checks its own on receipt)."""
        request = self.store.decryption_request(request_id)
        self.store.add_attestation(request.request_id, envelope.signer_id, envelope)

    # --- publication ---------------------------------------------------------------------

    def publish(self, round_id: int, *, wait_s: float = 0.0) -> dict[str, Any]:
        """Publish iff ``t`` enrolled key holders signed identical (masked) plaintexts.

        ``wait_s``: how long to wait for the key holders' attestations to arrive.
        """
        status = self.status(round_id)
        if status.status != "decrypting" or status.request_id is None:
            raise StatisticsRoundError(f"round {round_id} is {status.status}: nothing to publish")
        terms = status.terms
        request = self.store.decryption_request(status.request_id)
        try:
            outcome = (
                self.pipeline.await_attestations(request, t=self.thresholds.t, timeout_s=wait_s)
                if wait_s > 0
                else self.pipeline.collect(request, t=self.thresholds.t)
            )
        except InsufficientAttestationsError as exc:
            for rej in exc.outcome.rejected:
                self._reject(round_id, rej.signer_id, "attestation", rej.reason)
            raise PublicationRefusedError(str(exc), exc.outcome) from exc
        for rej in outcome.rejected:
            self._reject(round_id, rej.signer_id, "attestation", rej.reason)
        benchmark_id = f"bm-{round_id}-{request.digest[7:19]}"
        payload = {
            "format": BENCHMARK_FORMAT,
            "benchmark_id": benchmark_id,
            "round_id": round_id,
            "terms": terms.to_dict(),
            "t": self.thresholds.t,
            "ciphertext_digest": request.digest,
            "sigma_total": terms.sigma_total,
            "attestations": [a.envelope.to_json() for a in outcome.agreeing],
            "cells": derive_benchmarks(terms, outcome.floats()),
        }
        published = self.pipeline.publish(subject_id=benchmark_id, kind=BENCHMARK, payload=payload)
        self.pipeline.close(request)
        self._set(round_id, status="published", benchmark_id=benchmark_id)
        return {**payload, "log_index": published.log_index}

    def benchmark(self, benchmark_id: str) -> dict[str, Any]:
        try:
            published = self.store.publication(benchmark_id)
        except NotFoundError as exc:
            raise StatisticsRoundError(f"no benchmark {benchmark_id}") from exc
        return {**published.body, "log_index": published.log_index}

    def benchmark_ids(self) -> list[str]:
        return [p.subject_id for p in self.store.publications(BENCHMARK)]
