"""``POST /v3/token``: OAuth 2.0 client credentials, and the check of ``WM_SEC.ACCESS_TOKEN``.

A seller's app sends HTTP Basic of its client id and secret with
``grant_type=client_credentials`` and gets ``{access_token, token_type: "Bearer",
expires_in: 900}``: a token that lives 15 minutes on the sandbox clock. Every other call
carries it in ``WM_SEC.ACCESS_TOKEN``; a token the sandbox never issued, or one past its
15 minutes, is answered 401 UNAUTHORIZED in Walmart's error shape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .context import SandboxContext, sandbox_of
from .errors import WalmartError, bad_param, missing_header, throttled, unauthorized
from .response_headers import RATE_STATE_KEY

router = APIRouter()

REQUIRED_ON_TOKEN = ("WM_SVC.NAME", "WM_QOS.CORRELATION_ID")
TOKEN_EXPIRED = "The access token has expired."
TOKEN_INVALID = "The access token is not valid."


def require_headers(request: Request, names: tuple[str, ...]) -> None:
    for name in names:
        if not request.headers.get(name, "").strip():
            raise missing_header(name)


def _basic_credentials(request: Request) -> tuple[str, str]:
    raw = request.headers.get("authorization", "")
    if not raw.strip():
        raise missing_header("Authorization")
    scheme, _, value = raw.partition(" ")
    if scheme.lower() != "basic":
        raise unauthorized("The Authorization header must be HTTP Basic of the client id and secret.")
    try:
        client_id, sep, client_secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("The Authorization header is not valid Base64.") from None
    if not sep:
        raise unauthorized("The Authorization header must encode clientId:clientSecret.")
    return client_id, client_secret


@router.post("/v3/token")
async def issue_token(request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    cfg = sandbox.config
    require_headers(request, REQUIRED_ON_TOKEN)
    client_id, client_secret = _basic_credentials(request)
    if not (hmac.compare_digest(client_id, cfg.client_id) and hmac.compare_digest(client_secret, cfg.client_secret)):
        raise unauthorized("The client id or client secret is wrong.")
    state = sandbox.limiter.take(client_id, "token")
    setattr(request.state, RATE_STATE_KEY, (state.tokens_left, int(state.next_replenishment * 1000)))
    if not state.allowed:
        raise throttled(max(1, int(state.retry_after + 0.999)))
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise WalmartError("UNSUPPORTED_MEDIA_TYPE", "The token request must be application/x-www-form-urlencoded.")
    form = await request.form()
    grant_type = form.get("grant_type")
    if grant_type != "client_credentials":
        raise bad_param("grant_type", f"grant_type must be client_credentials, not {grant_type!r}.")
    token = "eyJraWQiOiJzYW5kYm94In0." + secrets.token_urlsafe(96)
    now = sandbox.now()
    with sandbox.store.tx() as db:
        db.execute("DELETE FROM access_tokens WHERE expires_at < ?", (now - 86400,))
        db.execute("INSERT INTO access_tokens (token, expires_at) VALUES (?, ?)",
                   (token, now + cfg.access_token_ttl_seconds))
    sandbox.store.bump("tokens_issued")
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": cfg.access_token_ttl_seconds},
                        headers={"Cache-Control": "no-store"})


def authenticate(sandbox: SandboxContext, token: str) -> str:
    """The client the token was issued to, or 401 (unknown or expired)."""
    with sandbox.store.tx() as db:
        row = db.execute("SELECT expires_at FROM access_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise unauthorized(TOKEN_INVALID)
    if sandbox.now() >= row["expires_at"]:
        raise unauthorized(TOKEN_EXPIRED)
    return sandbox.config.client_id
