"""Build the portal app: JSON API under ``/api``, HTML pages, static CSS, problem responses.

One function, :func:`create_app`, used by ``gcdt-coordinator portal`` and by the tests,
so both serve exactly the same app over the same settings.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from coordinator.context import CoordinatorContext
from coordinator.portal import api, pages
from coordinator.portal.deps import PortalState
from coordinator.portal.errors import BadRequestError, NotPublishedError, PortalError
from coordinator.portal.schemas import ProblemOut
from coordinator.portal.services import TransparencyService, public_log
from kernel.settings import Settings, load_settings

STATIC = Path(__file__).parent / "static"


def _problem(request: Request, status: int, title: str, detail: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse(
            ProblemOut(title=title, status=status, detail=detail).model_dump(),
            status_code=status,
            media_type="application/problem+json",
        )
    return pages.TEMPLATES.TemplateResponse(
        request, "problem.html", {"title": title, "detail": detail}, status_code=status
    )


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The read-only portal over the coordinator home named by ``settings``."""
    settings = settings or load_settings()
    engine = engine or CoordinatorContext(settings).engine
    service = TransparencyService(engine, public_log(engine, settings.home_dir))
    app = FastAPI(
        title="Global Carbon Data Trust: transparency API",
        description="Published models, benchmarks, nodes, rounds and the transparency log.",
        version="1",
        docs_url=None,  # Swagger UI loads scripts from a CDN: the portal stays offline
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.portal = PortalState(settings, engine, service)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(NotPublishedError)
    async def _not_found(request: Request, exc: NotPublishedError) -> Response:
        return _problem(request, 404, "Not published", str(exc))

    @app.exception_handler(BadRequestError)
    async def _bad(request: Request, exc: BadRequestError) -> Response:
        return _problem(request, 400, "Bad request", str(exc))

    @app.exception_handler(PortalError)
    async def _portal(request: Request, exc: PortalError) -> Response:
        return _problem(request, 503, "Portal unavailable", str(exc))

    return app


__all__ = ["create_app"]
