"""The ledger store in SQL (SQLite by default, PostgreSQL by URL).

Tables come from the governance migrations (``governance.tables.migrate(engine)``); this
module never creates them itself, so a database is always at a known revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from governance.privacy.errors import LedgerConflictError
from governance.privacy.state import MECHANISM, AccountantState
from governance.privacy.store import ChargeRecord, LedgerKey, LedgerStore, RefusalRecord
from governance.privacy.tables import privacy_accounts, privacy_charges, privacy_refusals


def _aware(moment: datetime) -> datetime:
    """SQLite drops the zone; every time we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _key_clause(table: Any, key: LedgerKey) -> Any:
    return and_(
        table.c.node_id == key.node_id,
        table.c.dataset == key.dataset,
        table.c.period == key.period,
    )


class SqlLedgerStore(LedgerStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, key: LedgerKey) -> tuple[AccountantState, int]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(privacy_accounts.c.history_json, privacy_accounts.c.version).where(
                    _key_clause(privacy_accounts, key)
                )
            ).one_or_none()
        if row is None:
            return AccountantState.empty(), 0
        return AccountantState.from_json(row.history_json), int(row.version)

    def commit_charge(
        self, key: LedgerKey, state: AccountantState, expected_version: int, record: ChargeRecord
    ) -> int:
        new_version = expected_version + 1
        try:
            with self.engine.begin() as conn:
                if expected_version == 0:
                    conn.execute(
                        insert(privacy_accounts).values(
                            node_id=key.node_id,
                            dataset=key.dataset,
                            period=key.period,
                            mechanism=MECHANISM,
                            history_json=state.to_json(),
                            version=new_version,
                            updated_at=record.at,
                        )
                    )
                else:
                    result = conn.execute(
                        update(privacy_accounts)
                        .where(
                            _key_clause(privacy_accounts, key),
                            privacy_accounts.c.version == expected_version,
                        )
                        .values(
                            history_json=state.to_json(),
                            version=new_version,
                            updated_at=record.at,
                        )
                    )
                    if result.rowcount != 1:
                        raise LedgerConflictError(
                            f"account {key} changed concurrently (expected version "
                            f"{expected_version})"
                        )
                conn.execute(
                    insert(privacy_charges).values(
                        node_id=key.node_id,
                        dataset=key.dataset,
                        period=key.period,
                        kind=record.kind,
                        noise_multiplier=record.noise_multiplier,
                        sample_rate=record.sample_rate,
                        steps=record.steps,
                        reason=record.reason,
                        delta=record.delta,
                        budget_epsilon=record.budget_epsilon,
                        epsilon_before=record.epsilon_before,
                        epsilon_after=record.epsilon_after,
                        charged_at=record.at,
                    )
                )
        except IntegrityError as exc:
            raise LedgerConflictError(f"account {key} was created concurrently") from exc
        return new_version

    def record_refusal(self, record: RefusalRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(privacy_refusals).values(
                    node_id=record.key.node_id,
                    dataset=record.key.dataset,
                    period=record.key.period,
                    kind=record.kind,
                    noise_multiplier=record.noise_multiplier,
                    sample_rate=record.sample_rate,
                    steps=record.steps,
                    reason=record.reason,
                    delta=record.delta,
                    budget_epsilon=record.budget_epsilon,
                    spent_epsilon=record.spent_epsilon,
                    would_be_epsilon=record.would_be_epsilon,
                    refused_at=record.at,
                )
            )

    def charges(self, key: LedgerKey) -> list[ChargeRecord]:
        t = privacy_charges
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(_key_clause(t, key)).order_by(t.c.id)).all()
        return [
            ChargeRecord(
                key=key,
                kind=r.kind,
                noise_multiplier=r.noise_multiplier,
                sample_rate=r.sample_rate,
                steps=r.steps,
                reason=r.reason,
                delta=r.delta,
                budget_epsilon=r.budget_epsilon,
                epsilon_before=r.epsilon_before,
                epsilon_after=r.epsilon_after,
                at=_aware(r.charged_at),
            )
            for r in rows
        ]

    def refusals(self, key: LedgerKey | None = None) -> list[RefusalRecord]:
        t = privacy_refusals
        query = select(t).order_by(t.c.id)
        if key is not None:
            query = query.where(_key_clause(t, key))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            RefusalRecord(
                key=LedgerKey(r.node_id, r.dataset, r.period),
                kind=r.kind,
                noise_multiplier=r.noise_multiplier,
                sample_rate=r.sample_rate,
                steps=r.steps,
                reason=r.reason,
                delta=r.delta,
                budget_epsilon=r.budget_epsilon,
                spent_epsilon=r.spent_epsilon,
                would_be_epsilon=r.would_be_epsilon,
                at=_aware(r.refused_at),
            )
            for r in rows
        ]
