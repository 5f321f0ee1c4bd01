"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error answer names what went wrong and where: ``title`` (the kind), ``detail``
(the message), ``instance`` (the request path) and, for rejected uploads or invalid
parameters, ``errors``: a list of ``{row, column, reason, value}`` or
``{location, reason}``. A record of another tenant and a missing record produce the
identical answer (status and body), so nothing can be inferred from it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from trust_node.errors import IngestError, NodeError, RecordNotFoundError
from trust_node.tenants import (
    AuthenticationError,
    ConsentError,
    TenantExistsError,
    UnknownTenantError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://gcdt.invalid/problems/"  # not dereferenceable: a stable identifier


class ApiProblem(NodeError):
    """An answer already decided (status, title, detail): raised by a route, sent as is.

    A :class:`NodeError` like every node error; the app's handler for this class wins
    over the generic ``NodeError`` one because Starlette picks the nearest class.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.headers = headers
        self.extensions = extensions


def problem_response(request: Request, problem: ApiProblem) -> JSONResponse:
    """The RFC 9457 body; ``instance`` is the request path only, never its query string."""
    body = {
        "type": TYPE_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extensions,
    }
    return JSONResponse(
        body, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers
    )


def not_found(what: str) -> ApiProblem:
    """The one 404 for a record, whether missing or another tenant's: nothing to infer."""
    return ApiProblem(404, "Not found", f"{what} not found")


def unauthorized() -> ApiProblem:
    """A 401 with the ``WWW-Authenticate`` challenge RFC 6750 asks for."""
    return ApiProblem(
        401,
        "Unauthorized",
        "a valid bearer token is required",
        headers={"WWW-Authenticate": "Bearer"},
    )


def from_node_error(exc: NodeError) -> ApiProblem:
    """The problem a node error becomes; anything unforeseen is a plain 500."""
    if isinstance(exc, IngestError):
        errors = [
            {"row": p.row, "column": p.column, "reason": p.reason, "value": p.value}
            for p in exc.problems
        ]
        return ApiProblem(
            422, "Upload rejected", f"{len(errors)} problem(s); nothing was stored", errors=errors
        )
    if isinstance(exc, RecordNotFoundError):
        return not_found("record")
    if isinstance(exc, AuthenticationError):
        return unauthorized()
    if isinstance(exc, TenantExistsError):
        return ApiProblem(409, "Conflict", str(exc))
    if isinstance(exc, UnknownTenantError):
        return ApiProblem(404, "Not found", str(exc))
    if isinstance(exc, ConsentError):
        return ApiProblem(422, "Invalid consent", str(exc))
    return ApiProblem(500, "Node error", str(exc))


def install(app: FastAPI) -> None:
    """Route every error the app can raise to a problem response, never a stack trace."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return problem_response(request, exc)

    async def on_node_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NodeError)
        return problem_response(request, from_node_error(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "location": ".".join(str(p) for p in e.get("loc", ())),
                "reason": e.get("msg", "invalid"),
            }
            for e in exc.errors()
        ]
        problem = ApiProblem(
            422, "Invalid request", f"{len(errors)} invalid parameter(s)", errors=errors
        )
        return problem_response(request, problem)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        problem = ApiProblem(
            exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None)
        )
        return problem_response(request, problem)

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(NodeError, on_node_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, text in (
        (401, "Missing, invalid, rotated or revoked token"),
        (404, "Not found (a record of another tenant answers the same)"),
        (422, "Invalid request or rejected upload"),
    )
}
