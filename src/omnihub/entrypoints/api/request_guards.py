"""What a browser must not be able to make the hub do: the checks every request passes
before any route sees it, and the media-type check of the routes that read a raw body.

A hub listening on loopback is reachable from every web page the operator opens: a page
cannot read the hub's answers (no CORS headers are ever sent), but it can send "simple"
requests (GET, HEAD, and POST with no body or a text/plain, form or multipart body, or a
body with no Content-Type at all) and the browser delivers them. Two guards, in order:

1. **Host** (`allowed_hosts` in the settings, loopback names by default, plus what
   `omnihub serve --host` binds to): another Host is 400 problem+json. Under DNS rebinding
   a page's own name resolves to 127.0.0.1, so its requests reach the hub as same-origin
   ones; their Host header is still the attacker's name, which is what gives them away.
   (Starlette's TrustedHostMiddleware answers text/plain; this one speaks problem+json.)
2. **Cross-site writes**: a request with any method but GET, HEAD and OPTIONS is refused
   (403 problem+json) when the browser says it comes from elsewhere: `Sec-Fetch-Site`
   other than `same-origin` or `none` (`same-site` is refused too: another port on
   localhost is the same site), or an `Origin` whose host and port are not the request's
   Host (`Origin: null` from sandboxed frames included). Why these headers rather than
   requiring a non-simple one (a JSON Content-Type, a custom header) on body-less POSTs:
   both are forbidden header names, so a page can neither forge nor remove them, and
   every browser in use sends at least `Origin` on a cross-origin POST; clients that are
   not browsers (curl, the CLI, the channels' webhook senders, the tests) send neither
   and are unaffected, where a required header would break every plain `POST .../retry`
   they make. The access-control work will add sessions and CSRF tokens for the console;
   this stays as the layer under them.

Each body is then read only as its declared media type: JSON routes answer 415 for
anything else, a body without a Content-Type included (FastAPI and problems.py); routes
that read raw bytes (the CSV snapshot, the webhooks) call `unsupported_media_type` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from omnihub.entrypoints.api.problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BROWSER_SAME_ORIGIN = frozenset({"same-origin", "none"})


def host_name(value: str) -> str:
    """The host of a Host header or netloc, lowercased, without port or IPv6 brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    name = host_name(host)
    if not name:
        return False
    for pattern in patterns:
        pattern = host_name(pattern) if not pattern.startswith("*") else pattern.lower()
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


def media_type(content_type: str | None) -> str | None:
    """`text/csv; charset=utf-8` → `text/csv`; None when no Content-Type was sent."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def unsupported_media_type(request: Request, *accepted: str) -> Response | None:
    """415 problem+json unless the request declares one of `accepted` (a raw-body route
    calls this before it reads the body); None when the body may be read."""
    sent = media_type(request.headers.get("content-type"))
    if sent in accepted:
        return None
    wanted = " or ".join(accepted)
    shown = request.headers.get("content-type") or "no Content-Type"
    headers = {"Accept-Post": ", ".join(accepted)} if request.method == "POST" else None
    return problem(415, "unsupported media type", f"this route takes a {wanted} body; the request sent {shown}",
                   type_="https://omnihub.dev/problems/unsupported_media_type",
                   errors=[{"field": "header.content-type", "message": f"expected {wanted}, got {shown}"}],
                   instance=request.url.path, code="unsupported_media_type", headers=headers)


class RequestGuards:
    """ASGI middleware: the Host and cross-site guards of the module's docstring, before
    anything else runs."""

    def __init__(self, app, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = tuple(dict.fromkeys(allowed_hosts))

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await refusal(scope, receive, send)
        return await self.app(scope, receive, send)

    def _refusal(self, scope, headers: dict[str, str]) -> Response | None:
        path = scope.get("path")
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed_hosts):
            return problem(400, "host not allowed",
                           f"this hub does not answer to the Host {host_name(host) or '(none)'!r}; add it to the "
                           "allowed_hosts setting if the hub is meant to be reached under that name",
                           type_="https://omnihub.dev/problems/host_not_allowed",
                           errors=[{"field": "header.host", "message": "not in allowed_hosts"}],
                           instance=path, code="host_not_allowed")
        method = scope.get("method", "GET").upper()
        if scope["type"] != "http" or method in SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site")
        origin = headers.get("origin")
        cross_site = (site is not None and site.strip().lower() not in _BROWSER_SAME_ORIGIN) or (
            origin is not None and (origin.strip().lower() == "null" or
                                    urlsplit(origin.strip()).netloc.lower() != host.strip().lower()))
        if cross_site:
            said = f"Sec-Fetch-Site: {site}" if site is not None else f"Origin: {origin}"
            return problem(403, "cross-site request refused",
                           f"a browser sent this {method} from another site ({said}); the hub takes writes only "
                           "from its own pages and from clients that are not browsers",
                           type_="https://omnihub.dev/problems/cross_site_request",
                           instance=path, code="cross_site_request")
        return None
