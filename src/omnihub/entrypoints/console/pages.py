"""Rendering a console page: the Jinja2 templates (autoescaped), what every page is given
(who is signed in, the session's CSRF token, the links of their role), and the headers
every page carries.

The Content-Security-Policy allows scripts, styles, images and connections from the hub
only, no inline script or style and no eval (htmx is told not to add its own style or
evaluate anything, see layout.html), no frames, forms posting only to the hub: an
injected string that escaped the templates' escaping would still run nothing.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from omnihub.entrypoints.console.navigation import links_for

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages hold stock and customers' data: never kept by the browser
}


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if value.utcoffset() is not None else "")
    return "" if value is None else str(value)


def _money(minor: Any, currency: str = "") -> str:
    if minor is None:
        return ""
    return f"{int(minor) / 100:,.2f} {currency}".strip()


def _seconds(value: float) -> str:
    if value < 1:
        return "0 s" if value == 0 else "< 1 s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("omnihub.entrypoints.console") / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=_when, money=_money, seconds=_seconds)
    return env


templates = Jinja2Templates(env=_environment())


def csrf_of(request: Request) -> str | None:
    session = getattr(request.state, "session", None)
    return session.csrf_token if session is not None else None


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    principal = getattr(request.state, "principal", None)
    ctx = {"principal": principal, "csrf": csrf_of(request), "links": links_for(principal) if principal else [],
           "path": request.url.path, "title": "", **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=HEADERS)
