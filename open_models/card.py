"""Model cards: what a published model was trained on, what it cost, how good it is.

The card is a plain JSON-able dict stored inside the published model (and so covered by
its content hash), with a Markdown rendering for people. It states the data scope, the
nodes and rounds, the privacy each node spent, the evaluation against Tier-1 and CBAM
default values, the error per jurisdiction and route with the worst/best ratio, the
compute footprint of training, and intended use and limits. A trained model's card also
states the server's update rule (``update_rule``: rule id, precision, parameters, the
initial weights' hash and the rounds applied; :mod:`open_models.update_rule`), so anyone
can recompute its weights from the attested aggregates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from open_models.features import FeatureSpec
from open_models.network import parameter_count

CARD_VERSION: Final = "gcdt-model-card/1"

INTENDED_USE: Final = (
    "Estimate the direct (scope 1) CO2e intensity of a facility-year in the contract's "
    "sectors and routes where no measured or verified figure exists, with a calibrated "
    "interval; correct a self-declared figure towards what verification would find. "
    "Records without a fuel breakdown are in scope: their intervals are wider."
)
LIMITS: Final = (
    "Not a substitute for measurement or verification; not for sectors, products or "
    "routes outside the data contract; estimates are trained on verified figures, so "
    "they inherit verification error and the mix of verified facilities per node; "
    "intervals are calibrated on held-out verified records, not on every population; "
    "DP noise (secure_mode off, see the threat model) bounds each record's influence "
    "only in the usual, non-hardened sense.",
)


def _num(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_card(
    *,
    model_id: str,
    version: str,
    spec: FeatureSpec,
    nodes: Sequence[Mapping[str, Any]],
    rounds: int,
    training: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None,
    interval: Mapping[str, Any],
    footprints: Sequence[Mapping[str, Any]] = (),
    data_scope: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``nodes``: one mapping per node (node_id, jurisdiction, labelled_records,
    epsilon_spent, delta, epsilon_budget); ``footprints``: ``Footprint.to_dict()`` each."""
    measured = [f for f in footprints if f.get("energy_kwh") is not None]
    total = {
        "energy_kwh": sum(f["energy_kwh"] for f in measured) if measured else None,
        "co2_kg": sum(f["co2_kg"] or 0.0 for f in measured) if measured else None,
        "measured_nodes": len(measured),
        "unmeasured": [
            {"country": f.get("country_iso_code"), "reason": f.get("reason")}
            for f in footprints
            if f.get("energy_kwh") is None
        ],
    }
    return {
        "card_version": CARD_VERSION,
        "model": {
            "model_id": model_id,
            "version": version,
            "parameters": parameter_count(spec),
            "feature_spec_version": spec.version,
            "jurisdiction_features": spec.include_jurisdiction,
            "outputs": "direct tCO2e: estimate with interval; bias-corrected self-declared figure",
            "target": "verified_direct_tco2e / production_t (log1p scale)",
        },
        "data_scope": dict(data_scope or {}),
        "federation": {"nodes": [dict(n) for n in nodes], "rounds": rounds},
        "training": dict(training),
        "interval": dict(interval),
        "evaluation": dict(evaluation or {}),
        "compute_footprint": {"per_node": [dict(f) for f in footprints], "total": total},
        "intended_use": INTENDED_USE,
        "limits": list(LIMITS),
    }


def _fmt(value: Any, digits: int = 3) -> str:
    value = _num(value)
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 else f"{value:.{digits}f}"
    return str(value)


def render_markdown(card: Mapping[str, Any]) -> str:
    """The card as Markdown for people; the JSON card stays what hashes and audits read."""
    lines = [
        *_md_model(card),
        *_md_nodes(card["federation"]),
        "",
        "## Training",
        "",
        *[f"- {k}: {_fmt(v)}" for k, v in card["training"].items()],
        "",
        "## Interval",
        "",
        *[f"- {k}: {_fmt(v)}" for k, v in card["interval"].items()],
        *_md_rule(card.get("update_rule")),
        *(_md_evaluation(card["evaluation"]) if card["evaluation"] else []),
        *_md_footprint(card["compute_footprint"]),
        *["", "## Intended use", "", card["intended_use"], "", "## Limits", ""],
        *[f"- {limit}" for limit in card["limits"]],
    ]
    return "\n".join(lines) + "\n"


