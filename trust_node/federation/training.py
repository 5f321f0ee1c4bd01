"""One local round: consented records, a ledger charge, DP training, a clipped update.

Privacy is a wrapper around training: the DP-SGD mechanism of the round (noise
multiplier, Poisson sample rate, steps) is charged to the node's privacy ledger
*before* ``open_models`` trains; over budget the ledger records the refusal and the
round is answered with a refusal, nothing is trained. The model delta is then clipped to
the coordinator's ``clip_norm`` (bounds what any node can move the model) and weighted
by a public constant (:data:`UPDATE_WEIGHT`, never the record count: an exact count would
leave the node un-noised and let two rounds that differ by one contributor reveal it);
the weight rides in the last slot of the vector the mod encrypts, so the coordinator's
averaging denominator is the number of contributors, which it knows anyway.
The round is charged to the node's one privacy-unit account (``trust_node.privacy``),
after the trust caps are checked and before any record is read; under the facility unit
the round trains on one record per facility.
Training runs inside codecarbon's offline tracker (``open_models.footprint``): the energy
and CO2 of the round's training go back with the update (see ``wire.REPORT_FIELDS``) so
the model card can publish what training cost on every node.
The plaintext update is kept node-locally under ``GCDT_HOME/federation/<run>/`` (what
this node contributed, for its own audit); it never leaves. The run name comes from the
coordinator: it must be a :func:`kernel.paths.identifier` (checked before the ledger is
charged), so the file never lands outside ``GCDT_HOME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from governance.privacy import BudgetExceededError
from kernel import paths
from open_models.dp import DpSpec
from open_models.errors import OpenModelsError
from open_models.features import FeatureSpec
from open_models.footprint import Footprint, measure_footprint
from open_models.network import unflatten, weight_layout
from open_models.training import TrainConfig, train_local
from trust_node.context import NodeContext
from trust_node.privacy import (
    TRAINING_SHARE,
    TrustCapError,
    check_trust_caps,
    one_record_per_facility,
    unit_account,
)
from trust_node.tenants import consented_records

#: The averaging weight every update carries: a public constant, so the decrypted sum's
#: last slot is the number of contributors and depends on no record (issue 14).
UPDATE_WEIGHT = 1.0


@dataclass(frozen=True)
class LocalUpdate:
    vector: np.ndarray  # [UPDATE_WEIGHT * clipped_delta..., UPDATE_WEIGHT]
    num_examples: int  # node-local only: never leaves the node
    epsilon_after: float  # cumulative epsilon of the node's training account
    epsilon_budget: float
    delta: float
    footprint: Footprint | None = None  # codecarbon measurement of this round's training


@dataclass(frozen=True)
class LocalRefusal:
    reason: str


def local_round(
    runtime: NodeContext,
    global_flat: np.ndarray,
    *,
    run: str,
    round_no: int,
    clip_norm: float,
    rounds_remaining: int = 1,
) -> LocalUpdate | LocalRefusal:
    """Train on consented records under DP (``train_local`` charges the ledger first)."""
    rounds = paths.within(runtime.rounds_dir, run)  # refused before anything is charged
    policy = runtime.node_policy
    try:
        check_trust_caps(policy, runtime.state.trust_policy)
    except TrustCapError as exc:
        return LocalRefusal(f"privacy budget: {exc}")
    frame = consented_records(
        runtime.repository, "training", policy=policy, as_of=datetime.now(UTC)
    )
    if frame.empty:
        return LocalRefusal("no records with training consent")
    if policy.privacy_budget.unit == "facility":
        frame = one_record_per_facility(frame)
    account = unit_account(runtime.ledger, runtime.node_id, policy)
    spec = FeatureSpec()
    layout = weight_layout(spec)
    privacy = DpSpec(
        account,
        rounds_remaining=max(1, rounds_remaining),
        plan_epsilon=account.epsilon_budget * TRAINING_SHARE,
    )
    try:
        with measure_footprint(policy.jurisdiction) as footprint:
            result = train_local(
                unflatten(np.asarray(global_flat, dtype=np.float64), layout),
                frame,
                TrainConfig(update_clip_norm=clip_norm, feature_spec=spec),
                privacy,
            )
    except BudgetExceededError as exc:
        return LocalRefusal(f"privacy budget: {exc}")
    except OpenModelsError as exc:
        return LocalRefusal(f"training refused: {exc}")
    n = int(result.num_examples)
    if n == 0:
        return LocalRefusal("no labelled records")
    vector = np.concatenate([result.update * UPDATE_WEIGHT, [UPDATE_WEIGHT]])
    _keep_local_copy(rounds, round_no, result.update, n)
    return LocalUpdate(
        vector, n, result.epsilon_spent, account.epsilon_budget, account.delta, footprint
    )


def report_fields(update: LocalUpdate) -> dict[str, str]:
    """The training report as decimal strings (``wire.REPORT_FIELDS``); unmeasured
    footprints are left out, so the coordinator records them as not measured."""
    report = {
        "epsilon_spent": repr(float(update.epsilon_after)),
        "epsilon_budget": repr(update.epsilon_budget),
        "dp_delta": repr(update.delta),
    }
    fp = update.footprint
    if fp is not None and fp.energy_kwh is not None and fp.co2_kg is not None:
        report["energy_kwh"] = repr(float(fp.energy_kwh))
        report["co2_kg"] = repr(float(fp.co2_kg))
    return report


def _keep_local_copy(directory: Path, round_no: int, delta: np.ndarray, n: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(paths.within(directory, f"round-{round_no}.npz"), delta=delta, num_examples=n)
