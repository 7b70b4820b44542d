"""CSRF protection for what a browser sends with the session cookie.

The cross-site guard (request_guards.py) already refuses unsafe requests a browser says
come from another site; this is the layer above it, for the console's sessions, which
does not depend on the browser telling the truth about where a request comes from. An
unsafe request (anything but GET, HEAD, OPTIONS) that carries the session cookie must
also carry the session's CSRF token (services/sessions.py: derived from the cookie's
id), in the `X-CSRF-Token` header or, from an HTML form, a `csrf_token` field. A page of
another site can make the browser send the cookie but cannot read the token. Otherwise:
403 problem+json (`csrf_token_missing` / `csrf_token_mismatch`).

Exempt: requests with an `Authorization` header (a bearer token is never sent by a
browser on its own, and it is what the request authenticates with), requests without
the cookie (nothing for a forger to ride on), and the sign-in itself (a stale cookie
must not stop anyone from signing in again; the cross-site guard covers it).

No database here: the expected token is computed from the cookie's value; whether the
session is open is the resolver's question (401 if not).
"""

from __future__ import annotations

import html

from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse

from omnihub.entrypoints.api.access import SESSION_COOKIE
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.request_guards import SAFE_METHODS, media_type
from omnihub.services.sessions import csrf_matches

HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
EXEMPT_PATHS = frozenset({"/api/v1/session/login", "/console/login"})
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def session_cookie(headers: dict[str, str]) -> str | None:
    raw = headers.get("cookie")
    return (cookie_parser(raw).get(SESSION_COOKIE) or None) if raw else None


class SessionCsrf:
    """ASGI middleware: the check of the module's docstring."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method", "GET").upper() in SAFE_METHODS \
                or scope.get("path") in EXEMPT_PATHS:
            return await self.app(scope, receive, send)
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        session_id = session_cookie(headers)
        if session_id is None or "authorization" in headers:
            return await self.app(scope, receive, send)
        sent = headers.get(HEADER)
        if sent is None and media_type(headers.get("content-type")) in _FORMS:
            receive, sent = await _form_field(scope, receive)
        if csrf_matches(session_id, sent):
            return await self.app(scope, receive, send)
        code = "csrf_token_missing" if not sent else "csrf_token_mismatch"
        said = "carries no CSRF token" if not sent else "carries a CSRF token that is not its session's"
        if str(scope.get("path", "")).startswith("/console/"):
            return await _page_refusal(said)(scope, receive, send)
        refusal = problem(403, "CSRF token required", f"this {scope.get('method')} is signed in by the session cookie and "
                          f"{said}: send the session's csrf_token (GET /api/v1/session) in the X-CSRF-Token header "
                          f"or a csrf_token form field",
                          type_=f"https://omnihub.dev/problems/{code}", instance=scope.get("path"), code=code,
                          errors=[{"field": "header.x-csrf-token", "message": said}])
        return await refusal(scope, receive, send)


def _page_refusal(said: str) -> HTMLResponse:
    """A console form's refusal, as a page a person can read (no session data in it)."""
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Form expired · omnihub</title>"
        "<link rel=stylesheet href=/console/static/console.css></head><body><main id=main><h1>This form has expired</h1>"
        f"<p class=error role=alert>The form {html.escape(said)}: it was not sent by this session's page. "
        "Nothing was changed.</p><p><a href=/console/>Back to the console</a></p></main></body></html>",
        status_code=403, headers={"Content-Security-Policy": "default-src 'none'; style-src 'self'",
                                  "Cache-Control": "no-store"})


async def _form_field(scope, receive):
    """Read the form (the body is bounded by BodyLimit, outside this), take its
    csrf_token, and hand the route a receive that replays the same body."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, replay).form()
        value = form.get(FORM_FIELD)
        sent = value if isinstance(value, str) else None
        await form.close()
    except Exception:  # not a form after all: no token in it
        sent = None
    replayed = False

    async def receive_again():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again, sent
