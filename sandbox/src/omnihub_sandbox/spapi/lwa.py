"""Login with Amazon (LWA) token exchange and the ``x-amz-access-token`` check.

Since October 2023 SP-API needs no SigV4 signature: a call is authorised by an LWA
access token alone, obtained by trading the app's refresh token at ``/auth/o2/token``.
Tokens live one hour (``expires_in: 3600``) on the sandbox clock. LWA answers errors in
OAuth 2.0's shape (RFC 6749 section 5.2); SP-API answers a bad token with 403
``Unauthorized`` in its own error shape. Seller and vendor accounts authorise alike;
each simulator keeps the tokens it issued in its own file (``access_tokens``).
"""

from __future__ import annotations

import secrets
from typing import Any, Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .account import SpApiAccount, account_of
from .errors import ERROR_CODES_STATE_KEY, ERROR_SHAPE_STATE_KEY, ErrorShape, quota_exceeded, unauthorized
from .response_headers import RATE_LIMIT_STATE_KEY

router = APIRouter()

TOKEN_INVALID = "The access token you provided is revoked, malformed or invalid."
TOKEN_EXPIRED = "The access token you provided has expired."

def _lwa_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error_description": description, "error": error},
        status_code=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post("/auth/o2/token")
async def exchange_token(request: Request) -> JSONResponse:
    """Trade a refresh token for a one-hour access token."""
    account = account_of(request)
    app = account.lwa
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _lwa_error(400, "invalid_request", "The request must be application/x-www-form-urlencoded")
    form = await request.form()
    grant_type = form.get("grant_type")
    if not grant_type:
        return _lwa_error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type != "refresh_token":
        return _lwa_error(400, "unsupported_grant_type", f"The authorization grant type is not supported : {grant_type}")
    for name in ("refresh_token", "client_id"):
        if not form.get(name):
            return _lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
    if form.get("client_id") != app.lwa_client_id or form.get("client_secret") != app.lwa_client_secret:
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    if form.get("refresh_token") != app.lwa_refresh_token:
        return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")

    token = "Atza|" + secrets.token_urlsafe(48)
    expires_at = account.now() + app.access_token_ttl_seconds
    with account.store.tx() as db:
        db.execute("DELETE FROM access_tokens WHERE expires_at < ?", (account.now() - 86400,))
        db.execute(
            "INSERT INTO access_tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
            (token, app.lwa_client_id, expires_at),
        )
    return JSONResponse(
        {
            "access_token": token,
            "refresh_token": app.lwa_refresh_token,
            "token_type": "bearer",
            "expires_in": app.access_token_ttl_seconds,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def authenticate(account: SpApiAccount, token: str | None) -> str:
    """Return the principal (app + selling partner) the token speaks for, or raise 403."""
    if not token:
        raise unauthorized()
    with account.store.tx() as db:
        row = db.execute("SELECT client_id, expires_at FROM access_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise unauthorized(TOKEN_INVALID)
    if account.now() >= row["expires_at"]:
        raise unauthorized(TOKEN_EXPIRED)
    return f"{row['client_id']}/{account.selling_partner_id}"


def operation(name: str, *, rate_limited: bool = True, error_shape: ErrorShape = "list",
              error_codes: Mapping[str, str] | None = None) -> Any:
    """Dependency for an SP-API operation: authenticate, then spend one usage-plan token.

    Order matters as on Amazon: a 403 is answered before the usage plan is looked up
    (it carries no rate-limit header); a 429 does carry it. The world is caught up to
    the current time first, so delayed transitions are visible to this call. An
    operation whose model publishes no usage plan (``rate_limited=False``) is not
    throttled and carries no ``x-amzn-RateLimit-Limit``. ``error_shape`` is how the
    operation's model draws its errors and ``error_codes`` the names its model gives the
    codes (:mod:`.errors`).
    """

    def guard(request: Request) -> SpApiAccount:
        account = account_of(request)
        setattr(request.state, ERROR_SHAPE_STATE_KEY, error_shape)
        if error_codes:
            setattr(request.state, ERROR_CODES_STATE_KEY, error_codes)
        principal = authenticate(account, request.headers.get("x-amz-access-token"))
        if rate_limited:
            setattr(request.state, RATE_LIMIT_STATE_KEY, account.limiter.header_value(name))
            if not account.limiter.try_acquire(principal, name):
                raise quota_exceeded()
        account.catch_up()
        return account

    guard.__name__ = f"operation_{name}"
    return Depends(guard)
