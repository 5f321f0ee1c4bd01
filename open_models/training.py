"""Local training of the open models: the plain loop, and the round a node runs.

``train_epochs`` is the plain loop (no privacy in it). ``train_local`` is what a node
calls each federated round: start from the global weights, train on its labelled records
(those with a verified figure; never the hidden truth) under DP via
:func:`open_models.dp.with_dp`, and return the update (local minus global) as one float64
vector, L2-clipped to ``TrainConfig.update_clip_norm`` before it leaves.

Why the update is clipped as well as the gradients: per-sample gradient clipping bounds one
record's influence (the DP guarantee); the update clip bounds one *node's* influence on the
aggregate, so a broken or malicious node cannot swamp a round, and it bounds the values
CKKS must hold (the coordinator can check the decrypted sum against
``nodes x update_clip_norm``). The bound is a plain L2 norm over the whole vector; the
default 5.0 sits above the norm of honest rounds at the default learning rate (measured in
``bench/training.py``) so it rarely bites.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from open_models.dp import DpRound, DpSpec, with_dp
from open_models.errors import TrainingError
from open_models.features import FeatureSpec, intensity
from open_models.inference import model_inputs
from open_models.network import (
    Layout,
    build_network,
    flatten,
    get_weights,
    initial_weights,
    set_weights,
    unflatten,
    weight_layout,
)

DEFAULT_UPDATE_CLIP: Final = 5.0


@dataclass(frozen=True)
class TrainConfig:
    # Defaults measured best of the few tried in bench/training.py (5 nodes, epsilon 5).
    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 0.005
    bias_loss_weight: float = 1.0
    update_clip_norm: float = DEFAULT_UPDATE_CLIP
    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    seed: int | None = None  # non-DP shuffling only; None = OS randomness

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrainingError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("learning_rate", "update_clip_norm"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise TrainingError(f"{name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class LocalResult:
    """One node's round: the clipped update and what it cost."""

    update: np.ndarray  # float64, layout order: local weights - global weights, clipped
    num_examples: int  # labelled records trained on
    epsilon_spent: float  # cumulative epsilon of the node's account after this round
    metrics: dict[str, float]
    dp: DpRound | None  # None only for non-DP training (centralised ceiling, tests)
    update_norm: float  # L2 norm before clipping
    clipped: bool

    def weights(
        self, global_weights: Mapping[str, np.ndarray], layout: Layout
    ) -> dict[str, np.ndarray]:
        return unflatten(flatten(global_weights, layout) + self.update, layout)


def labelled(records: pd.DataFrame) -> pd.DataFrame:
    """Records that carry a verified figure: the only ones a node can learn intensity from."""
    verified = intensity(records, "verified_direct_tco2e")
    return records.loc[~np.isnan(verified)]


def training_tensors(records: pd.DataFrame, spec: FeatureSpec) -> TensorDataset:
    """Inputs, target, bias-correction target and its mask, for labelled records only.

    Only a verified figure is a label; the declared figure is an input and, where present,
    the reference the correction head learns to fix.
    """
    rows = labelled(records)
    if rows.empty:
        raise TrainingError("no record carries verified_direct_tco2e: nothing to train on")
    verified = intensity(rows, "verified_direct_tco2e")
    reported = intensity(rows, "reported_direct_tco2e")
    target = np.log1p(np.maximum(verified, 0.0))
    has_reported = ~np.isnan(reported)
    correction = np.where(has_reported, target - np.log1p(np.maximum(reported, 0.0)), 0.0)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float32))

    return TensorDataset(
        t(model_inputs(rows, spec)), t(target), t(correction), t(has_reported.astype(float))
    )


def loss_terms(
    out: torch.Tensor,
    target: torch.Tensor,
    correction: torch.Tensor,
    mask: torch.Tensor,
    bias_weight: float,
) -> torch.Tensor:
    """Per-record loss: Gaussian NLL of log1p intensity + masked squared correction error."""
    mean, logvar, predicted = out[:, 0], out[:, 1], out[:, 2]
    nll = 0.5 * (logvar + (target - mean) ** 2 * torch.exp(-logvar))
    return nll + bias_weight * mask * (predicted - correction) ** 2


