"""The coordinator's own round loop over Flower's Grid (no plaintext strategy).

Per round: send the open global model to the connected nodes (``train``), keep only
replies that carry a well-formed ciphertext under this run's key (bad ones are rejected
and logged), proceed only with ``>= quorum`` of them (else the round is logged as
skipped and the model stays), then hand the round to the one aggregation pipeline
(:mod:`coordinator.aggregation`): the updates are kept in the coordinator store, summed
with the public context and queued as a decryption request, which the key holders pull,
decrypt and attest over the trust protocol (never over Flower); the new model is accepted
only when ``t`` attestations from distinct key holders agree. Every step leaves a
transparency-log entry. Timeouts bound every wait: a node that drops out mid-round costs
at most ``round_timeout_s``, a missing key holder at most ``attest_timeout_s``; neither
stalls the run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from coordinator.aggregation import AggregationPipeline, NotEnoughContributorsError
from coordinator.federation.aggregate import CkksSummer, digest
from coordinator.federation.config import FederationConfig
from coordinator.federation.keygroups import TrainingGroups
from coordinator.federation.replies import (
    Refusal,
    RejectedReply,
    ReplyReader,
    Update,
    training_report,
)
from coordinator.store import DuplicateSubmissionError
from governance.attestation import (
    Attestation,
    AttestationOutcome,
    InsufficientAttestationsError,
)
from governance.keygroups import GroupPublicationError
from governance.nonces import NonceStore
from governance.policy import DatasetBudget
from governance.translog import TransparencyLog
from kernel.wire import flower as wire
from kernel.wire import trust as trust_wire
from open_models.update_rule import UpdateRule, UpdateRuleError

logger = logging.getLogger(__name__)

REFUSED = "node refused the round (budget or consent)"
#: How far a decrypted weight may stray from the contributor count: the CKKS error bound
#: tests pin for values up to 1e6 (docs/keys-and-budgets.md §1, 1e-3 absolute).
WEIGHT_TOLERANCE = 1e-3


class TrainingRoundStatus(StrEnum):
    """How a training round ended (the ``round_*`` event of its last log entry)."""

    ACCEPTED = "accepted"
    SKIPPED = "skipped"  # fewer valid updates than the quorum
    NOT_ATTESTED = "not_attested"  # no t matching attestations, or a non-positive weight


@dataclass
class RoundOutcome:
    round: int
    status: TrainingRoundStatus
    contributors: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    total_weight: float = 0.0
    aggregate_digest: str | None = None
    log_index: int | None = None
    #: node -> its signed training report (``wire.REPORT_FIELDS`` parsed to floats)
    reports: dict[str, dict[str, float]] = field(default_factory=dict)
    #: the agreeing attestation envelopes (``Envelope.to_json``) of an accepted round
    attestations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrainingResult:
    weights: np.ndarray
    rounds: list[RoundOutcome]
    #: ``w_0`` and the rule the weights were computed with (published with the model)
    initial_weights: np.ndarray | None = None
    rule: UpdateRule = field(default_factory=UpdateRule)


class FederatedTraining:
    def __init__(
        self,
        grid: Grid,
        config: FederationConfig,
        *,
        summer: CkksSummer,
        pipeline: AggregationPipeline,
        node_keys: Callable[[], Mapping[str, bytes]],
        run_name: str,
        initial_weights: np.ndarray,
        model_version: str,
        nonces: NonceStore | None = None,
        groups: TrainingGroups | None = None,
        rule: UpdateRule | None = None,
        privacy_cap: DatasetBudget | None = None,
    ) -> None:
        self.grid = grid
        self.groups = groups
        self.group_aggregation = groups.aggregation(pipeline) if groups is not None else None
        #: the trust policy's (epsilon, delta) cap on a node's privacy-unit account: a
        #: reply whose signed report declares more is not counted (issue 14)
        self.privacy_cap = privacy_cap
        self.config = config
        self.summer = summer
        self.pipeline = pipeline
        self.node_keys = node_keys
        self.nonces = nonces
        self.run_name = run_name
        self.weights = np.asarray(initial_weights, dtype=np.float64).copy()
        self.initial_weights = self.weights.copy()
        self.rule = rule if rule is not None else UpdateRule()
        self.model_version = model_version
        self._check_length()

    def _check_length(self) -> None:
        """FedAvg: a node vector is the weighted update plus its weight."""
        if self.weights.size + 1 != self.summer.length:
            raise ValueError(
                f"model has {self.weights.size} parameters; encrypted vectors must have "
                f"{self.weights.size + 1} slots, summer expects {self.summer.length}"
            )

    @property
    def log(self) -> TransparencyLog:
        return self.pipeline.log

    # --- nodes -------------------------------------------------------------------------

    def wait_for_nodes(self) -> list[int]:
        deadline = time.monotonic() + self.config.connect_timeout_s
        while True:
            nodes = sorted(self.grid.get_node_ids())
            if len(nodes) >= self.config.min_nodes or time.monotonic() > deadline:
                return nodes
            time.sleep(0.5)

    def _round_config(self, round_no: int) -> ConfigRecord:
        config = ConfigRecord(
            {
                wire.RUN: self.run_name,
                wire.ROUND: round_no,
                wire.KEY_ID: self.summer.key.key_id,
                wire.MODEL_ID: self.config.model_id,
                wire.VERSION: self.model_version,
                wire.CLIP_NORM: float(self.config.clip_norm),
                wire.ROUNDS_REMAINING: self.config.rounds - round_no + 1,
            }
        )
        if self.groups is not None:  # key-group custody: nodes share under these keys
            config[wire.KEY_GROUP_IDS] = ",".join(k.key_id for k in self.groups.public_keys)
            config[wire.FIXED_POINT_BITS] = self.groups.fractional_bits
        return config

    # --- one round ---------------------------------------------------------------------

    def run_round(self, round_no: int) -> RoundOutcome:
        """Ask, keep the valid updates, and aggregate them if the quorum is met."""
        outcome = RoundOutcome(round=round_no, status=TrainingRoundStatus.SKIPPED)
        nodes = sorted(self.grid.get_node_ids())
        self._event(round_no, "round_started", **self._started(nodes))
        replies = self._ask(round_no, nodes)
        stored_round = self.pipeline.open_round(trust_wire.TRAINING_ROUND)
        try:
            self._keep_updates(replies, round_no, stored_round, outcome)
        finally:
            self.pipeline.store.close_round(stored_round)
        self._log_refusals(round_no, outcome)
        if len(outcome.contributors) < self.config.quorum:
            return self._skip(outcome, len(nodes))
        return self._aggregate(outcome, stored_round)

    def _started(self, nodes: list[int]) -> dict[str, Any]:
        return {
            "model_id": self.config.model_id,
            "global_model_sha256": digest(self.weights.tobytes()),
            "nodes_asked": len(nodes),
            "quorum": self.config.quorum,
        }

    def _ask(self, round_no: int, nodes: list[int]) -> list[Message]:
        """Send the open model to every connected node; wait at most the round timeout."""
        messages = [
            Message(
                RecordDict(
                    {
                        wire.GLOBAL_ARRAYS: ArrayRecord({wire.WEIGHTS: _array(self.weights)}),
                        wire.ROUND_CONFIG: self._round_config(round_no),
                    }
                ),
                dst_node_id=node,
                message_type=wire.TRAIN,
                group_id=f"{self.run_name}:{round_no}",
            )
            for node in nodes
        ]
        return list(self.grid.send_and_receive(messages, timeout=self.config.round_timeout_s))

    def _keep_updates(
        self, replies: Iterable[Message], round_no: int, stored_round: int, outcome: RoundOutcome
    ) -> None:
        """Read every reply; keep each node's first valid update in the pipeline's store."""
        reader = ReplyReader(
            self.summer, self.node_keys(), self.nonces, round_no, self.group_aggregation
        )
        for reply in replies:
            try:
                read = reader.read(reply)
                if isinstance(read, Refusal):
                    outcome.refused.append(
                        (read.node, "node refused the round (budget or consent)")
                    )
                    continue
                self._keep(read, round_no, stored_round, outcome)
            except RejectedReply as exc:
                outcome.rejected.append((exc.who, exc.reason))

    def _keep(
        self, update: Update, round_no: int, stored_round: int, outcome: RoundOutcome
    ) -> None:
        if update.node in outcome.contributors:
            raise RejectedReply(update.node, "second submission in one round")
        report = training_report(update.metadata)
        self._within_cap(update.node, report)
        vector = update.submission.vector
        try:
            self.pipeline.keep(
                round_id=stored_round,
                node_id=update.node,
                kind=trust_wire.TRAINING_ROUND,
                envelope=update.envelope,
                vectors=update.shares or (vector,),
                metadata=update.metadata,
                log_fields={
                    "run": self.run_name,
                    "round": round_no,
                    "ciphertext_sha256": update.submission.digest,
                    "key_id": vector.key_id,
                    "length": vector.length,
                    **report,
                },
            )
        except DuplicateSubmissionError as exc:
            raise RejectedReply(update.node, str(exc)) from exc
        outcome.contributors.append(update.node)
        outcome.reports[update.node] = report

    def _within_cap(self, node: str, report: Mapping[str, float]) -> None:
        """Refuse to count a node that declares a budget above the trust policy's cap."""
        cap = self.privacy_cap
        if cap is None:
            return
        declared = {
            "epsilon_budget": (report.get(wire.EPSILON_BUDGET), cap.epsilon),
            "epsilon_spent": (report.get(wire.EPSILON_SPENT), cap.epsilon),
            "dp_delta": (report.get(wire.DP_DELTA), cap.delta),
        }
        over = [
            f"{name} {value:g} > cap {limit:g}"
            for name, (value, limit) in declared.items()
            if value is not None and value > limit and not math.isclose(value, limit)
        ]
        if over:
            raise RejectedReply(node, "declared privacy above the trust cap: " + ", ".join(over))

    def _log_refusals(self, round_no: int, outcome: RoundOutcome) -> None:
        events = [("submission_rejected", r) for r in outcome.rejected]
        events += [("node_refused_round", r) for r in outcome.refused]
        for event, (node, reason) in events:
            self.log.append(
                "refusal",
                {
                    "event": event,
                    "run": self.run_name,
                    "round": round_no,
                    "node_id": node,
                    "reason": reason,
                },
            )

    def _skip(self, outcome: RoundOutcome, asked: int) -> RoundOutcome:
        valid = len(outcome.contributors)
        outcome.log_index = self._event(
            outcome.round,
            "round_skipped",
            valid_updates=valid,
            quorum=self.config.quorum,
            nodes_asked=asked,
        )
        logger.warning("round %d skipped: %d < quorum %d", outcome.round, valid, self.config.quorum)
        return outcome

    # --- aggregate: sum, decrypt and attest, accept ------------------------------------

    def _aggregate(self, outcome: RoundOutcome, stored_round: int) -> RoundOutcome:
        if self.group_aggregation is not None:
            return self._aggregate_groups(outcome, stored_round)
        try:
            request = self.pipeline.request_decryption(
                round_id=outcome.round,
                kind=trust_wire.TRAINING_ROUND,
                subject_id=f"model-update:{self.run_name}:{outcome.round}",
                submissions=self.pipeline.store.submissions(
                    stored_round, trust_wire.TRAINING_ROUND
                ),
                min_contributors=self.config.quorum,
            )
        except NotEnoughContributorsError:  # never sent for decryption
            return self._skip(outcome, len(outcome.contributors))
        outcome.aggregate_digest = request.digest.removeprefix("sha256:")
        try:
            attested = self.pipeline.await_attestations(
                request, t=self.config.t, timeout_s=self.config.attest_timeout_s
            )
        except InsufficientAttestationsError as exc:
            return self._not_attested(outcome, str(exc))
        finally:
            self.pipeline.close(request)
        return self._accept(outcome, attested)

    def _aggregate_groups(self, outcome: RoundOutcome, stored_round: int) -> RoundOutcome:
        """Key-group custody: sum per group, wait for every group's holders, recombine."""
        assert self.groups is not None and self.group_aggregation is not None
        try:
            requests = self.group_aggregation.request_group_decryptions(
                round_id=outcome.round,
                kind=trust_wire.TRAINING_ROUND,
                subject_id=f"model-update:{self.run_name}:{outcome.round}",
                submissions=self.pipeline.store.submissions(
                    stored_round, trust_wire.TRAINING_ROUND
                ),
                min_contributors=self.config.quorum,
            )
        except NotEnoughContributorsError:
            return self._skip(outcome, len(outcome.contributors))
        # one digest naming the aggregate: of the groups' sum digests, in group order
        outcome.aggregate_digest = digest(
            ",".join(requests[g.group].digest for g in self.groups.groups).encode()
        )
        try:
            recombined = self.group_aggregation.await_recombined(
                requests,
                self.groups.groups,
                t=self.config.t,
                fractional_bits=self.groups.fractional_bits,
                timeout_s=self.config.attest_timeout_s,
            )
        except GroupPublicationError as exc:
            return self._not_attested(outcome, str(exc))
        finally:
            for request in requests.values():
                self.pipeline.close(request)
        agreeing = tuple(a for o in recombined.outcomes.values() for a in o.agreeing)
        return self._accept_values(outcome, list(recombined.values), agreeing)

    def _apply(self, round_no: int, values: Sequence[str | float]) -> tuple[np.ndarray, float]:
        """The published update rule applied to the agreed values (what auditors recompute),
        and the round's total weight; ``ValueError`` when the rule refuses the aggregate.
        """
        denominator = self.rule.denominator
        weight = float(values[-1]) if denominator is None and values else float(denominator or 0)
        try:
            return self.rule.step(self.weights, values), weight
        except UpdateRuleError as exc:
            raise ValueError(f"the update rule refused the aggregate: {exc}") from exc

    def _accept(self, outcome: RoundOutcome, attested: AttestationOutcome) -> RoundOutcome:
        return self._accept_values(outcome, attested.values or (), attested.agreeing)

    def _accept_values(
        self,
        outcome: RoundOutcome,
        values: Sequence[str | float],
        agreeing: tuple[Attestation, ...],
    ) -> RoundOutcome:
        # Every node weighs its update by the public constant 1 (issue 14: no record count
        # leaves a node), so the weight slot must be the number of contributors, a public
        # number; a sum whose weight slot says otherwise carries a node that lied.
        weight_slot = float(values[-1]) if values else 0.0
        expected = float(len(outcome.contributors))
        if not abs(weight_slot - expected) <= WEIGHT_TOLERANCE:
            return self._not_attested(
                outcome,
                f"attested total weight {weight_slot} is not the {len(outcome.contributors)} "
                "contributors' public unit weights",
            )
        try:
            self.weights, weight = self._apply(outcome.round, values)
        except ValueError as exc:
            return self._not_attested(outcome, str(exc))
        outcome.total_weight = weight
        outcome.status = TrainingRoundStatus.ACCEPTED
        outcome.attestations = [a.envelope.to_json() for a in agreeing]
        outcome.log_index = self._event(
            outcome.round,
            "round_accepted",
            contributors=sorted(outcome.contributors),
            aggregate_sha256=outcome.aggregate_digest,
            attested_by=sorted(a.signer_id for a in agreeing),
            total_weight=weight,
            global_model_sha256=digest(self.weights.tobytes()),
        )
        return outcome

    def _not_attested(self, outcome: RoundOutcome, reason: str) -> RoundOutcome:
        outcome.status = TrainingRoundStatus.NOT_ATTESTED
        outcome.log_index = self._event(
            outcome.round,
            "round_not_attested",
            aggregate_sha256=outcome.aggregate_digest,
            reason=reason,
        )
        return outcome

    def _event(self, round_no: int, event: str, **fields: Any) -> int:
        """Append a ``round`` entry; returns its log index."""
        payload = {"event": event, "run": self.run_name, "round": round_no, **fields}
        return self.log.append("round", payload).index

    def run(self) -> TrainingResult:
        self.wait_for_nodes()
        rounds = [self.run_round(r) for r in range(1, self.config.rounds + 1)]
        return TrainingResult(self.weights, rounds, self.initial_weights, self.rule)


def _array(values: np.ndarray) -> Array:
    return Array(np.ascontiguousarray(values, dtype=np.float64))
