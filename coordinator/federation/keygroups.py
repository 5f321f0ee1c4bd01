"""Key-group custody for a training run: which groups, their public keys, the fixed point.

The coordinator keeps, in its home, the key groups a run shares updates under (names and
holders, as the trust policy names them), each group's public BFV key as its ceremony
released it (verified again at every load against the ceremony identity key recorded
beside it) and the fixed-point bits of the shares. :func:`load_training_groups` returns
``None`` when nothing is installed: the run then uses single-key CKKS custody.

Where the groups come from is the member-signed trust policy's (``key_groups``, the policy
slice); until that field lands the operator installs them here
(:func:`install_training_groups`), and how group ceremonies reach the coordinator over the
trust protocol is not built yet.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coordinator.aggregation.keygroups import GroupAggregation
from coordinator.aggregation.pipeline import AggregationPipeline
from coordinator.federation.errors import FederationConfigError
from governance.ckks import CkksError
from governance.keygroups import (
    DEFAULT_FRACTIONAL_BITS,
    BfvKey,
    GroupPublicKey,
    KeyGroup,
    check_groups,
    open_group_public_key,
)

GROUPS_FILE = Path("keygroups") / "training.json"


@dataclass(frozen=True)
class TrainingGroups:
    """A run's key groups (sorted by name), their public keys in that order, the fixed point."""

    groups: tuple[KeyGroup, ...]
    public_keys: tuple[BfvKey, ...]
    fractional_bits: int

    def aggregation(self, pipeline: AggregationPipeline) -> GroupAggregation:
        return GroupAggregation(pipeline, self.public_keys)


def install_training_groups(
    home: Path,
    groups: Sequence[KeyGroup],
    releases: Sequence[GroupPublicKey],
    ceremony_key: bytes,
    *,
    fractional_bits: int = DEFAULT_FRACTIONAL_BITS,
) -> TrainingGroups:
    """Check and keep the run's groups and their signed public keys (one per group)."""
    body = {
        "groups": [{"group": g.group, "holders": list(g.holders)} for g in groups],
        "ceremony_identity_key": ceremony_key.hex(),
        "public_keys": [base64.b64encode(r.to_bytes()).decode("ascii") for r in releases],
        "fractional_bits": fractional_bits,
    }
    loaded = _parse(body)
    path = home / GROUPS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return loaded


def load_training_groups(home: Path) -> TrainingGroups | None:
    """The installed groups, re-verified; ``None`` when none are (single-key custody)."""
    path = home / GROUPS_FILE
    if not path.exists():
        return None
    return _parse(json.loads(path.read_text()))


def _parse(body: dict[str, Any]) -> TrainingGroups:
    try:
        groups = check_groups(
            [KeyGroup(str(g["group"]), tuple(g["holders"])) for g in body["groups"]]
        )
        ceremony_key = bytes.fromhex(str(body["ceremony_identity_key"]))
        keys = {
            k.group: k
            for k in (
                open_group_public_key(
                    GroupPublicKey.from_bytes(base64.b64decode(raw)),
                    ceremony_public_key=ceremony_key,
                )
                for raw in body["public_keys"]
            )
        }
        bits = int(body["fractional_bits"])
    except (CkksError, KeyError, TypeError, ValueError) as exc:
        raise FederationConfigError(f"key groups of the training run refused: {exc}") from exc
    missing = [g.group for g in groups if g.group not in keys]
    if missing or len(keys) != len(groups):
        raise FederationConfigError(
            f"one public key per key group is needed; groups {missing} have none, or a key "
            "belongs to no group"
        )
    return TrainingGroups(groups, tuple(keys[g.group] for g in groups), bits)
