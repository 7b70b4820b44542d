"""RFC 9457 problem details (`application/problem+json`) for every error the API gives,
with field-level messages a client can act on.

Where an error points is counted one way everywhere in the API:

- `errors[].field` is a path into the request as the client sent it: member names joined
  by dots, array items by their 0-based index in brackets, as in the JSON the client
  built (`lines[0].sku` is the first line, `variants[1].gtin`, `rules[2].sort`). A
  mapping's key is a member name (`lines.A1` in a cancel, whose `lines` is
  {line_id: units}). Parts of the request other than the body carry their place first
  (`query.limit`, `path.order_id`). The services name fields in the same form
  (`RuleValidationError` paths, catalog variants); the one that speaks of a domain
  identifier instead (an order line's `line_id`) is translated where the body is known
  (routes_orders.create_order).
- `line` and `column` are positions in a text the API parsed (a JSON body that does not
  parse, an uploaded CSV file), 1-based as an editor shows them (the CSV header is line
  1); `offset` (JSON) counts the characters before the fault, 0-based as Python's
  `JSONDecodeError.pos`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnihub.domain.ledger import InsufficientStock, LedgerError
from omnihub.domain.stock_commands import IdempotencyConflict, VersionConflict
from omnihub.services.catalog import Conflict, NotFound

PROBLEM = "application/problem+json"
JSON_TYPES = "application/json (or another application/*+json type)"
DATABASE_RETRY_AFTER_S = 5  # a restart or a failover takes seconds: the client's cue to try again


def database_unavailable(exc: BaseException) -> bool:
    """The database did not answer (restarting, failing over, out of connections, a lock
    held past its wait), as opposed to refusing what was asked: worth a retry."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def field_path(loc: Sequence[str | int]) -> str:
    """`("lines", 0, "sku")` → `lines[0].sku` (see the module's docstring)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def text_position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), both 1-based, of the character `offset` characters into `text`
    (the same count as `json.JSONDecodeError.lineno/colno`)."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", errors: list[dict] | None = None,
            instance: str | None = None, headers: dict | None = None, **extra: Any) -> JSONResponse:
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
    extra: dict[str, Any] = {}
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


def _malformed_json(request: Request, exc: RequestValidationError, error: dict) -> JSONResponse:
    """400: the body is not JSON at all; where it breaks, as an editor would show it."""
    loc = tuple(error.get("loc", ()))
    offset = loc[-1] if loc and isinstance(loc[-1], int) else 0
    text = exc.body if isinstance(exc.body, str) else ""
    line, column = text_position(text, offset)
    reason = (error.get("ctx") or {}).get("error") or "invalid JSON"
    where = f"line {line}, column {column} (offset {offset})"
    return problem(400, "malformed JSON", f"the body is not valid JSON: {reason} at {where}",
                   type_="https://omnihub.dev/problems/malformed_json",
                   errors=[{"field": "", "message": reason, "line": line, "column": column, "offset": offset}],
                   instance=request.url.path, code="malformed_json", line=line, column=column, offset=offset)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes at this request's path (405's Allow)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods - {"HEAD"})


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
        found = exc.errors()
        refused = next((e["ctx"]["error"] for e in found if isinstance((e.get("ctx") or {}).get("error"), LedgerError)),
                       None)
        if refused is not None:  # a body the domain itself refused while it was read (schemas_routing_rules.py)
            return ledger_problem(refused, request)
        broken = next((e for e in found if e.get("type") == "json_invalid"), None)
        if broken is not None:
            return _malformed_json(request, exc, broken)
        if isinstance(exc.body, (bytes, bytearray)):
            # FastAPI parses a body as JSON only when its Content-Type says JSON; anything
            # else reaches the model as raw bytes and fails validation. Say what is wrong.
            sent = request.headers.get("content-type") or "no Content-Type"
            return problem(415, "unsupported media type", f"this route takes a JSON body ({JSON_TYPES}); "
                           f"the request sent {sent}", type_="https://omnihub.dev/problems/unsupported_media_type",
                           errors=[{"field": "header.content-type", "message": f"expected {JSON_TYPES}, got {sent}"}],
                           instance=request.url.path, code="unsupported_media_type",
                           headers={"Accept-Post": "application/json"} if request.method == "POST" else None)
        errors = []
        for e in found:
            loc = tuple(e.get("loc", ()))
            errors.append({"field": field_path(loc[1:] if loc[:1] == ("body",) else loc),
                           "message": e.get("msg", "invalid")})
        return problem(422, "invalid request", "the request does not match the schema; see errors",
                       type_="https://omnihub.dev/problems/invalid_request", errors=errors,
                       instance=request.url.path, code="invalid_request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette names the first route's methods; the path has them all
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem(exc.status_code, str(exc.detail) if exc.status_code != 404 else "not found",
                       str(exc.detail), instance=request.url.path, headers=headers)

    @app.exception_handler(sa_exc.SQLAlchemyError)
    async def _database(request: Request, exc: sa_exc.SQLAlchemyError):
        # A restart of PostgreSQL cuts every session; the request's transaction is rolled
        # back with it, so 503 with Retry-After tells the client to send it again (an
        # Idempotency-Key keeps a retried write from applying twice).
        if database_unavailable(exc):
            return problem(503, "database unavailable", "the hub's database did not answer; nothing was written: "
                           f"try again in {DATABASE_RETRY_AFTER_S} s", type_="https://omnihub.dev/problems/database_unavailable",
                           instance=request.url.path, headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
                           code="database_unavailable", retry_after=DATABASE_RETRY_AFTER_S)
        return problem(500, "internal error", "the hub could not complete this request; nothing was half-written",
                       instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - last resort
        return problem(500, "internal error", "the hub could not complete this request; nothing was half-written",
                       instance=request.url.path)