def _md_rule(rule: Any) -> list[str]:
    """The update rule the weights are recomputable with (absent on a card built alone)."""
    if not isinstance(rule, Mapping):
        return []
    return ["", "## Update rule", "", *[f"- {k}: {_fmt(v)}" for k, v in rule.items()]]


def _md_model(card: Mapping[str, Any]) -> list[str]:
    m = card["model"]
    return [
        f"# Model card: {m['model_id']} {m['version']}",
        "",
        f"{m['parameters']} parameters; features {m['feature_spec_version']} "
        f"(jurisdiction features: {'on' if m['jurisdiction_features'] else 'off'}).",
        f"Target: {m['target']}. Outputs: {m['outputs']}.",
        "",
        "## Data scope",
        "",
        *[f"- {key}: {value}" for key, value in card["data_scope"].items()],
    ]


def _md_nodes(fed: Mapping[str, Any]) -> list[str]:
    return [
        "",
        f"## Nodes and rounds ({fed['rounds']} rounds)",
        "",
        "| node | jurisdiction | labelled records | epsilon spent | budget | delta |",
        "|---|---|---|---|---|---|",
        *[
            f"| {n.get('node_id')} | {n.get('jurisdiction')} | {n.get('labelled_records')} | "
            f"{_fmt(n.get('epsilon_spent'))} | {_fmt(n.get('epsilon_budget'))} | "
            f"{_fmt(n.get('delta'))} |"
            for n in fed["nodes"]
        ],
    ]


def _md_evaluation(ev: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        "## Evaluation (MAE and MAPE of direct intensity, tCO2e/t)",
        "",
        "| method | records | MAE | MAPE | common records | common MAE | common MAPE |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in ev.get("overall", {}).items():
        lines.append(
            f"| {name} | {row['records']} | {_fmt(row['mae_tco2e_per_t'])} | "
            f"{_fmt(row['mape'])} | {row['common_records']} | "
            f"{_fmt(row['common_mae_tco2e_per_t'])} | {_fmt(row['common_mape'])} |"
        )
    if "interval_coverage" in ev:
        lines += ["", f"Interval coverage (held out): {_fmt(ev['interval_coverage'])}"]
    lines += [
        "",
        "### Per jurisdiction and route",
        "",
        f"Worst/best MAE ratio: {_fmt(ev.get('jurisdiction_route_worst_best_ratio'))}",
        "",
        "| jurisdiction | route | records | MAE | MAPE | coverage |",
        "|---|---|---|---|---|---|",
    ]
    for g in ev.get("by_jurisdiction_route", []):
        lines.append(
            f"| {g['jurisdiction']} | {g['route']} | {g['records']} | "
            f"{_fmt(g['mae_tco2e_per_t'])} | {_fmt(g['mape'])} | "
            f"{_fmt(g.get('interval_coverage'))} |"
        )
    return lines


def _md_footprint(fp: Mapping[str, Any]) -> list[str]:
    total = fp["total"]
    return [
        "",
        "## Compute footprint of training (codecarbon, offline)",
        "",
        f"Total: {_fmt(total['energy_kwh'], 6)} kWh, "
        f"{_fmt(total['co2_kg'], 6)} kg CO2e "
        f"({total['measured_nodes']} node(s) measured).",
        *[f"- not measured ({u['country']}): {u['reason']}" for u in total["unmeasured"]],
    ]


__all__ = ["CARD_VERSION", "INTENDED_USE", "LIMITS", "build_card", "render_markdown"]
