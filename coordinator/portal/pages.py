"""The portal: server-rendered HTML pages over the same service as the API.

Readable without JavaScript: every page is plain HTML with headings, tables with captions,
and charts as inline SVG with a table of the same numbers beside them. Views only arrange
what the service returns; nothing here reads storage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from coordinator.portal import deps, plots
from coordinator.portal.services import MODEL_FILES, TransparencyService

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)
Service = Annotated[TransparencyService, Depends(deps.service)]
PAGE = 50
#: Card sections rendered as their own tables; any other top-level key is listed as JSON.
CARD_SECTIONS = ("model", "evaluation", "federation", "compute_footprint", "rounds")


def _render(request: Request, name: str, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


TEMPLATES.env.filters["pretty"] = _pretty


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


TEMPLATES.env.filters["num"] = _num


@router.get("/", response_class=HTMLResponse)
def home(request: Request, svc: Service) -> HTMLResponse:
    """The overview a visitor lands on: what was published, by whom, and the log's size."""
    head = svc.latest_tree_head()
    return _render(
        request,
        "home.html",
        models=svc.models(),
        benchmarks=svc.benchmarks(),
        nodes=svc.nodes(),
        rounds=svc.rounds(),
        size=svc.size(),
        head=head,
    )


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, svc: Service) -> HTMLResponse:
    """Published models, each linking to its card."""
    return _render(request, "models.html", models=svc.models())


def model_error_plot(evaluation: dict[str, Any]) -> Any:
    """Bars of the model's error beside the baselines, or None without an evaluation.

    The card's ``overall`` section is shown as the baselines are the claim a model makes:
    that it beats what a firm could compute without the trust.
    """
    overall = evaluation.get("overall") or {}
    if not isinstance(overall, dict) or not overall:
        return None
    methods = sorted(overall)
    categories = ["MAE, records each method covers", "MAE, records all methods cover"]
    series = [
        (
            method,
            [overall[method].get("mae_tco2e_per_t"), overall[method].get("common_mae_tco2e_per_t")],
        )
        for method in methods
    ]
    return plots.grouped_bars(
        "model-error",
        "Model error beside the IPCC Tier-1 and CBAM default baselines",
        categories,
        series,
        "mean absolute error, tCO2e per tonne",
    )


@router.get("/models/{model_id}/{version}", response_class=HTMLResponse)
def model(request: Request, model_id: str, version: str, svc: Service) -> HTMLResponse:
    """A model's card rendered section by section, with the files to download."""
    m = svc.model(model_id, version)
    card = m.card if isinstance(m.card, dict) else {}
    evaluation = card.get("evaluation") if isinstance(card.get("evaluation"), dict) else {}
    federation = card.get("federation") if isinstance(card.get("federation"), dict) else {}
    footprint = (
        card.get("compute_footprint") if isinstance(card.get("compute_footprint"), dict) else {}
    )
    others = {k: v for k, v in card.items() if k not in CARD_SECTIONS}
    files = [name for name in sorted(m.files) if name in MODEL_FILES or name.endswith(".json")]
    return _render(
        request,
        "model.html",
        m=m,
        card=card,
        evaluation=evaluation or {},
        federation=federation or {},
        footprint=footprint or {},
        claimed_rounds=card.get("rounds") if isinstance(card.get("rounds"), list) else [],
        others=others,
        files=files,
        error_plot=model_error_plot(evaluation or {}),
    )


def benchmark_plot(benchmark: dict[str, Any]) -> Any:
    """Bars of each shown cell's intensity beside the CBAM default (None if all are suppressed)."""
    shown = [c for c in benchmark.get("cells") or [] if not c.get("suppressed")]
    if not shown:
        return None
    return plots.grouped_bars(
        "benchmark-intensity",
        f"Benchmark intensity per cell beside the CBAM default ({benchmark['benchmark_id']})",
        [f"{c['product']} / {c['route']} / {c['year']}" for c in shown],
        [
            ("benchmark (noisy mean)", [c.get("intensity_tco2e_per_t") for c in shown]),
            ("CBAM default, direct", [c.get("cbam_default_direct_tco2e_per_t") for c in shown]),
        ],
        "direct tCO2e per tonne of product",
    )


