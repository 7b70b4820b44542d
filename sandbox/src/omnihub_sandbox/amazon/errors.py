"""SP-API's error shape, ``{"errors": [{"code", "message", "details"}]}``, and its statuses.

Every failure the sandbox answers on an SP-API path goes through :class:`SpApiError`, so
a client sees the same body, status and headers it would see from Amazon, including
for requests FastAPI itself rejects (malformed JSON, unknown paths).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

ACCESS_DENIED = "Access to requested resource is denied."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."


class SpApiError(Exception):
    """An SP-API error answer: HTTP status plus one ``Error`` object."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid_input(message: str, details: str = "") -> SpApiError:
    return SpApiError(400, "InvalidInput", message, details)


def not_found(message: str, details: str = "") -> SpApiError:
    return SpApiError(404, "NotFound", message, details)


def unauthorized(details: str = "") -> SpApiError:
    return SpApiError(403, "Unauthorized", ACCESS_DENIED, details)


def quota_exceeded() -> SpApiError:
    return SpApiError(429, "QuotaExceeded", QUOTA_EXCEEDED)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in SP-API's shape."""

    @app.exception_handler(SpApiError)
    async def _sp_api_error(_: Request, exc: SpApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        err = invalid_input("Invalid input", f"{where}: {first.get('msg', 'invalid')}")
        return JSONResponse(err.body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            err = not_found("The requested resource was not found.")
        elif exc.status_code == 405:
            err = SpApiError(405, "MethodNotAllowed", "The HTTP method is not allowed for this resource.")
        else:
            err = SpApiError(exc.status_code, "InternalFailure", str(exc.detail))
        return JSONResponse(err.body(), status_code=exc.status_code)
