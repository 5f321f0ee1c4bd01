"""The node's one privacy account, its trust cap, and what the privacy unit asks of the data.

Why one account: every release that touches the node's records (training rounds,
statistics releases, anything later) is charged to the ledger account named by the node
policy's privacy unit (``privacy_budget.unit``, default ``facility``), so a facility that
feeds both training and statistics is charged once, composed under RDP in one Opacus
accountant, instead of each kind spending a full budget of its own.

Why the cap check lives here: the trust policy's caps bind every release a node starts,
so the node checks ``node_within_trust`` before the ledger is charged and before any
record is read; a node policy looser than the trust is refused, not silently used.

Facility unit, per release: removing one facility must change each release's input by at
most one record (training) or one cell per year (statistics), so the record-level
mechanisms charged below protect the whole facility. Training therefore keeps one record
per facility per round (drawn with OS randomness, labelled ones first); statistics keep
one cell per facility and year (see ``trust_node.statistics.contributions``).
"""

from __future__ import annotations

import secrets
from typing import Final

import numpy as np
import pandas as pd

from governance.policy import NodePolicy, TrustPolicy, node_within_trust
from governance.privacy import Budget, LedgerAccount, PrivacyLedger
from open_models.training import labelled
from trust_node.errors import NodeError

#: Share of the unit's budget DP-SGD rounds plan to bring the account to; the rest is left
#: for statistics releases charged to the same account. Modelling judgement: with the
#: default budget 8 it leaves room for a statistics round at epsilon 2 (RDP-composed with
#: training at 6 the facility stands near 6.4, Opacus 1.6.0; the demo's round).
TRAINING_SHARE: Final = 0.75


class TrustCapError(NodeError):
    """The node policy is looser than the trust policy's caps: no release may start."""


def check_trust_caps(node: NodePolicy, trust: TrustPolicy | None) -> None:
    """Refuse (before any charge or read) a node policy above the trust's caps."""
    if trust is None:
        return  # not enrolled: nothing leaves, so there is no trust cap to apply yet
    problems = node_within_trust(node, trust)
    if problems:
        raise TrustCapError(
            f"node policy v{node.version} of {node.node_id!r} exceeds trust policy "
            f"v{trust.version}: " + "; ".join(problems)
        )


def unit_account(ledger: PrivacyLedger, node_id: str, policy: NodePolicy) -> LedgerAccount:
    """The one ledger account every release of this node is charged to."""
    dataset, budget = policy.privacy_budget.unit_account()
    return LedgerAccount(
        ledger,
        node_id,
        policy.privacy_budget.accounting_period,
        Budget(budget.epsilon, budget.delta),
        dataset=dataset,
    )


def one_record_per_facility(
    records: pd.DataFrame, rng: np.random.Generator | None = None
) -> pd.DataFrame:
    """One record of each facility (a labelled one if it has any), chosen at random.

    The choice for one facility depends only on that facility's own records and fresh
    randomness, so adding or removing a facility changes the result by exactly one row.
    """
    if records.empty:
        return records
    generator = rng or np.random.Generator(np.random.PCG64(secrets.randbits(128)))
    order = generator.permutation(len(records))
    shuffled = records.iloc[order]
    has_label = shuffled.index.isin(labelled(shuffled).index)
    ranked = shuffled.assign(_unlabelled=~has_label).sort_values("_unlabelled", kind="stable")
    chosen = ranked.drop_duplicates("facility_id", keep="first")
    return chosen.drop(columns="_unlabelled").sort_index()
