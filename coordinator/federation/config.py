"""The coordinator's federation settings, read from the Flower run config.

In a deployment run the values come from ``[tool.flwr.app.config]`` of the app directory
``gcdt-coordinator train`` generates (never committed); in tests the same dataclass is
built directly. Keys use Flower's dashed style.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coordinator.aggregation import MIN_CONTRIBUTORS
from coordinator.federation.errors import FederationConfigError
from governance.attestation import MIN_T

#: A deployment round measured ~12 s on this machine (3 s polling); 120 s
#: leaves ample room for DP training on a node before it counts as dropped.
DEFAULT_ROUND_TIMEOUT_S = 120.0
DEFAULT_ATTEST_TIMEOUT_S = 60.0
FAMILIES = ("network", "linear")


@dataclass(frozen=True)
class FederationConfig:
    coordinator_home: Path
    rounds: int = 3
    #: valid encrypted updates from distinct nodes a round needs, else it is skipped and its
    #: sum never sent for decryption (the ServerApp raises it to the trust policy's ``m``,
    #: :meth:`within_policy`)
    quorum: int = MIN_CONTRIBUTORS
    min_nodes: int = 2  # nodes that must be connected before round 1 starts
    #: matching attestations from distinct key holders (raised to the trust policy's ``t``)
    t: int = MIN_T
    clip_norm: float = 1.0  # L2 bound on a node's (unweighted) model delta
    round_timeout_s: float = DEFAULT_ROUND_TIMEOUT_S
    attest_timeout_s: float = DEFAULT_ATTEST_TIMEOUT_S
    connect_timeout_s: float = 60.0
    model_id: str = "gcdt-emission-factor"
    seed: int = 0
    #: a published synthetic evaluation set (``gcdt-node evaluation-set``), evaluated and
    #: published with the model; none: the card says the model was not evaluated
    evaluation_set: Path | None = None
    #: which open-model family the run trains: the DP-SGD ``network`` (FedAvg rounds) or
    #: the sufficient-statistics ``linear`` family (two releases, ``open_models.linear``)
    family: str = "network"

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise FederationConfigError(
                f"model-family must be one of {FAMILIES}, got {self.family!r}"
            )
        for name in ("rounds", "min_nodes"):
            if getattr(self, name) < 1:
                raise FederationConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.t < MIN_T:
            raise FederationConfigError(
                f"t must be >= {MIN_T}: one key holder alone never publishes, got {self.t}"
            )
        if self.quorum < MIN_CONTRIBUTORS:
            raise FederationConfigError(
                f"quorum must be >= {MIN_CONTRIBUTORS}: a sum of one node's update is that "
                f"node's update, got {self.quorum}"
            )
        if self.clip_norm <= 0:
            raise FederationConfigError(f"clip-norm must be > 0, got {self.clip_norm}")

    @classmethod
    def from_run_config(cls, run_config: dict[str, Any]) -> FederationConfig:
        def get(key: str, kind: type, default: Any = None) -> Any:
            if key not in run_config:
                if default is None:
                    raise FederationConfigError(f"run config lacks {key!r}")
                return default
            try:
                return kind(run_config[key])
            except (TypeError, ValueError) as exc:
                raise FederationConfigError(
                    f"run config {key!r} = {run_config[key]!r} is not a {kind.__name__}"
                ) from exc

        base = cls(coordinator_home=Path("."))
        return cls(
            coordinator_home=Path(get("coordinator-home", str)),
            rounds=get("rounds", int, base.rounds),
            quorum=get("quorum", int, base.quorum),
            min_nodes=get("min-nodes", int, base.min_nodes),
            t=get("t", int, base.t),
            clip_norm=get("clip-norm", float, base.clip_norm),
            round_timeout_s=get("round-timeout", float, base.round_timeout_s),
            attest_timeout_s=get("attest-timeout", float, base.attest_timeout_s),
            connect_timeout_s=get("connect-timeout", float, base.connect_timeout_s),
            model_id=get("model-id", str, base.model_id),
            seed=get("seed", int, base.seed),
            family=get("model-family", str, base.family),
            evaluation_set=Path(run_config["evaluation-set"])
            if run_config.get("evaluation-set")
            else None,
        )

    def within_policy(self, m: int, t: int) -> FederationConfig:
        """This configuration raised to the trust policy's ``m`` contributors and ``t``."""
        return replace(self, quorum=max(self.quorum, m), t=max(self.t, t))

    def to_run_config(self) -> dict[str, Any]:
        return {
            "coordinator-home": str(self.coordinator_home),
            "rounds": self.rounds,
            "quorum": self.quorum,
            "min-nodes": self.min_nodes,
            "t": self.t,
            "clip-norm": self.clip_norm,
            "round-timeout": self.round_timeout_s,
            "attest-timeout": self.attest_timeout_s,
            "connect-timeout": self.connect_timeout_s,
            "model-id": self.model_id,
            "seed": self.seed,
            "model-family": self.family,
            **({"evaluation-set": str(self.evaluation_set)} if self.evaluation_set else {}),
        }
