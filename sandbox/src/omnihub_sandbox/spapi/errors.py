"""SP-API's error shape, ``{"errors": [{"code", "message", "details"}]}``, and its statuses.

Every failure a simulator answers on an SP-API path goes through :class:`SpApiError`, so
a client sees the same body, status and headers it would see from Amazon, including
for requests FastAPI itself rejects (malformed JSON, unknown paths).

Models name their codes differently: Orders v0 says ``InvalidInput`` and ``NotFound`` where
the Listings Items API says ``BAD_REQUEST`` and ``NOT_FOUND``. An operation's guard may give
its model's names (``error_codes``), and the answer uses them; what the gateway itself
answers (``Unauthorized``, ``QuotaExceeded``) is the same for every API.

One model draws its errors otherwise: the Vendor Direct Fulfillment Transactions API
(2021-12-28) declares a single ``Error`` object for every status but 400. An operation
that says so (``error_shape="single"``, set by its guard) answers the error's fields at
the top level as well as in ``errors``, so that the body is what its model says and
still what Amazon's gateway sends every other client.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

ACCESS_DENIED = "Access to requested resource is denied."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."
ERROR_SHAPE_STATE_KEY = "amzn_error_shape"
ERROR_CODES_STATE_KEY = "amzn_error_codes"

ErrorShape = Literal["list", "single"]


class SpApiError(Exception):
    """An SP-API error answer: HTTP status plus one ``Error`` object."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def error(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def body(self, shape: ErrorShape = "list", codes: Mapping[str, str] | None = None) -> dict[str, Any]:
        error = self.error()
        if codes:
            error["code"] = codes.get(self.code, self.code)
        listed: dict[str, Any] = {"errors": [error]}
        return {**error, **listed} if shape == "single" else listed


def invalid_input(message: str, details: str = "") -> SpApiError:
    return SpApiError(400, "InvalidInput", message, details)


def invalid_request(message: str, details: str = "") -> SpApiError:
    """A bad query or path parameter, as the Vendor APIs answer it (``InvalidRequest``)."""
    return SpApiError(400, "InvalidRequest", message, details)


def not_found(message: str, details: str = "") -> SpApiError:
    return SpApiError(404, "NotFound", message, details)


def unauthorized(details: str = "") -> SpApiError:
    return SpApiError(403, "Unauthorized", ACCESS_DENIED, details)


def quota_exceeded() -> SpApiError:
    return SpApiError(429, "QuotaExceeded", QUOTA_EXCEEDED)


def unsupported_media_type(content_type: str) -> SpApiError:
    return SpApiError(415, "UnsupportedMediaType", "The request payload is in an unsupported format.",
                      f"Content-Type {content_type or '(none)'}: send application/json.")


def _body(request: Request, error: SpApiError) -> dict[str, Any]:
    shape: ErrorShape = getattr(request.state, ERROR_SHAPE_STATE_KEY, "list")
    return error.body(shape, getattr(request.state, ERROR_CODES_STATE_KEY, None))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in SP-API's shape."""

    @app.exception_handler(SpApiError)
    async def _sp_api_error(request: Request, exc: SpApiError) -> JSONResponse:
        return JSONResponse(_body(request, exc), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        err = invalid_input("Invalid input", f"{where}: {first.get('msg', 'invalid')}")
        return JSONResponse(_body(request, err), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            err = not_found("The requested resource was not found.")
        elif exc.status_code == 405:
            err = SpApiError(405, "MethodNotAllowed", "The HTTP method is not allowed for this resource.")
        else:
            err = SpApiError(exc.status_code, "InternalFailure", str(exc.detail))
        return JSONResponse(_body(request, err), status_code=exc.status_code)
