"""Who may open a console page: the API's own resolver and rules (entrypoints/api/access.py
and access_policy.py, where every console route has its decision), answered as a browser
needs it.

- No credentials, or dead ones (signed out, expired, a disabled user): 303 to the sign-in
  page, which comes back to the page asked for once signed in.
- The same, asked by htmx for a part of a page it refreshes (HX-Request): 401 with
  HX-Redirect to the sign-in page, which htmx follows with the whole page.
- Signed in, but the role may not use the page (or not at that location): 403 with an
  HTML page that says what the role may not do, inside the console's layout.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from omnihub.domain.access import Principal
from omnihub.entrypoints.api import access

LOGIN = "/console/login"


class PageRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def back_to(request: Request) -> str:
    """Where to come back after signing in: this page, if it is a page (GET)."""
    if request.method != "GET" or not request.url.path.startswith("/console/"):
        return "/console/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def page_principal(request: Request) -> Principal:
    """The principal of a console request, checked against the route's rule."""
    bearer = await access.BEARER(request)
    session = await access.SESSION(request)
    try:
        return await access.authorize(request, bearer, session)
    except access.AccessDenied as exc:
        raise PageRefused(exc.status, exc.detail) from None


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def install(app: FastAPI) -> None:
    @app.exception_handler(PageRefused)
    async def _refused(request: Request, exc: PageRefused):
        if exc.status == 401 and request.headers.get("hx-request") == "true":
            # a part of a page htmx refreshes: the whole page goes to the sign-in (HX-Redirect),
            # rather than the sign-in form being swapped into the part
            where = f"{LOGIN}?next={quote(back_to(request).split('?', 1)[0], safe='/')}"
            return Response(status_code=401, headers={"HX-Redirect": where, "Cache-Control": "no-store"})
        if exc.status == 401:
            return RedirectResponse(f"{LOGIN}?next={quote(back_to(request), safe='/')}", status_code=303)
        from omnihub.entrypoints.console.pages import render

        return render(request, "refused.html", {"detail": exc.detail, "title": "Not for your role"}, status_code=403)
