"""One local round: consented records, a ledger charge, DP training, a clipped update.

Privacy is a wrapper around training: the DP-SGD mechanism of the round (noise
multiplier, Poisson sample rate, steps) is charged to the node's privacy ledger
*before* ``open_models`` trains; over budget the ledger records the refusal and the
round is answered with a refusal, nothing is trained. The model delta is then clipped to
the coordinator's ``clip_norm`` (bounds what any node can move the model) and weighted
by the record count; the weight rides in the last slot of the vector the mod encrypts.
The plaintext update is kept node-locally under ``GCDT_HOME/federation/`` (what this
node contributed, for its own audit); it never leaves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from governance.privacy import BudgetExceededError, DpSgd
from trust_node.federation.runtime import NodeRuntime
from trust_node.tenants import consented_records

TRAINING_DATASET = "training"
#: Noise multiplier per round. Abadi et al. (CCS 2016, §5) train useful models with
#: sigma around 1; with q = 0.25 and 8 steps a round costs ~eps 0.9 at delta 1e-5.
NOISE_MULTIPLIER = 1.1
#: Per-sample gradient clipping bound of DP-SGD (Opacus ``max_grad_norm``).
MAX_GRAD_NORM = 1.0
BATCH_SIZE = 32
EPOCHS = 2


@dataclass(frozen=True)
class LocalUpdate:
    vector: np.ndarray  # [num_examples * clipped_delta..., num_examples]
    num_examples: int
    epsilon_after: float


@dataclass(frozen=True)
class LocalRefusal:
    reason: str


def clip(delta: np.ndarray, bound: float) -> np.ndarray:
    norm = float(np.linalg.norm(delta))
    return delta if norm <= bound else delta * (bound / norm)


def local_round(
    runtime: NodeRuntime,
    global_flat: np.ndarray,
    *,
    run: str,
    round_no: int,
    clip_norm: float,
) -> LocalUpdate | LocalRefusal:
    from open_models.training import train_local  # B's DP training wrapper

    policy = runtime.policy
    frame = consented_records(runtime.repository, "training", policy=policy,
                              as_of=datetime.now(UTC))
    n = len(frame)
    if n == 0:
        return LocalRefusal("no records with training consent")
    sample_rate = min(1.0, BATCH_SIZE / n)
    steps = EPOCHS * max(1, math.ceil(n / BATCH_SIZE))
    budget = policy.privacy_budget.for_dataset(TRAINING_DATASET)
    try:
        receipt = runtime.ledger.charge(
            runtime.node_id,
            TRAINING_DATASET,
            policy.privacy_budget.accounting_period,
            DpSgd(NOISE_MULTIPLIER, sample_rate, steps),
            (budget.epsilon, budget.delta),
            f"federated round {run}:{round_no}",
        )
    except BudgetExceededError as exc:
        return LocalRefusal(f"privacy budget: {exc}")
    result = train_local(
        global_flat,
        frame,
        noise_multiplier=NOISE_MULTIPLIER,
        max_grad_norm=MAX_GRAD_NORM,
        sample_rate=sample_rate,
        steps=steps,
        seed=round_no,
    )
    new_flat = np.asarray(result, dtype=np.float64)
    delta = clip(new_flat - np.asarray(global_flat, dtype=np.float64), clip_norm)
    vector = np.concatenate([delta * n, [float(n)]])
    _keep_local_copy(runtime.rounds_dir / run, round_no, delta, n)
    return LocalUpdate(vector, n, receipt.epsilon_after)


def _keep_local_copy(directory: Path, round_no: int, delta: np.ndarray, n: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / f"round-{round_no}.npz", delta=delta, num_examples=n)
