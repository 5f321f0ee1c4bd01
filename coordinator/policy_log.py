"""Trust-policy changes go into the transparency log.

A policy decides when a number may be published (``k``, ``m``, ``t``) and what nodes may
send, so auditors must be able to see which policy was in force when: every version the
coordinator puts in force is logged with the digest of its exact signed bytes, its
publication thresholds and its privacy cap (unit, epsilon, delta per node), which
``gcdt-audit verify-model`` and ``verify-benchmark`` check publications against.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine

from governance.identity import Identity
from governance.policy.files import signature_path
from governance.policy.models import TrustPolicy
from governance.translog import LogEntry, TransparencyLog


def _cap(policy: TrustPolicy) -> dict[str, object]:
    """The per-node cap auditors check cards and benchmarks against (issue 14)."""
    unit, budget = policy.privacy_budget.unit_account()
    return {"unit": unit, "epsilon": budget.epsilon, "delta": budget.delta}


def log_policy(engine: Engine, identity: Identity, policy: TrustPolicy, path: Path) -> LogEntry:
    """Append a ``policy_change`` entry for the trust policy now in force at ``path``."""
    return TransparencyLog(engine, identity).append(
        "policy_change",
        {
            "policy": "trust",
            "version": policy.version,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "signature_sha256": hashlib.sha256(signature_path(path).read_bytes()).hexdigest(),
            "thresholds": policy.publication.model_dump(mode="json"),
            "privacy_budget": _cap(policy),
        },
    )
