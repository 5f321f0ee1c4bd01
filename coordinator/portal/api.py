"""The JSON transparency API under ``/api``: read-only, thin routes over the service."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from coordinator.portal import deps
from coordinator.portal.schemas import (
    ConsistencyOut,
    EntryOut,
    InclusionOut,
    LogOut,
    ModelOut,
    NodeOut,
    PrivacyOut,
    RoundOut,
    TreeHeadOut,
)
from coordinator.portal.services import TransparencyService

router = APIRouter(prefix="/api", tags=["transparency"])
Service = Annotated[TransparencyService, Depends(deps.service)]

ROUTES = {
    "models": "/api/models",
    "benchmarks": "/api/benchmarks",
    "nodes": "/api/nodes",
    "rounds": "/api/rounds",
    "privacy": "/api/privacy",
    "log": "/api/log",
    "log_entries": "/api/log/entries?start=0&limit=100",
    "tree_heads": "/api/log/tree-heads",
    "inclusion_proof": "/api/log/proofs/inclusion?index=0",
    "consistency_proof": "/api/log/proofs/consistency?old_size=1",
    "log_bundle": "/api/log/bundle",
    "checkpoint": "/api/log/checkpoint",
    "tiles": "/api/log/tile/0/000",
    "log_vkey": "/api/log/vkey",
    "tlog_proof": "/api/log/proofs/0.tlog-proof",
    "export": "/api/export",
}


@router.get("")
def index() -> dict[str, Any]:
    """The route map, so a client can start from ``/api`` without reading the spec."""
    return {"service": "gcdt-coordinator transparency API", "routes": ROUTES}


@router.get("/models", response_model=list[ModelOut])
def models(svc: Service) -> list[ModelOut]:
    """Every published model version with its card and content hash."""
    return [ModelOut(**vars(m)) for m in svc.models()]


def _model_out(svc: TransparencyService, model_id: str, version: str | None) -> ModelOut:
    m = svc.model(model_id, version)
    return ModelOut(
        model_id=m.model_id,
        version=m.version,
        content_hash=m.content_hash,
        log_index=m.log_index,
        files=sorted(m.files),
        card=m.card,
    )


@router.get("/models/{model_id}", response_model=ModelOut)
def model_latest(model_id: str, svc: Service) -> ModelOut:
    """The newest published version of a model."""
    return _model_out(svc, model_id, None)


@router.get("/models/{model_id}/{version}", response_model=ModelOut)
def model(model_id: str, version: str, svc: Service) -> ModelOut:
    """One published model version: its files, card and the log entry that published it."""
    return _model_out(svc, model_id, version)


@router.get("/models/{model_id}/{version}/files/{name}")
def model_file(model_id: str, version: str, name: str, svc: Service) -> Response:
    """A published model file, byte for byte, to check against the logged content hash."""
    data = svc.model_file(model_id, version, name)
    media = "application/json" if name.endswith(".json") else "application/octet-stream"
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/benchmarks")
def benchmarks(svc: Service) -> list[dict[str, Any]]:
    """Every published benchmark: the cells that cleared ``k`` and ``m``, with their noise."""
    return svc.benchmarks()


@router.get("/benchmarks/{benchmark_id}")
def benchmark(benchmark_id: str, svc: Service) -> dict[str, Any]:
    """One published benchmark, exactly as the coordinator logged its publication."""
    return svc.benchmark(benchmark_id)


@router.get("/nodes", response_model=list[NodeOut])
def nodes(svc: Service) -> list[NodeOut]:
    """Enrolled nodes and their public keys, so signatures in the log can be checked."""
    return [NodeOut(**n) for n in svc.nodes()]


@router.get("/rounds", response_model=list[RoundOut])
def rounds(svc: Service) -> list[RoundOut]:
    """Training and statistics rounds as the transparency log tells them."""
    return [RoundOut(**vars(r)) for r in svc.rounds()]


@router.get("/privacy", response_model=PrivacyOut)
def privacy(svc: Service) -> PrivacyOut:
    """Privacy budget spent per node, from the terms each round published."""
    spend = svc.privacy_spend()
    return PrivacyOut(statistics=spend.statistics, training=spend.training)


@router.get("/log", response_model=LogOut)
def log(svc: Service) -> LogOut:
    """The log's identity, size and latest signed tree head: the root an auditor pins."""
    head = svc.latest_tree_head()
    return LogOut(
        log_id=svc.log.log_id,
        public_key=svc.log.signer.public_key.hex(),
        size=svc.size(),
        latest_tree_head=None if head is None else TreeHeadOut(**head.to_json()),
    )


