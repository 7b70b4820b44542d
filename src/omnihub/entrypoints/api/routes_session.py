"""Signing in and out with a password (the console's session), who am I, and changing
one's password. The bodies are JSON or an HTML form (`application/x-www-form-urlencoded`),
so a plain form can sign in.

A failed sign-in answers the same 401 whether the e-mail exists or not, after the same
argon2id work (services/users.py verifies a dummy hash); too many failures answer 429
with Retry-After (services/login_throttle.py) before any password is checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, ValidationError

from omnihub.domain.limits import NO_NUL_PATTERN
from omnihub.entrypoints.api.access import CurrentPrincipal, client_address
from omnihub.entrypoints.api.answers import SIGNED, problems
from omnihub.entrypoints.api.problems import JSON_TYPES, field_path, problem
from omnihub.entrypoints.api.request_guards import media_type, unsupported_media_type
from omnihub.entrypoints.api.schemas import Strict
from omnihub.entrypoints.api.session_cookie import clear_session_cookie, set_session_cookie
from omnihub.services.login_throttle import LoginThrottled
from omnihub.services.sessions import SignInRefused
from omnihub.services.users import UserError

public_router = APIRouter(tags=["session"])  # signing in: no principal yet
router = APIRouter(tags=["session"])

_Password = Annotated[str, Field(min_length=1, max_length=1024)]
_FORM = "application/x-www-form-urlencoded"


class SignIn(Strict):
    email: Annotated[str, Field(min_length=1, max_length=320, pattern=NO_NUL_PATTERN)]  # PostgreSQL refuses NUL
    password: _Password


class PasswordChange(Strict):
    current_password: _Password
    new_password: _Password


class SessionOut(BaseModel):
    kind: str = Field(description="user, token or local_admin")
    id: str
    name: str
    role: str
    locations: list[str]
    scopes: list[str]
    csrf_token: str | None = Field(None, description="send it back in X-CSRF-Token (or a csrf_token form field) "
                                                      "with every unsafe request made with the session cookie")
    expires_at: datetime | None = Field(None, description="when the session ends unless used before (idle), "
                                                          "or at its absolute end")


def _body_doc(model: type[BaseModel]) -> dict:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema},
                                                          _FORM: {"schema": schema}}}}


async def _read(request: Request, model: type[BaseModel]):
    """The body as `model`, from JSON or a form; or the problem to answer."""
    refusal = unsupported_media_type(request, "application/json", _FORM)
    if refusal is not None and not (media_type(request.headers.get("content-type")) or "").endswith("+json"):
        return refusal
    try:
        if media_type(request.headers.get("content-type")) == _FORM:
            form = await request.form()
            data = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        else:
            data = orjson.loads(await request.body())
        return model.model_validate(data)
    except orjson.JSONDecodeError as exc:
        return problem(400, "malformed JSON", f"the body is not valid JSON ({JSON_TYPES}): {exc}",
                       type_="https://omnihub.dev/problems/malformed_json", instance=request.url.path,
                       code="malformed_json")
    except ValidationError as exc:
        errors = [{"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
        return problem(422, "invalid request", "the request does not match the schema; see errors",
                       type_="https://omnihub.dev/problems/invalid_request", errors=errors,
                       instance=request.url.path, code="invalid_request")


def _out(principal, session=None) -> dict:
    return {"kind": principal.kind, "id": principal.id, "name": principal.name, "role": principal.role.value,
            "locations": sorted(principal.locations), "scopes": sorted(principal.scopes),
            "csrf_token": session.csrf_token if session else None,
            "expires_at": session.expires_at if session else None}


def _throttled(request: Request, exc: LoginThrottled):
    return problem(429, "too many failed sign-ins", f"{exc}; failed sign-ins to this account or from this address "
                   "wait longer after each one", type_="https://omnihub.dev/problems/sign_in_throttled",
                   instance=request.url.path, code="sign_in_throttled",
                   headers={"Retry-After": str(exc.retry_after_s)}, retry_after=exc.retry_after_s)


_THROTTLED: dict[int | str, dict[str, Any]] = {429: {**problems(429)[429], "headers": {"Retry-After": {"schema": {"type": "integer"},
                                                                 "description": "seconds"}}}}
_SIGN_IN_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"description": "signed in: the session cookie is set", "model": SessionOut},
                      **problems(400, 401, 413, 415, 422), **_THROTTLED}


@public_router.post("/session/login", response_model=SessionOut, responses=_SIGN_IN_RESPONSES,
                    openapi_extra=_body_doc(SignIn), summary="Sign in with e-mail and password (sets the session cookie)")
async def login(request: Request):
    body = await _read(request, SignIn)
    if not isinstance(body, SignIn):
        return body
    from starlette.concurrency import run_in_threadpool

    hub = request.app.state.hub
    try:
        session = await run_in_threadpool(hub.sessions.sign_in, body.email, body.password,
                                          address=client_address(request),
                                          user_agent=request.headers.get("user-agent", ""))
    except LoginThrottled as exc:
        return _throttled(request, exc)
    except SignInRefused:
        return problem(401, "sign-in refused", "wrong e-mail or password (or the account is disabled)",
                       type_="https://omnihub.dev/problems/sign_in_refused", instance=request.url.path,
                       code="sign_in_refused")
    request.state.principal = session.principal  # the audit trail names who signed in
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    response = JSONResponse(jsonable_encoder(_out(session.principal, session)))
    set_session_cookie(response, request, session)
    return response


@router.get("/session", response_model=SessionOut, responses=problems(*SIGNED), summary="Who am I: the principal of this request, and the "
            "session's CSRF token when it comes with the session cookie")
def current(request: Request, principal: CurrentPrincipal) -> dict:
    return _out(principal, getattr(request.state, "session", None))


@router.post("/session/logout", status_code=204, response_model=None, responses=problems(*SIGNED), summary="Sign out: the session is closed and its cookie cleared")
def logout(request: Request, response: Response, principal: CurrentPrincipal) -> Response:
    session = getattr(request.state, "session", None)
    if session is not None:
        request.app.state.hub.sessions.close(session.id)
    response = Response(status_code=204)
    clear_session_cookie(response, request)
    return response


@router.post("/session/password", status_code=204, openapi_extra=_body_doc(PasswordChange),
             response_model=None, responses={**problems(400, 401, 403, 413, 415, 422), **_THROTTLED},
             summary="Change one's password (the current one is needed); the user's other sessions are closed")
async def change_password(request: Request, principal: CurrentPrincipal):
    session = getattr(request.state, "session", None)
    if session is None:
        return problem(403, "a session is needed", "a password is changed signed in as its user (a session "
                       "cookie), not with an API token", type_="https://omnihub.dev/problems/session_required",
                       instance=request.url.path, code="session_required")
    body = await _read(request, PasswordChange)
    if not isinstance(body, PasswordChange):
        return body
    from starlette.concurrency import run_in_threadpool

    try:
        closed = await run_in_threadpool(request.app.state.hub.sessions.change_password, session,
                                         body.current_password, body.new_password)
    except LoginThrottled as exc:
        return _throttled(request, exc)
    except SignInRefused as exc:
        return problem(403, "current password wrong", str(exc), type_="https://omnihub.dev/problems/wrong_password",
                       errors=[{"field": "current_password", "message": str(exc)}], instance=request.url.path,
                       code="wrong_password")
    except UserError as exc:  # too weak
        return problem(422, "invalid password", str(exc), type_="https://omnihub.dev/problems/invalid_request",
                       errors=[{"field": "new_password", "message": str(exc)}], instance=request.url.path,
                       code="invalid_request")
    from omnihub.services.audit_trail import note_change

    note_change(target=f"user={principal.name}", action="session.change_password",
                after={"password": "changed"}, other_sessions_closed=closed)
    return Response(status_code=204)
