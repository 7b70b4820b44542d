"""RFC 9457 problem details (`application/problem+json`) for every error the API gives,
with field-level messages a client can act on."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnihub.domain.ledger import InsufficientStock, LedgerError
from omnihub.domain.stock_commands import IdempotencyConflict, VersionConflict
from omnihub.services.catalog import Conflict, NotFound

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", errors: list[dict] | None = None,
            instance: str | None = None, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_for(exc: LedgerError) -> int:
    if isinstance(exc, (VersionConflict, IdempotencyConflict, Conflict)):
        return 409
    if isinstance(exc, NotFound) or exc.code == "not_found":
        return 404
    if exc.code == "illegal_transition":
        return 409
    return 422  # unknown references, insufficient stock, invalid movements


def ledger_problem(exc: LedgerError, request: Request | None = None) -> JSONResponse:
    status = status_for(exc)
    extra = {}
    if isinstance(exc, InsufficientStock):
        extra = {"state": exc.state.value, "wanted": exc.wanted, "available": exc.have}
    if isinstance(exc, VersionConflict):
        extra = {"expected_version": exc.expected, "current_version": exc.actual}
    return problem(
        status,
        title=exc.code.replace("_", " "),
        detail=str(exc),
        type_=f"https://omnihub.dev/problems/{exc.code}",
        errors=[{"field": exc.field or "", "message": str(exc)}],
        instance=str(request.url.path) if request else None,
        code=exc.code,
        **extra,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def _ledger(request: Request, exc: LedgerError):
        return ledger_problem(exc, request)

    from omnihub.domain.order_states import IllegalTransition

    @app.exception_handler(IllegalTransition)
    async def _transition(request: Request, exc: IllegalTransition):
        return problem(409, "illegal transition", str(exc), type_="https://omnihub.dev/problems/illegal_transition",
                       errors=[{"field": "state", "message": str(exc)}], instance=request.url.path, code="illegal_transition")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
            errors.append({"field": ".".join(loc), "message": e.get("msg", "invalid")})
        return problem(422, "invalid request", "the request does not match the schema; see errors",
                       type_="https://omnihub.dev/problems/invalid_request", errors=errors,
                       instance=request.url.path, code="invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "not found",
                       str(exc.detail), instance=request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - last resort
        return problem(500, "internal error", "the hub could not complete this request; nothing was half-written",
                       instance=request.url.path)