@router.get("/benchmarks", response_class=HTMLResponse)
def benchmarks(request: Request, svc: Service) -> HTMLResponse:
    """Published benchmarks, each linking to its cells."""
    return _render(request, "benchmarks.html", benchmarks=svc.benchmarks())


@router.get("/benchmarks/{benchmark_id}", response_class=HTMLResponse)
def benchmark(request: Request, benchmark_id: str, svc: Service) -> HTMLResponse:
    """One benchmark's cells, with whichever percentiles the round published."""
    b = svc.benchmark(benchmark_id)
    percentiles = sorted(
        {k for c in b.get("cells") or [] for k in c if k[:1] == "p" and k[1:].isdigit()},
        key=lambda k: int(k[1:]),
    )
    return _render(request, "benchmark.html", b=b, percentiles=percentiles, plot=benchmark_plot(b))


@router.get("/nodes", response_class=HTMLResponse)
def nodes(request: Request, svc: Service) -> HTMLResponse:
    """Enrolled nodes and their keys."""
    return _render(request, "nodes.html", nodes=svc.nodes())


def privacy_plot(statistics: dict[str, list[tuple[str, float]]]) -> Any:
    """Cumulative epsilon per node over statistics rounds (None before the first).

    A node that skipped a round keeps its last value, so every line covers every round.
    """
    if not statistics:
        return None
    keys: list[str] = []
    for points in statistics.values():
        for key, _ in points:
            if key not in keys:
                keys.append(key)
    keys.sort(key=lambda k: int(k) if k.isdigit() else 0)
    series = []
    for node in sorted(statistics):
        by_key = dict(statistics[node])
        running: float | None = None
        values: list[float | None] = []
        for key in keys:
            running = by_key.get(key, running)
            values.append(running)
        series.append((node, values))
    return plots.step_lines(
        "privacy-spend",
        "Privacy budget spent per node over statistics rounds (cumulative epsilon)",
        [f"round {k}" for k in keys],
        series,
        "cumulative epsilon (sum of round epsilons)",
    )


@router.get("/rounds", response_class=HTMLResponse)
def rounds(request: Request, svc: Service) -> HTMLResponse:
    """Rounds and the privacy budget they spent."""
    spend = svc.privacy_spend()
    return _render(
        request,
        "rounds.html",
        rounds=svc.rounds(),
        spend=spend,
        plot=privacy_plot(spend.statistics),
    )


@router.get("/log", response_class=HTMLResponse)
def log(request: Request, svc: Service, start: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
    """A page of the log with its latest tree heads and their consistency proof."""
    size = svc.size()
    heads = svc.tree_heads()
    consistency = None
    if len(heads) >= 2 and 0 < heads[-2].tree_size <= heads[-1].tree_size:
        consistency = svc.consistency_proof(heads[-2].tree_size, heads[-1].tree_size)
    return _render(
        request,
        "log.html",
        entries=svc.entries(start, PAGE) if start < max(size, 1) else [],
        start=start,
        page=PAGE,
        size=size,
        heads=heads,
        head=heads[-1] if heads else None,
        consistency=consistency,
        log_id=svc.log.log_id,
        public_key=svc.log.signer.public_key.hex(),
    )


@router.get("/log/entries/{index}", response_class=HTMLResponse)
def log_entry(request: Request, index: int, svc: Service) -> HTMLResponse:
    """One entry with its inclusion proof in the latest tree head, when the head covers it."""
    entry = svc.entry(index)
    head = svc.latest_tree_head()
    proof = None
    if head is not None and index < head.tree_size:
        proof = svc.inclusion_proof(index, head.tree_size)
    return _render(request, "entry.html", entry=entry, head=head, proof=proof)