@router.get("/log/entries", response_model=list[EntryOut])
def entries(
    svc: Service,
    start: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EntryOut]:
    """A page of log entries; pages are bounded so the portal's answers stay small."""
    return [EntryOut(**e.to_json()) for e in svc.entries(start, limit)]


@router.get("/log/entries/{index}", response_model=EntryOut)
def entry(index: int, svc: Service) -> EntryOut:
    """One log entry by index."""
    return EntryOut(**svc.entry(index).to_json())


@router.get("/log/tree-heads", response_model=list[TreeHeadOut])
def tree_heads(svc: Service) -> list[TreeHeadOut]:
    """Every signed tree head, so a client can check that the log only ever grew."""
    return [TreeHeadOut(**h.to_json()) for h in svc.tree_heads()]


@router.get("/log/proofs/inclusion", response_model=InclusionOut)
def inclusion(
    svc: Service,
    index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> InclusionOut:
    """Proof that entry ``index`` is in the tree of ``tree_size`` (default: the latest)."""
    proof = svc.inclusion_proof(index, tree_size)
    root = svc.log.root(proof.tree_size)
    return InclusionOut(**proof.to_json(), root_hash=root.hex())


@router.get("/log/proofs/consistency", response_model=ConsistencyOut)
def consistency(
    svc: Service,
    old_size: Annotated[int, Query(ge=1)],
    new_size: Annotated[int | None, Query(ge=1)] = None,
) -> ConsistencyOut:
    """Proof that the tree of ``old_size`` is a prefix of the tree of ``new_size``."""
    proof = svc.consistency_proof(old_size, new_size)
    return ConsistencyOut(
        **proof.to_json(),
        old_root_hash=svc.log.root(proof.old_size).hex(),
        new_root_hash=svc.log.root(proof.new_size).hex(),
    )


#: tlog-tiles: the checkpoint "is mutable, so its headers SHOULD prevent caching beyond a
#: few seconds"; tiles and entry bundles are immutable, "caching headers SHOULD be
#: long-lived" (a year, the longest ``max-age`` RFC 9111 clients commonly honour). A
#: partial tile never changes either, but it is replaced by the full one, so it is kept short.
CHECKPOINT_CACHE = "no-cache, max-age=5"
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=60"
TEXT = "text/plain; charset=utf-8"  # tlog-tiles: the checkpoint's Content-Type


@router.get("/log/checkpoint")
def checkpoint(svc: Service) -> Response:
    """The latest C2SP checkpoint (signed note, witness cosignatures included)."""
    return Response(svc.checkpoint(), media_type=TEXT, headers={"Cache-Control": CHECKPOINT_CACHE})


@router.get("/log/vkey")
def log_vkey(svc: Service) -> Response:
    """The log's signed-note verifier key. Auditors must confirm it out of band: a portal
    that serves a forged log would serve the forger's key here too."""
    return Response(str(svc.log.verifier) + "\n", media_type=TEXT)


@router.get("/log/tile/{path:path}")
def tile(path: str, svc: Service) -> Response:
    """tlog-tiles hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles ``tile/entries/...``."""
    data, full = svc.tile(f"tile/{path}")
    cache = FULL_TILE_CACHE if full else PARTIAL_TILE_CACHE
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get("/log/proofs/{index}.tlog-proof")
def tlog_proof(index: int, svc: Service) -> Response:
    """An offline proof (c2sp.org/tlog-proof@v1) of entry ``index``: ``gcdt-audit verify-proof``."""
    return Response(
        svc.tlog_proof(index),
        media_type=TEXT,
        headers={"Content-Disposition": f'attachment; filename="entry-{index}.tlog-proof"'},
    )


@router.get("/log/bundle")
def bundle(svc: Service) -> Response:
    """The whole log as one offline-verifiable bundle (``gcdt-audit verify-log``)."""
    body = json.dumps(svc.bundle(), indent=1, sort_keys=True) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="log-bundle.json"'},
    )


@router.get("/export")
def export(svc: Service) -> Response:
    """Models, benchmarks and the log bundle in one zip, for an audit without the portal."""
    return Response(
        svc.export(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="gcdt-export.zip"'},
    )
