"""Consent scopes per tenant, the consent change log, and ``consented_records``.

Invariant 7: records are used for training or statistics only under their tenant's
consent, and a withdrawal takes effect from the next round. Rounds read consent once, at
their start, through :func:`consented_records` (``as_of`` = the round's start; default
now): a change logged before round r+1 starts governs r+1 and every later round, never
a round already running. Every change is an entry in a SHA-256 hash chain
(:mod:`trust_node.tenants.chain`) that the operator exports and an auditor verifies.

Whose consent counts:
- a revoked tenant: none, from the round after its revocation on (the revocation also
  logs a withdrawal of every scope, ``TenantRegistry.revoke``);
- a hosted tenant: its latest logged consent at ``as_of``; before it has ever set one,
  the node policy's ``consent`` section (``tenants[name]`` or ``default``), which is
  empty by default: consent is opt-in;
- the operator tenant (``operator``, the node's own records): the node policy's
  ``consent.tenants["operator"]`` when the policy lists it, else
  :data:`OPERATOR_DEFAULT_SCOPES` (training and statistics): the operator runs the node
  for exactly these uses and states otherwise in its signed policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pandas as pd
from sqlalchemy import Engine, select

from governance.policy import NodePolicy
from governance.policy.models import CONSENT_SCOPES, ConsentScope
from trust_node.store import OPERATOR_TENANT, SqlRecordRepository
from trust_node.tenants import chain
from trust_node.tenants.errors import ConsentError
from trust_node.tenants.tables import consent_log, tenants

OPERATOR_DEFAULT_SCOPES: Final[tuple[ConsentScope, ...]] = ("training", "statistics")
HASHED_FIELDS: Final = ("tenant_id", "scopes", "changed_at", "actor")


@dataclass(frozen=True)
class ConsentEntry:
    seq: int
    tenant_id: str
    scopes: tuple[ConsentScope, ...]
    changed_at: datetime
    actor: str
    prev_hash: str
    entry_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tenant_id": self.tenant_id,
            "scopes": ",".join(self.scopes),
            "changed_at": chain.iso(self.changed_at),
            "actor": self.actor,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


def normalise_scopes(scopes: Iterable[str]) -> tuple[ConsentScope, ...]:
    """The scopes deduplicated in their canonical order, so equal choices hash equal."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(CONSENT_SCOPES))
    if unknown:
        raise ConsentError(
            f"unknown consent scope(s) {unknown}; expected some of {list(CONSENT_SCOPES)}"
        )
    return tuple(s for s in CONSENT_SCOPES if s in wanted)


def _entry(row: Any) -> ConsentEntry:
    return ConsentEntry(
        seq=int(row.seq),
        tenant_id=row.tenant_id,
        scopes=normalise_scopes(s for s in row.scopes.split(",") if s),
        changed_at=chain.utc(row.changed_at),
        actor=row.actor,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


class ConsentLog:
    """Consent changes, append-only and hash-chained; the current consent is the latest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set(
        self, tenant_id: str, scopes: Iterable[str], *, actor: str, at: datetime | None = None
    ) -> ConsentEntry:
        clean = normalise_scopes(scopes)
        when = chain.utc(at or datetime.now(UTC))
        text = ",".join(clean)
        # ``seq`` is not known before insert and need not be hashed: each entry hashes
        # the head it extends, which fixes the order.
        fields = {"tenant_id": tenant_id, "scopes": text, "changed_at": when, "actor": actor}
        hashed = {
            "tenant_id": tenant_id,
            "scopes": text,
            "changed_at": chain.iso(when),
            "actor": actor,
        }
        row = chain.append(self.engine, consent_log, fields, hashed)
        return ConsentEntry(
            seq=row["seq"],
            tenant_id=tenant_id,
            scopes=clean,
            changed_at=when,
            actor=actor,
            prev_hash=row["prev_hash"],
            entry_hash=row["entry_hash"],
        )

    def current(self, tenant_id: str, *, as_of: datetime | None = None) -> ConsentEntry | None:
        query = select(consent_log).where(consent_log.c.tenant_id == tenant_id)
        if as_of is not None:
            query = query.where(consent_log.c.changed_at <= chain.utc(as_of))
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(consent_log.c.seq.desc()).limit(1)).first()
        return None if row is None else _entry(row)

    def history(self, tenant_id: str | None = None) -> list[ConsentEntry]:
        query = select(consent_log).order_by(consent_log.c.seq)
        if tenant_id is not None:
            query = query.where(consent_log.c.tenant_id == tenant_id)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def scopes_at(
        self, tenant_id: str, *, policy: NodePolicy | None = None, as_of: datetime | None = None
    ) -> tuple[ConsentScope, ...]:
        """The scopes that govern ``tenant_id`` at ``as_of`` (see the module docstring)."""
        if tenant_id == OPERATOR_TENANT:
            if policy is not None and OPERATOR_TENANT in policy.consent.tenants:
                return tuple(policy.consent.tenants[OPERATOR_TENANT])
            return OPERATOR_DEFAULT_SCOPES
        entry = self.current(tenant_id, as_of=as_of)
        if entry is not None:
            return entry.scopes
        return normalise_scopes(policy.consent.scopes_for(tenant_id)) if policy else ()

    def export(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.history()]


def verify_consent_log(entries: Iterable[dict[str, Any]]) -> int:
    """Auditor's check of an exported consent log; returns the entry count."""
    return chain.verify(entries, HASHED_FIELDS, "consent log")


def _revoked_by(engine: Engine, as_of: datetime | None) -> set[str]:
    """Tenants revoked at or before ``as_of``: consent follows the tenant (issue 14), also for
    revocations made before a revocation logged its own withdrawal."""
    query = select(tenants.c.tenant_id).where(tenants.c.revoked_at.is_not(None))
    if as_of is not None:
        query = query.where(tenants.c.revoked_at <= chain.utc(as_of))
    with engine.connect() as conn:
        return {str(r.tenant_id) for r in conn.execute(query)}


def consented_records(
    repository: SqlRecordRepository,
    scope: ConsentScope,
    *,
    policy: NodePolicy | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Latest records of every tenant whose consent at ``as_of`` (default now) has ``scope``.

    The only way federation (C) and statistics (S) select records. Call it once at the
    start of a round with the node's policy and that round's start time. Columns are
    those of :meth:`SqlRecordRepository.latest` (``tenant_id``, ``version``, contract).
    """
    if scope not in CONSENT_SCOPES:
        raise ConsentError(f"unknown consent scope {scope!r}; expected one of {CONSENT_SCOPES}")
    latest = repository.latest(None)
    if latest.empty:
        return latest
    log = ConsentLog(repository.engine)
    revoked = _revoked_by(repository.engine, as_of)
    allowed = [
        t
        for t in latest["tenant_id"].unique()
        if str(t) not in revoked and scope in log.scopes_at(str(t), policy=policy, as_of=as_of)
    ]
    return latest[latest["tenant_id"].isin(allowed)].reset_index(drop=True)
