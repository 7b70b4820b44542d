"""The session cookie: how it is set and cleared (the principal it names: access.py).

`HttpOnly` (no script reads it), `SameSite` (Lax by default: a link from elsewhere opens
the console signed in, but no other site's form or script sends it along; Strict if the
settings say so), `Path=/`, no `Domain` (this host only), no `Max-Age` (it goes when
the browser closes; the hub ends it sooner, see services/sessions.py) and `Secure`
(browsers return it over HTTPS only). `session_cookie_secure = false` turns Secure off
for plain-http development on loopback; a request that reaches the hub under any other
name gets a Secure cookie anyway, so a hub reached over plain http from another machine
has no working sign-in rather than a cookie on the wire.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from omnihub.entrypoints.api.access import SESSION_COOKIE
from omnihub.entrypoints.api.request_guards import host_name
from omnihub.services.sessions import OpenSession
from omnihub.settings import LOOPBACK_HOSTS


def secure_cookie(request: Request) -> bool:
    settings = request.app.state.hub.settings
    return settings.session_cookie_secure or host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS


def set_session_cookie(response: Response, request: Request, session: OpenSession) -> None:
    response.set_cookie(SESSION_COOKIE, session.id, path="/", secure=secure_cookie(request), httponly=True,
                        samesite=request.app.state.hub.settings.session_cookie_samesite)


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookie(request), httponly=True,
                           samesite=request.app.state.hub.settings.session_cookie_samesite)
