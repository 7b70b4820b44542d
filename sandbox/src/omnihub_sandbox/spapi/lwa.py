"""Login with Amazon (LWA) token exchange and the ``x-amz-access-token`` check.

Since October 2023 SP-API needs no SigV4 signature: a call is authorised by an LWA
access token alone, obtained by trading the app's refresh token at ``/auth/o2/token``.
Tokens live one hour (``expires_in: 3600``) on the sandbox clock. LWA answers errors in
OAuth 2.0's shape (RFC 6749 section 5.2); SP-API answers a bad token with 403
``Unauthorized`` in its own error shape. Grantless operations (the Notifications API's
destinations) take a token of the ``client_credentials`` grant for their scope instead:
the app's own, no selling partner's. Seller and vendor accounts authorise alike;
each simulator keeps the tokens it issued in its own file (``access_tokens``).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal, Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .account import SpApiAccount, account_of
from .errors import ERROR_CODES_STATE_KEY, ERROR_SHAPE_STATE_KEY, ErrorShape, quota_exceeded, unauthorized
from .response_headers import RATE_LIMIT_STATE_KEY
from .restricted_data import DATA_ELEMENTS_STATE_KEY, RDT_PREFIX, grant

router = APIRouter()

TOKEN_INVALID = "The access token you provided is revoked, malformed or invalid."
TOKEN_EXPIRED = "The access token you provided has expired."
#: The scopes of grantless operations (an app's own calls, with no selling partner's grant).
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
GRANTLESS_SCOPES = frozenset({NOTIFICATIONS_SCOPE})

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
    if grant_type == "client_credentials":
        return _grantless_token(account, form)
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


Restriction = Literal["withholds", "required"]


def _grantless_token(account: SpApiAccount, form: Any) -> JSONResponse:
    """A grantless token: the app's own (no selling partner's authorisation), for one scope."""
    app = account.lwa
    scope = form.get("scope")
    if not form.get("client_id"):
        return _lwa_error(400, "invalid_request", "The request is missing a required parameter : client_id")
    if form.get("client_id") != app.lwa_client_id or form.get("client_secret") != app.lwa_client_secret:
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    if not scope:
        return _lwa_error(400, "invalid_request", "The request is missing a required parameter : scope")
    if scope not in GRANTLESS_SCOPES:
        return _lwa_error(400, "invalid_scope", "The request has an invalid parameter : scope")
    token = "Atc|" + secrets.token_urlsafe(48)
    with account.store.tx() as db:
        db.execute("DELETE FROM grantless_tokens WHERE expires_at < ?", (account.now() - 86400,))
        db.execute("INSERT INTO grantless_tokens (token, client_id, scope, expires_at) VALUES (?, ?, ?, ?)",
                   (token, app.lwa_client_id, scope, account.now() + app.access_token_ttl_seconds))
    return JSONResponse({"access_token": token, "scope": scope, "token_type": "bearer",
                         "expires_in": app.access_token_ttl_seconds},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def authenticate_grantless(account: SpApiAccount, token: str | None, scope: str) -> str:
    """The app a grantless token speaks for (its scope must be the operation's), or 403."""
    if not token:
        raise unauthorized()
    with account.store.tx() as db:
        row = db.execute("SELECT * FROM grantless_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise unauthorized("This operation is grantless: call it with a token of the client_credentials grant "
                           f"and scope {scope}.")
    if account.now() >= row["expires_at"]:
        raise unauthorized(TOKEN_EXPIRED)
    if row["scope"] != scope:
        raise unauthorized(f"The token's scope is {row['scope']}, not {scope}.")
    return f"{row['client_id']}/grantless"


def authenticate(account: SpApiAccount, token: str | None, method: str = "GET", path: str = "",
                 restricted: Restriction | None = None) -> tuple[str, frozenset[str]]:
    """The principal (app + selling partner) the token speaks for and the data elements it
    opens (:mod:`.restricted_data`), or 403. A Restricted Data Token opens only the
    restricted resources it was made for; an LWA token opens none of them."""
    if not token:
        raise unauthorized()
    if token.startswith(RDT_PREFIX):
        with account.store.tx() as db:
            row = db.execute("SELECT * FROM restricted_tokens WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise unauthorized(TOKEN_INVALID)
        if account.now() >= row["expires_at"]:
            raise unauthorized(TOKEN_EXPIRED)
        elements = grant(account, row, method, path) if restricted else None
        if elements is None:
            raise unauthorized("The Restricted Data Token does not cover this request: ask for one for this "
                               "method and path.")
        return f"{row['client_id']}/{account.selling_partner_id}", elements
    with account.store.tx() as db:
        row = db.execute("SELECT client_id, expires_at FROM access_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        with account.store.tx() as db:
            grantless_row = db.execute("SELECT scope FROM grantless_tokens WHERE token = ?", (token,)).fetchone()
        raise unauthorized("A grantless token is for grantless operations only." if grantless_row else TOKEN_INVALID)
    if account.now() >= row["expires_at"]:
        raise unauthorized(TOKEN_EXPIRED)
    if restricted == "required":
        raise unauthorized("This operation returns personal data: call it with a Restricted Data Token "
                           "(Tokens API createRestrictedDataToken).")
    return f"{row['client_id']}/{account.selling_partner_id}", frozenset()


def operation_guard(request: Request, name: str, *, rate_limited: bool = True, error_shape: ErrorShape = "list",
                    error_codes: Mapping[str, str] | None = None, restricted: Restriction | None = None,
                    grantless: str | None = None) -> SpApiAccount:
    """Authenticate, then spend one usage-plan token; return the account (see :func:`operation`)."""
    account = account_of(request)
    setattr(request.state, ERROR_SHAPE_STATE_KEY, error_shape)
    if error_codes:
        setattr(request.state, ERROR_CODES_STATE_KEY, error_codes)
    token = request.headers.get("x-amz-access-token")
    if grantless:
        principal, elements = authenticate_grantless(account, token, grantless), frozenset[str]()
    else:
        principal, elements = authenticate(account, token, request.method, request.url.path, restricted)
    setattr(request.state, DATA_ELEMENTS_STATE_KEY, elements)
    if rate_limited:
        setattr(request.state, RATE_LIMIT_STATE_KEY, account.limiter.header_value(name))
        if not account.limiter.try_acquire(principal, name):
            raise quota_exceeded()
    account.catch_up()
    return account


def data_elements(request: Request) -> frozenset[str]:
    """The data elements this request's Restricted Data Token opened (none for an LWA token)."""
    elements: frozenset[str] = getattr(request.state, DATA_ELEMENTS_STATE_KEY, frozenset())
    return elements


def operation(name: str, *, rate_limited: bool = True, error_shape: ErrorShape = "list",
              error_codes: Mapping[str, str] | None = None, restricted: Restriction | None = None,
              grantless: str | None = None) -> Any:
    """Dependency for an SP-API operation: authenticate, then spend one usage-plan token.

    Order matters as on Amazon: a 403 is answered before the usage plan is looked up
    (it carries no rate-limit header); a 429 does carry it. The world is caught up to
    the current time first, so delayed transitions are visible to this call. An
    operation whose model publishes no usage plan (``rate_limited=False``) is not
    throttled and carries no ``x-amzn-RateLimit-Limit``. ``error_shape`` is how the
    operation's model draws its errors and ``error_codes`` the names its model gives the
    codes (:mod:`.errors`). ``restricted``: the operation is a restricted one, which
    ``"withholds"`` personal data from an LWA token or ``"required"`` a Restricted Data
    Token (:mod:`.restricted_data`). ``grantless``: the operation is the app's own, called with
    a token of the client_credentials grant for that scope (never a selling partner's).
    """

    def guard(request: Request) -> SpApiAccount:
        return operation_guard(request, name, rate_limited=rate_limited, error_shape=error_shape,
                               error_codes=error_codes, restricted=restricted, grantless=grantless)

    guard.__name__ = f"operation_{name}"
    return Depends(guard)
