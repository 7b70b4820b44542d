"""Walmart's error shape, ``{"errors": [{code, field, description, info, severity, category,
causes, errorIdentifiers}]}``, for every failure the sandbox answers.

The fields are those of Walmart's Errors.xsd (the JSON API lists them under ``errors``
without the XML's ``error`` wrapper) plus ``message``, which today's error-code guide
shows; codes carry Walmart's service suffix as its own responses do
(``INVALID_REQUEST_HEADER.GMP_GATEWAY_API``): match on the part before the dot. Status,
category and severity follow Walmart's error-code table. Requests FastAPI itself refuses
(malformed JSON, unknown paths, wrong methods) are answered in the same shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

GATEWAY = "GMP_GATEWAY_API"
ORDERS = "GMP_ORDER_API"
INVENTORY = "GMP_INVENTORY_API"
FEEDS = "GMP_FEED_API"
WEBHOOKS = "GMP_NOTIFICATION_API"

#: code -> (HTTP status, category, severity), from Walmart's error-code table.
#: REQUEST_ENTITY_TOO_LARGE is the sandbox's name for its 413 (the table names none).
CODES: dict[str, tuple[int, str, str]] = {
    "INVALID_REQUEST": (400, "DATA", "ERROR"),
    "INVALID_REQUEST_HEADER": (400, "DATA", "ERROR"),
    "INVALID_REQUEST_PARAM": (400, "DATA", "ERROR"),
    "INVALID_REQUEST_CONTENT": (400, "DATA", "ERROR"),
    "MISSING_REQUEST_PARAM": (400, "DATA", "ERROR"),
    "MALFORMED_REQUEST_CONTENT": (400, "DATA", "ERROR"),
    "UNAUTHORIZED": (401, "DATA", "ERROR"),
    "CONTENT_NOT_FOUND": (404, "APPLICATION", "INFO"),
    "URI_NOT_FOUND": (404, "DATA", "ERROR"),
    "METHOD_NOT_ALLOWED": (405, "DATA", "ERROR"),
    "REQUEST_ENTITY_TOO_LARGE": (413, "DATA", "ERROR"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "DATA", "ERROR"),
    "REQUEST_THRESHOLD_VIOLATED": (429, "REQUEST", "ERROR"),
    "SYSTEM_ERROR": (500, "SYSTEM", "ERROR"),
}


class WalmartError(Exception):
    """One Walmart error answer: its code decides status, category and severity."""

    def __init__(self, code: str, description: str, *, field: str | None = None, service: str = GATEWAY,
                 info: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.status, self.category, self.severity = CODES[code]
        self.code = f"{code}.{service}"
        self.description = description
        self.field = field
        self.info = info or description
        self.headers = headers or {}

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": self.code}
        if self.field is not None:
            entry["field"] = self.field
        entry.update({"description": self.description, "info": self.info, "severity": self.severity,
                      "category": self.category, "causes": [], "errorIdentifiers": {}, "message": self.description})
        return entry

    def body(self) -> dict[str, Any]:
        return {"errors": [self.entry()]}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def missing_header(name: str) -> WalmartError:
    return WalmartError("INVALID_REQUEST_HEADER", f"{name} set blank or null", field=name,
                        info="One or more request headers are invalid.")


def unauthorized(description: str) -> WalmartError:
    return WalmartError("UNAUTHORIZED", description, field="UNAUTHORIZED",
                        info="Unauthorized token or token is expired")


def bad_param(name: str, description: str, service: str = GATEWAY) -> WalmartError:
    return WalmartError("INVALID_REQUEST_PARAM", description, field=name, service=service)


def bad_content(description: str, *, field: str | None = None, service: str = GATEWAY) -> WalmartError:
    return WalmartError("INVALID_REQUEST_CONTENT", description, field=field, service=service)


def not_found(description: str, service: str) -> WalmartError:
    return WalmartError("CONTENT_NOT_FOUND", description, service=service,
                        info="Requested content could not be found.")


def too_large(limit: int, what: str = "request") -> WalmartError:
    return WalmartError("REQUEST_ENTITY_TOO_LARGE", f"The {what} is larger than {limit} bytes.",
                        info="Payload too large.")


def throttled(retry_after_s: int) -> WalmartError:
    return WalmartError("REQUEST_THRESHOLD_VIOLATED", "Too many requests", info="Request threshold violated.",
                        headers={"Retry-After": str(retry_after_s)})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in Walmart's shape, including FastAPI's own refusals."""

    @app.exception_handler(WalmartError)
    async def _walmart_error(_: Request, exc: WalmartError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return bad_content(f"{where or 'request'}: {first.get('msg', 'invalid')}", field=where or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return WalmartError("URI_NOT_FOUND", "The requested URI was not found.").response()
        if exc.status_code == 405:
            return WalmartError("METHOD_NOT_ALLOWED", "The HTTP method is not allowed for this resource.").response()
        return WalmartError("SYSTEM_ERROR", str(exc.detail)).response()
