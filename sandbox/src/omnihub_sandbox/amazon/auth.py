"""Login with Amazon (LWA) token exchange and the ``x-amz-access-token`` check.

Since October 2023 SP-API needs no SigV4 signature: a call is authorised by an LWA
access token alone, obtained by trading the app's refresh token at ``/auth/o2/token``.
Tokens live one hour (``expires_in: 3600``) on the sandbox clock. LWA answers errors in
OAuth 2.0's shape (RFC 6749 section 5.2); SP-API answers a bad token with 403
``Unauthorized`` in its own error shape.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .context import SandboxContext, sandbox_of
from .errors import quota_exceeded, unauthorized
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
    sandbox = sandbox_of(request)
    cfg = sandbox.config
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
    if form.get("client_id") != cfg.lwa_client_id or form.get("client_secret") != cfg.lwa_client_secret:
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    if form.get("refresh_token") != cfg.lwa_refresh_token:
        return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")

    token = "Atza|" + secrets.token_urlsafe(48)
    expires_at = sandbox.now() + cfg.access_token_ttl_seconds
    with sandbox.store.tx() as db:
        db.execute("DELETE FROM access_tokens WHERE expires_at < ?", (sandbox.now() - 86400,))
        db.execute(
            "INSERT INTO access_tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
            (token, cfg.lwa_client_id, expires_at),
        )
    return JSONResponse(
        {
            "access_token": token,
            "refresh_token": cfg.lwa_refresh_token,
            "token_type": "bearer",
            "expires_in": cfg.access_token_ttl_seconds,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def authenticate(sandbox: SandboxContext, token: str | None) -> str:
    """Return the principal (app + seller) the token speaks for, or raise 403."""
    if not token:
        raise unauthorized()
    with sandbox.store.tx() as db:
        row = db.execute("SELECT client_id, expires_at FROM access_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise unauthorized(TOKEN_INVALID)
    if sandbox.now() >= row["expires_at"]:
        raise unauthorized(TOKEN_EXPIRED)
    return f"{row['client_id']}/{sandbox.config.seller_id}"


def operation(name: str):
    """Dependency for an SP-API operation: authenticate, then spend one usage-plan token.

    Order matters as on Amazon: a 403 is answered before the usage plan is looked up
    (it carries no rate-limit header); a 429 does carry it. The world is caught up to
    the current time first, so delayed transitions are visible to this call.
    """

    def guard(request: Request) -> SandboxContext:
        sandbox = sandbox_of(request)
        principal = authenticate(sandbox, request.headers.get("x-amz-access-token"))
        setattr(request.state, RATE_LIMIT_STATE_KEY, sandbox.limiter.header_value(name))
        if not sandbox.limiter.try_acquire(principal, name):
            raise quota_exceeded()
        from .lifecycle import catch_up  # late import: lifecycle imports the feature modules

        catch_up(sandbox)
        return sandbox

    guard.__name__ = f"operation_{name}"
    return Depends(guard)
