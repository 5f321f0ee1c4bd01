"""``verify-model``'s last check: every claim the model card makes must match the log.

A dishonest coordinator can publish (and log) a card whose hash is consistent but whose
claims are not: rounds, contributors, jurisdictions or privacy spend the log contradicts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from governance.audit_models.report import ModelReport
from governance.audit_models.sources import entry_payload
from governance.policy.in_force import LoggedCap


def check_card(
    entries: list[dict[str, Any]],
    card: dict[str, Any],
    run_rounds: Mapping[int, list[dict[str, Any]]],
    accepted: Mapping[int, dict[str, Any]],
    jurisdictions: Mapping[str, str],
    report: ModelReport,
) -> None:
    """Compare the card's rounds, nodes and privacy spend with the log; failures into report."""
    claims = card.get("rounds")
    if isinstance(claims, list):
        _check_round_claims(entries, claims, accepted, report)
    fed = card.get("federation")
    if not isinstance(fed, dict):
        if not isinstance(claims, list):
            report.fail(
                "card-unverifiable", "card", "the card states neither rounds nor federation nodes"
            )
        return
    count = fed.get("rounds")
    if count is not None and count != len(run_rounds):
        report.fail(
            "card-rounds",
            "card.federation.rounds",
            f"card claims {count} rounds, the log has {len(run_rounds)} for this run",
        )
    nodes = [n for n in fed.get("nodes") or [] if isinstance(n, dict)]
    _check_node_names(nodes, accepted, report)
    runs = {str(entry_payload(e)["run"]) for e in accepted.values() if entry_payload(e).get("run")}
    for n in nodes:
        _check_node_claim(entries, n, runs, jurisdictions, report)


def _check_round_claims(
    entries: list[dict[str, Any]],
    claims: list[Any],
    accepted: Mapping[int, dict[str, Any]],
    report: ModelReport,
) -> None:
    """Each claimed round must be the log entry it cites; the accepted ones, all of them."""
    claimed_accepted: set[int] = set()
    for claim in claims:
        if not isinstance(claim, dict):
            report.fail("card-rounds", "card.rounds", "a round claim is not an object")
            continue
        r = claim.get("round")
        if claim.get("status") == "accepted" and isinstance(r, int):
            claimed_accepted.add(r)
        _check_round_claim(entries, claim, report)
    if claimed_accepted != set(accepted):
        report.fail(
            "card-rounds",
            "card.rounds",
            f"card claims accepted rounds {sorted(claimed_accepted)}, the log "
            f"accepted {sorted(accepted)}",
        )


def _check_round_claim(
    entries: list[dict[str, Any]], claim: dict[str, Any], report: ModelReport
) -> None:
    r, status, idx = claim.get("round"), claim.get("status"), claim.get("log_index")
    where = f"card.rounds[round {r}]"
    if not isinstance(idx, int) or not 0 <= idx < len(entries):
        report.fail("card-rounds", where, f"log_index {idx!r} is not an entry of the log")
        return
    p = entry_payload(entries[idx])
    if (
        entries[idx].get("kind") != "round"
        or p.get("round") != r
        or p.get("event") != f"round_{status}"
    ):
        report.fail(
            "card-rounds",
            where,
            f"entry {idx} is not round {r} {status} "
            f"(it is {entries[idx].get('kind')} {p.get('event')})",
        )
        return
    if status != "accepted":
        return
    for key in ("contributors", "aggregate_sha256"):
        claimed, logged = claim.get(key), p.get(key)
        if key == "contributors":
            claimed, logged = sorted(claimed or []), sorted(logged or [])
        if claimed != logged:
            report.fail(
                "card-rounds", where, f"{key}: card claims {claimed}, log entry {idx} has {logged}"
            )


def _check_node_names(
    nodes: list[dict[str, Any]], accepted: Mapping[int, dict[str, Any]], report: ModelReport
) -> None:
    """The card's nodes must be exactly the contributors of the log's accepted rounds."""
    contributors = {
        str(n) for e in accepted.values() for n in entry_payload(e).get("contributors") or []
    }
    named = {str(n.get("node_id")) for n in nodes}
    if named != contributors:
        report.fail(
            "card-nodes",
            "card.federation.nodes",
            f"card names nodes {sorted(named)}, the log's accepted rounds had "
            f"contributors {sorted(contributors)}",
        )


def _check_node_claim(
    entries: list[dict[str, Any]],
    n: dict[str, Any],
    runs: set[str],
    jurisdictions: Mapping[str, str],
    report: ModelReport,
) -> None:
    """One node's jurisdiction (as enrolled) and privacy spend (positive, in budget, logged)."""
    node = str(n.get("node_id"))
    where = f"card.federation.nodes[{node}]"
    enrolled = jurisdictions.get(node)
    if enrolled is not None and n.get("jurisdiction") != enrolled:
        report.fail(
            "card-nodes",
            where,
            f"jurisdiction {n.get('jurisdiction')!r}, enrolled as {enrolled!r}",
        )
    spent, budget = n.get("epsilon_spent"), n.get("epsilon_budget")
    if not isinstance(spent, int | float) or isinstance(spent, bool) or spent <= 0:
        report.fail(
            "card-privacy",
            where,
            f"epsilon_spent {spent!r}: DP training must state a positive spend",
        )
    elif isinstance(budget, int | float) and spent > budget + 1e-9:
        report.fail("card-privacy", where, f"epsilon_spent {spent} exceeds budget {budget}")
    logged = _logged_spend(entries, node, runs)
    if (
        logged is not None
        and isinstance(spent, int | float)
        and not math.isclose(logged, float(spent), rel_tol=1e-9)
    ):
        report.fail("card-privacy", where, f"epsilon_spent {spent}, the log records {logged}")


def _logged_spend(entries: list[dict[str, Any]], node: str, runs: set[str]) -> float | None:
    """The last epsilon the log records for ``node``'s training in this model's run.

    Only entries of the publishing run count: a later run in the same accounting period
    spends more, and must not make an earlier, honest model card look wrong.
    """
    value = None
    for e in entries:
        p = entry_payload(e)
        if runs and p.get("run") not in runs:
            continue
        if p.get("node_id") == node and isinstance(p.get("epsilon_spent"), int | float):
            value = float(p["epsilon_spent"])
    return value


def check_card_caps(card: dict[str, Any], cap: LoggedCap | None, report: ModelReport) -> None:
    """Every node on the card within the trust policy's privacy cap in force (issue 14).

    A node whose stated budget, delta or spend is above the cap should never have been
    counted; a card that lists one was published by a coordinator that did not check.
    """
    if cap is None:
        return
    fed = card.get("federation")
    nodes = fed.get("nodes") if isinstance(fed, dict) else None
    for n in nodes if isinstance(nodes, list) else []:
        if not isinstance(n, dict):
            continue
        where = f"card.federation.nodes[{n.get('node_id')}]"
        problems = cap.problems(n.get("epsilon_budget"), n.get("delta"), "budget")
        problems += cap.problems(n.get("epsilon_spent"), None, "spend")
        for problem in problems:
            report.fail("card-privacy-cap", where, problem)
