"""Signing in and out of the console, with the sessions of services/sessions.py.

The sign-in form posts e-mail and password; the answer sets the same session cookie as
the API's sign-in and goes (303) to the page asked for, or to the first page of the
role. It carries no CSRF token (there is no session yet): the cross-site guard refuses a
post from another site's page, and failed sign-ins are throttled per account and per
address as for the API (429 with the wait). Signing out is a form post with the
session's CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.entrypoints.api.access import client_address
from omnihub.entrypoints.api.session_cookie import clear_session_cookie, set_session_cookie
from omnihub.entrypoints.console.forms import read_form
from omnihub.entrypoints.console.navigation import home_of
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services.login_throttle import LoginThrottled
from omnihub.services.sessions import SignInRefused

public_router = APIRouter(include_in_schema=False)
router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str | None:
    """A page of the console to come back to; never another site (`//evil`, `https:`)."""
    if not target or not target.startswith("/console/") or target.startswith("//") or "\\" in target:
        return None
    return target[:2000]


@public_router.get("/")
def root() -> Response:
    return RedirectResponse("/console/", status_code=303)


@public_router.get("/console/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"title": "Sign in", "next": safe_next(next) or "", "error": None, "email": ""})


@public_router.post("/console/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    email, password, next = form.get("email", "")[:320], form.get("password", ""), form.get("next", "")
    def again(error: str, status: int, headers: dict[str, str] | None = None) -> Response:
        page = render(request, "login.html", {"title": "Sign in", "next": safe_next(next) or "", "error": error,
                                              "email": email}, status_code=status)
        page.headers.update(headers or {})
        return page

    if not email or not password or "\x00" in email:
        return again("Enter your e-mail and password.", 422)
    hub = request.app.state.hub
    try:
        session = await run_in_threadpool(hub.sessions.sign_in, email, password, address=client_address(request),
                                          user_agent=request.headers.get("user-agent", ""))
    except LoginThrottled as exc:
        return again(f"Too many failed sign-ins: try again in {exc.retry_after_s} s.", 429,
                     {"Retry-After": str(exc.retry_after_s)})
    except SignInRefused:
        return again("Wrong e-mail or password, or the account is disabled.", 401)
    request.state.principal = session.principal  # the audit trail names who signed in
    response = RedirectResponse(safe_next(next) or home_of(session.principal), status_code=303)
    set_session_cookie(response, request, session)
    return response


@router.post("/console/logout")
def logout(request: Request, principal: PagePrincipal) -> Response:
    session = getattr(request.state, "session", None)
    if session is not None:
        request.app.state.hub.sessions.close(session.id)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookie(response, request)
    return response
