"""``gcdt-node submit-statistics``: fetch the round terms, release, submit, then (a key
holder) serve the round's decryption duty within a bounded wait.

Everything leaves through the node's :class:`~trust_node.transport.client.TrustClient`,
i.e. through the egress guard: one CKKS vector (``ciphertext_statistics``) with the
layout digest as metadata, and one signed attestation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kernel.wire import trust as wire
from kernel.wire.trust import STATISTICS_ROUND as ROUND_KIND
from open_models.benchmark_cells import CatalogueError
from open_models.benchmark_values import RoundTerms
from trust_node.attestation import attest_subject, key_holder
from trust_node.context import NodeContext
from trust_node.privacy import check_trust_caps
from trust_node.statistics.attest import attest_statistics_request
from trust_node.statistics.errors import StatisticsError
from trust_node.statistics.release import prepare_release
from trust_node.tenants import consented_records

POLL_SECONDS = 0.5


def round_terms(client: Any, round_id: int | None = None) -> RoundTerms:
    """The open statistics round's terms as the coordinator published them, checked to be that
    round's.
    """
    view = client.current_round(ROUND_KIND)
    if round_id is not None and view.round_id != round_id:
        raise StatisticsError(
            f"round {round_id} is not the open statistics round ({view.round_id})"
        )
    try:
        terms = RoundTerms.from_dict(json.loads(view.parameters[wire.TERMS]))
    except (KeyError, ValueError, CatalogueError) as exc:
        raise StatisticsError(f"round {view.round_id} published unusable terms: {exc}") from exc
    if terms.round_id != view.round_id:
        raise StatisticsError(f"round {view.round_id} published terms of round {terms.round_id}")
    return terms


def submit_statistics(
    state: NodeContext,
    *,
    round_id: int | None = None,
    years: Sequence[int] | None = None,
    address: str | None = None,
    wait_seconds: float = 120.0,
    attest: bool = True,
) -> dict[str, Any]:
    """Submit this node's release for the open round; attest its sum if a key holder.

    ``attest=False``: leave the attestation to this node's ``gcdt-node attest --watch``.
    """
    key = state.public_key()
    if key is None:
        raise StatisticsError("no public CKKS context installed: run `gcdt-node fetch-keys`")
    ledger = state.ledger
    check_trust_caps(state.node_policy, state.state.trust_policy)
    budget = state.node_policy.privacy_budget
    unit, unit_budget = budget.unit_account()
    repo = state.repository
    with state.client(address) as client:
        terms = round_terms(client, round_id)
        if years is not None and tuple(sorted(set(years))) != terms.years:
            raise StatisticsError(
                f"round {terms.round_id} covers years {list(terms.years)}, not {sorted(set(years))}"
            )
        release = prepare_release(
            terms,
            key=key,
            ledger=ledger,
            node_id=state.node_id,
            period=budget.accounting_period,
            budget=(unit_budget.epsilon, unit_budget.delta),
            load_records=lambda: consented_records(repo, "statistics", policy=state.node_policy),
            unit=unit,
        )
        receipt = client.submit(
            ROUND_KIND,
            terms.round_id,
            [release.vector],
            {"layout_digest": terms.catalogue.catalogue_id()},
        )
        result: dict[str, Any] = {
            "round_id": terms.round_id,
            "records_used": release.records_used,
            "epsilon_spent": release.receipt.epsilon_after,
            "submission_log_index": receipt.log_index,
            "attested": False,
        }
        if not attest or not (
            state.coordinator.get("key_holder") or _is_key_holder(state, terms.key_id)
        ):
            return result
        attested = attest_subject(
            client,
            key_holder(state),
            {ROUND_KIND: attest_statistics_request},
            subject_id=terms.subject_id,
            wait_s=wait_seconds,
            poll_s=POLL_SECONDS,
        )
        if attested is None:
            raise StatisticsError(
                f"round {terms.round_id}: no decryption request within {wait_seconds:g} s "
                "(submission kept; run `gcdt-node attest` to attest it later)"
            )
        result["attested"] = True
        return result


def _is_key_holder(state: NodeContext, key_id: str) -> bool:
    try:
        state.secret_key(key_id)
    except Exception:
        return False
    return True
