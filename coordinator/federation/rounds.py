"""The coordinator's own round loop over Flower's Grid (no plaintext strategy).

Per round: send the open global model to the connected nodes (``train``), keep only
replies that carry a well-formed ciphertext under this run's key (bad ones are rejected
and logged), proceed only with ``>= quorum`` of them (else the round is logged as
skipped and the model stays), sum with the public context, ask the key holders to
decrypt and attest (``query.attest``), and accept the new model only when ``t``
attestations from distinct key holders agree. Every step leaves a transparency-log
entry. Timeouts bound every wait: a node that drops out mid-round costs at most
``round_timeout_s``, it never stalls the run.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from coordinator.federation.aggregate import CkksSummer, Submission, digest
from coordinator.federation.config import FederationConfig
from coordinator.federation.errors import RoundNotAttestedError, SubmissionRejectedError
from governance.attestation import (
    AttestationOutcome,
    InsufficientAttestationsError,
    collect_matching,
)
from governance.ckks import EncryptedVector
from governance.envelope import Envelope
from governance.errors import EnvelopeError, GovernanceError
from governance.nonces import NonceStore
from governance.signed_requests import open_request, summarize
from governance.translog import TransparencyLog
from kernel.wire import flower as wire
from kernel.wire import trust as trust_wire

logger = logging.getLogger(__name__)


@dataclass
class RoundOutcome:
    round: int
    status: str  # "accepted" | "skipped" | "not_attested"
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


class FederatedTraining:
    def __init__(
        self,
        grid: Grid,
        config: FederationConfig,
        *,
        summer: CkksSummer,
        key_holders: Callable[[], Mapping[str, bytes]],
        node_keys: Callable[[], Mapping[str, bytes]],
        log: TransparencyLog,
        run_name: str,
        initial_weights: np.ndarray,
        model_version: str,
        nonces: NonceStore | None = None,
    ) -> None:
        self.grid = grid
        self.config = config
        self.summer = summer
        self.key_holders = key_holders
        self.node_keys = node_keys
        self.nonces = nonces
        self.log = log
        self.run_name = run_name
        self.weights = np.asarray(initial_weights, dtype=np.float64).copy()
        self.model_version = model_version
        if self.weights.size + 1 != summer.length:
            raise ValueError(
                f"model has {self.weights.size} parameters; encrypted vectors must have "
                f"{self.weights.size + 1} slots, summer expects {summer.length}"
            )

    # --- nodes -------------------------------------------------------------------------

    def wait_for_nodes(self) -> list[int]:
        deadline = time.monotonic() + self.config.connect_timeout_s
        while True:
            nodes = sorted(self.grid.get_node_ids())
            if len(nodes) >= self.config.min_nodes or time.monotonic() > deadline:
                return nodes
            time.sleep(0.5)

    def _round_config(self, round_no: int) -> ConfigRecord:
        return ConfigRecord(
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

    # --- one round ---------------------------------------------------------------------

    def run_round(self, round_no: int) -> RoundOutcome:
        outcome = RoundOutcome(round=round_no, status="skipped")
        nodes = sorted(self.grid.get_node_ids())
        group = f"{self.run_name}:{round_no}"
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
                group_id=group,
            )
            for node in nodes
        ]
        self.log.append(
            "round",
            {
                "event": "round_started",
                "run": self.run_name,
                "round": round_no,
                "model_id": self.config.model_id,
                "global_model_sha256": digest(self.weights.tobytes()),
                "nodes_asked": len(nodes),
                "quorum": self.config.quorum,
            },
        )
        replies = list(self.grid.send_and_receive(messages, timeout=self.config.round_timeout_s))
        signers = self.node_keys()
        submissions: list[Submission] = []
        for reply in replies:
            src = reply.metadata.src_node_id
            if reply.has_error():
                outcome.rejected.append((f"flower:{src}", f"error reply: {reply.error.reason}"))
                continue
            content = reply.content
            if wire.REFUSAL in content.config_records:
                try:
                    frame = _released(content.config_records[wire.REFUSAL])
                    who, _ = self._open(
                        frame, round_no, wire.REFUSAL_METHOD, trust_wire.METADATA, (), signers
                    )
                except SubmissionRejectedError as exc:
                    outcome.rejected.append((f"flower:{src}", str(exc)))
                    continue
                outcome.refused.append((who, "node refused the round (budget or consent)"))
                continue
            if wire.UPDATE not in content.config_records:
                outcome.rejected.append((f"flower:{src}", "reply carries no update"))
                continue
            try:
                frame = _released(content.config_records[wire.UPDATE])
            except SubmissionRejectedError as exc:
                outcome.rejected.append((f"flower:{src}", str(exc)))
                continue
            claimed = str(frame.envelope.get("signer_id", f"flower:{src}"))
            if len(frame.ciphertexts) != 1:
                outcome.rejected.append((claimed, "update must carry exactly one ciphertext"))
                continue
            try:
                submission = self.summer.check(claimed, src, frame.ciphertexts[0])
                node, metadata = self._open(
                    frame,
                    round_no,
                    wire.UPDATE_METHOD,
                    trust_wire.CIPHERTEXT_UPDATE,
                    (submission.vector,),
                    signers,
                )
            except SubmissionRejectedError as exc:
                outcome.rejected.append((claimed, str(exc)))
                continue
            if any(s.node == node for s in submissions):
                outcome.rejected.append((node, "second submission in one round"))
                continue
            submissions.append(submission)
            report = training_report(metadata)
            outcome.reports[node] = report
            self.log.append(
                "submission_digest",
                {
                    "run": self.run_name,
                    "round": round_no,
                    "node_id": node,
                    "ciphertext_sha256": submission.digest,
                    "key_id": submission.vector.key_id,
                    "length": submission.vector.length,
                    **report,
                },
            )
        for node, reason in outcome.rejected:
            self.log.append(
                "refusal",
                {
                    "event": "submission_rejected",
                    "run": self.run_name,
                    "round": round_no,
                    "node_id": node,
                    "reason": reason,
                },
            )
        for node, reason in outcome.refused:
            self.log.append(
                "refusal",
                {
                    "event": "node_refused_round",
                    "run": self.run_name,
                    "round": round_no,
                    "node_id": node,
                    "reason": reason,
                },
            )
        outcome.contributors = [s.node for s in submissions]
        if len(submissions) < self.config.quorum:
            entry = self.log.append(
                "round",
                {
                    "event": "round_skipped",
                    "run": self.run_name,
                    "round": round_no,
                    "valid_updates": len(submissions),
                    "quorum": self.config.quorum,
                    "nodes_asked": len(nodes),
                },
            )
            outcome.log_index = entry.index
            logger.warning(
                "round %d skipped: %d < quorum %d", round_no, len(submissions), self.config.quorum
            )
            return outcome

        total = self.summer.sum(submissions)
        total_bytes = total.to_bytes()
        outcome.aggregate_digest = digest(total_bytes)
        try:
            attested = self._attest(round_no, group, nodes, total_bytes)
        except RoundNotAttestedError as exc:
            outcome.status = "not_attested"
            entry = self.log.append(
                "round",
                {
                    "event": "round_not_attested",
                    "run": self.run_name,
                    "round": round_no,
                    "aggregate_sha256": outcome.aggregate_digest,
                    "reason": str(exc),
                },
            )
            outcome.log_index = entry.index
            return outcome
        values = np.asarray(attested.floats(), dtype=np.float64)
        weight = float(values[-1])
        if not weight > 0:
            outcome.status = "not_attested"
            entry = self.log.append(
                "round",
                {
                    "event": "round_not_attested",
                    "run": self.run_name,
                    "round": round_no,
                    "aggregate_sha256": outcome.aggregate_digest,
                    "reason": f"attested total weight {weight} is not positive",
                },
            )
            outcome.log_index = entry.index
            return outcome
        self.weights = self.weights + values[:-1] / weight
        outcome.total_weight = weight
        outcome.status = "accepted"
        outcome.attestations = [a.envelope.to_json() for a in attested.agreeing]
        entry = self.log.append(
            "round",
            {
                "event": "round_accepted",
                "run": self.run_name,
                "round": round_no,
                "contributors": sorted(outcome.contributors),
                "aggregate_sha256": outcome.aggregate_digest,
                "attested_by": sorted(attested.signer_ids()),
                "total_weight": weight,
                "global_model_sha256": digest(self.weights.tobytes()),
            },
        )
        outcome.log_index = entry.index
        return outcome

    def _attest(
        self, round_no: int, group: str, nodes: Sequence[int], total_bytes: bytes
    ) -> AttestationOutcome:
        subject = f"model-update:{self.run_name}:{round_no}"
        cfg = ConfigRecord(
            {
                wire.CIPHERTEXT: total_bytes,
                wire.SUBJECT: subject,
                wire.RUN: self.run_name,
                wire.ROUND: round_no,
                wire.KEY_ID: self.summer.key.key_id,
                wire.DIGEST: "sha256:" + digest(total_bytes),
            }
        )
        messages = [
            Message(
                RecordDict({wire.SUM: cfg}),
                dst_node_id=node,
                message_type=wire.ATTEST,
                group_id=group,
            )
            for node in nodes
        ]
        replies = self.grid.send_and_receive(messages, timeout=self.config.attest_timeout_s)
        envelopes: list[bytes] = []
        for reply in replies:
            if reply.has_error() or wire.ATTESTATION not in reply.content.config_records:
                continue
            try:
                frame = _released(reply.content.config_records[wire.ATTESTATION])
            except SubmissionRejectedError:
                continue
            envelopes.extend(json.dumps(a).encode() for a in frame.attestations)
        holders = self.key_holders()
        parsed = []
        for env in envelopes:
            try:
                parsed.append(Envelope.from_bytes(env))
            except (EnvelopeError, ValueError) as exc:
                self.log.append(
                    "attestation_rejected",
                    {"run": self.run_name, "round": round_no, "reason": f"unreadable: {exc}"},
                )
        try:
            outcome = collect_matching(
                parsed,
                holders,
                t=self.config.t,
                subject_id=subject,
                round_id=round_no,
                key_id=self.summer.key.key_id,
                digest="sha256:" + digest(total_bytes),
                log=self.log,
            )
        except InsufficientAttestationsError as exc:
            raise RoundNotAttestedError(str(exc)) from exc
        return outcome

    def _open(
        self,
        frame: wire.ReleasedFrame,
        round_no: int,
        method: str,
        kind: str,
        vectors: Sequence[EncryptedVector],
        signers: Mapping[str, bytes],
    ) -> tuple[str, dict[str, Any]]:
        """Verify a reply's request envelope against the enrolled identity keys.

        The envelope must be signed by an active enrolled node, for ``method`` and this
        round, over exactly the ciphertexts received, with metadata naming the signer
        itself and this run's key; its nonce is single-use. Returns the node id and the
        signed metadata.
        """
        try:
            envelope = Envelope.from_json(dict(frame.envelope))
        except (EnvelopeError, ValueError) as exc:
            raise SubmissionRejectedError(f"unreadable envelope: {exc}") from exc
        who = envelope.signer_id
        if who not in signers:
            raise SubmissionRejectedError(f"signer {who!r} is not an active enrolled node")
        payload = envelope.payload if isinstance(envelope.payload, dict) else {}
        metadata = payload.get("metadata")
        if not isinstance(metadata, dict):
            raise SubmissionRejectedError(f"envelope of {who!r} carries no metadata")
        if metadata.get("node_id") != who:
            raise SubmissionRejectedError(
                f"envelope of {who!r} names node {metadata.get('node_id')!r}"
            )
        if vectors and metadata.get("key_id") != self.summer.key.key_id:
            raise SubmissionRejectedError(f"envelope of {who!r} names another key")
        summary = summarize(
            method=method,
            outbound_kind=kind,
            round_id=round_no,
            ciphertexts=vectors,
            metadata=metadata,
        )
        try:
            open_request(
                envelope,
                summary,
                signers,
                nonce_store=self.nonces,
                expected_signer_id=who,
                current_round=round_no,
            )
        except GovernanceError as exc:
            raise SubmissionRejectedError(f"envelope of {who!r} refused: {exc}") from exc
        return who, dict(metadata)

    def run(self) -> TrainingResult:
        self.wait_for_nodes()
        rounds = [self.run_round(r) for r in range(1, self.config.rounds + 1)]
        return TrainingResult(self.weights, rounds)


def training_report(metadata: Mapping[str, Any]) -> dict[str, float]:
    """The node's signed training report (``wire.REPORT_FIELDS``) as numbers.

    Fields the node's policy kept home, or values that are not finite non-negative
    decimals, are left out: the card then states them as not reported.
    """
    report: dict[str, float] = {}
    for name in wire.REPORT_FIELDS:
        raw = metadata.get(name)
        if not isinstance(raw, str):
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            report[name] = value
    return report


def _released(record: ConfigRecord) -> wire.ReleasedFrame:
    """A node's egress-released frame (``kernel.wire.flower``); a bad one is a rejection."""
    try:
        return wire.frame_from_bytes(record.get(wire.EGRESS))
    except wire.FrameError as exc:
        raise SubmissionRejectedError(str(exc)) from exc


def _array(values: np.ndarray) -> object:
    from flwr.app import Array

    return Array(np.ascontiguousarray(values, dtype=np.float64))
