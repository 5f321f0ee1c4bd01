"""The trust policy's privacy cap as the transparency log states it, for the auditors' tools.

Why from the log: ``gcdt-audit verify-model`` and ``verify-benchmark`` run offline on a log
bundle; the coordinator logs each trust policy it puts in force (``policy_change``, with
its privacy cap since issue 14), so the cap that bound a publication is the one of the last
such entry before it. A bundle whose policy entries carry no cap (older logs) yields
``None`` and the tools say the cap could not be checked rather than invent one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedCap:
    """(epsilon, delta) per privacy unit, and the unit, of a logged trust policy."""

    unit: str
    epsilon: float
    delta: float

    def problems(self, epsilon: object, delta: object, what: str) -> list[str]:
        """Where a stated (epsilon, delta) is above this cap ("what: reason")."""
        out = []
        for name, value, limit in (
            ("epsilon", epsilon, self.epsilon),
            ("delta", delta, self.delta),
        ):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and float(value) > limit * (1 + 1e-9):  # type: ignore[arg-type]
                out.append(f"{what} {name} {value:g} exceeds the trust's cap {limit:g}")
        return out


def privacy_cap_in_force(entries: Sequence[Mapping[str, Any]], before: int) -> LoggedCap | None:
    """The cap of the last trust ``policy_change`` logged before entry ``before``."""
    found: LoggedCap | None = None
    for raw in entries[:before]:
        payload = raw.get("payload")
        if raw.get("kind") != "policy_change" or not isinstance(payload, dict):
            continue
        if payload.get("policy") != "trust":
            continue
        cap = payload.get("privacy_budget")
        if not isinstance(cap, dict):
            found = None
            continue
        try:
            found = LoggedCap(str(cap["unit"]), float(cap["epsilon"]), float(cap["delta"]))
        except (KeyError, TypeError, ValueError):
            found = None
    return found
