"""FastAPI dependencies: the one settings object, the engine, the service.

``create_app`` stores a :class:`PortalState` on ``app.state``; routes reach it only
through :func:`service`, so tests and the CLI build the app the same way. The engine is
the coordinator's own (:class:`~coordinator.context.CoordinatorContext`), read-only here:
the portal never holds the identity that signs the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from coordinator.portal.services import TransparencyService
from kernel.settings import Settings


@dataclass(frozen=True)
class PortalState:
    settings: Settings
    engine: Engine
    service: TransparencyService


def state(request: Request) -> PortalState:
    """The :class:`PortalState` ``create_app`` stored: routes reach settings, engine and service
    only through it, so tests and the CLI build the portal the same way.
    """
    value: PortalState = request.app.state.portal
    return value


def service(request: Request) -> TransparencyService:
    """The read-only transparency service every route depends on (``Depends(service)``)."""
    return state(request).service