def train_epochs(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader[tuple[torch.Tensor, ...]],
    epochs: int,
    bias_weight: float = 1.0,
) -> dict[str, float]:
    """The plain loop; privacy, if any, was put into module/optimizer/loader by a wrapper."""
    module.train()
    total, count, steps = 0.0, 0, 0
    for _ in range(epochs):
        for x, target, correction, mask in loader:
            optimizer.zero_grad()
            if len(x) == 0:  # Poisson sampling can draw an empty batch: nothing to learn
                continue
            per_record = loss_terms(module(x), target, correction, mask, bias_weight)
            loss = per_record.mean()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(per_record.detach().sum())
            count += len(x)
            steps += 1
    return {"train_loss": total / max(count, 1), "steps_taken": float(steps)}


def _clip(update: np.ndarray, bound: float) -> tuple[np.ndarray, float, bool]:
    norm = float(np.linalg.norm(update))
    if norm > bound:
        return update * (bound / norm), norm, True
    return update, norm, False


def _seeded(seed: int | None) -> torch.Generator:
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
    return torch.Generator().manual_seed(seed)


def train_local(
    global_weights: Mapping[str, np.ndarray] | None,
    records: pd.DataFrame,
    config: TrainConfig,
    privacy: DpSpec | None,
) -> LocalResult:
    """One node's round. ``privacy=None`` trains without DP (never in a federation).

    Raises ``governance.privacy.BudgetExceededError`` before training when the round
    would take the node's account past its budget (the refusal is in the ledger).
    """
    spec = config.feature_spec
    layout = weight_layout(spec)
    start_weights = dict(global_weights) if global_weights is not None else initial_weights(spec)
    data = training_tensors(records, spec)
    net = build_network(spec)
    set_weights(net, start_weights, layout)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    batch = min(config.batch_size, len(data))
    loader: DataLoader[tuple[torch.Tensor, ...]] = DataLoader(
        data, batch_size=batch, shuffle=True, generator=_seeded(config.seed)
    )

    def plain(
        module: nn.Module,
        opt: torch.optim.Optimizer,
        dl: DataLoader[tuple[torch.Tensor, ...]],
        epochs: int,
    ) -> dict[str, float]:
        return train_epochs(module, opt, dl, epochs, config.bias_loss_weight)

    started = time.perf_counter()
    dp_round: DpRound | None = None
    if privacy is None:
        metrics = plain(net, optimizer, loader, config.epochs)
        epsilon = 0.0
    else:
        metrics, dp_round = with_dp(privacy, plain)(net, optimizer, loader, config.epochs)
        epsilon = dp_round.epsilon_after
    metrics = {
        **metrics,
        "train_seconds": time.perf_counter() - started,
        "labelled_records": float(len(data)),
        "bias_records": float(data.tensors[3].sum()),
    }
    local = flatten(get_weights(net), layout)
    update, norm, clipped = _clip(local - flatten(start_weights, layout), config.update_clip_norm)
    return LocalResult(update, len(data), epsilon, metrics, dp_round, norm, clipped)


def fedavg(
    global_weights: Mapping[str, np.ndarray],
    results: Sequence[LocalResult],
    layout: Layout,
    *,
    weighted: bool = True,
) -> dict[str, np.ndarray]:
    """Plaintext FedAvg of clipped updates (the reference an encrypted round must equal)."""
    if not results:
        raise TrainingError("FedAvg of no updates")
    w = np.array([r.num_examples if weighted else 1 for r in results], dtype=float)
    summed = np.sum([wi * r.update for wi, r in zip(w, results, strict=True)], axis=0)
    return unflatten(flatten(global_weights, layout) + summed / w.sum(), layout)


def train_centralised(records: pd.DataFrame, config: TrainConfig) -> dict[str, np.ndarray]:
    """Non-DP training on pooled records: the ceiling a federation is compared with."""
    spec = config.feature_spec
    clip_off = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        bias_loss_weight=config.bias_loss_weight,
        update_clip_norm=1e12,
        feature_spec=spec,
        seed=config.seed,
    )
    result = train_local(None, records, clip_off, None)
    return result.weights(initial_weights(spec), weight_layout(spec))


__all__ = [
    "DEFAULT_UPDATE_CLIP",
    "LocalResult",
    "TrainConfig",
    "fedavg",
    "labelled",
    "loss_terms",
    "train_centralised",
    "train_epochs",
    "train_local",
    "training_tensors",
]
