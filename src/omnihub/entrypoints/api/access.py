"""The request resolver: who is calling (a bearer token, or a person's session), and may
they call this route here.

`authorize` is one FastAPI dependency on every router that is not public (app.py). It
turns the request into a `Principal`, puts it on `request.state.principal`, and enforces
the route's rule from access_policy.py:

- 401 problem+json with `WWW-Authenticate: Bearer` when there are no credentials or they
  are not good (unknown, revoked, expired, a disabled user's session);
- 403 problem+json when the principal may not use the route's permission, at the
  location (or for the channel) the request names.

A token is verified by services/api_tokens.py from its cache (microseconds; a revocation
in this process holds from the next request, in another within its 5 s TTL). Checking
costs nothing more for a principal not bound to locations; a location-bound one on an
order route costs one read of the order's assignments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import LOCATION_SCOPED, Permission, Principal
from omnihub.entrypoints.api.access_policy import Rule
from omnihub.entrypoints.api.problems import problem
from omnihub.services import order_queries

SESSION_COOKIE = "omnihub_session"
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API token (`omnihub tokens create`), as `Authorization: Bearer ohk_...`")
SESSION = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                       description="A person's session, set by signing in with a password")


class AccessDenied(Exception):
    def __init__(self, status: int, title: str, detail: str, code: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code


def unauthenticated(detail: str = "this route needs a bearer token or a session") -> AccessDenied:
    return AccessDenied(401, "not authenticated", detail, "not_authenticated")


def install(app: FastAPI) -> None:
    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied):
        headers = {"WWW-Authenticate": 'Bearer realm="omnihub"'} if exc.status == 401 else None
        return problem(exc.status, exc.title, exc.detail, type_=f"https://omnihub.dev/problems/{exc.code}",
                       instance=request.url.path, code=exc.code, headers=headers)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def principal_from_session(request: Request) -> Principal | None:
    """The principal of the request's session cookie (services/sessions.py), or None: no
    cookie, or a session closed, expired, or of a disabled user (one read of the session
    with its user, nothing cached, so each of those holds from the next request). The open
    session is kept on `request.state.session` for the routes that need it (who am I,
    sign-out, password change). Runs in a worker thread."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    session = request.app.state.hub.sessions.resolve(session_id, address=client_address(request))
    if session is None:
        return None
    request.state.session = session
    return session.principal


def bearer_principal(tokens, token: str, address: str | None = None) -> Principal:
    """The principal of a bearer token, or 401 (the request path; the benchmarks call it
    as is, with `decide`, to measure what access costs per request)."""
    principal = tokens.verify(token, address)
    if principal is None:
        raise unauthenticated("the bearer token is unknown, revoked or expired")
    return principal


async def resolve(request: Request, bearer: HTTPAuthorizationCredentials | None, session: str | None) -> Principal:
    """The request's principal, or 401. A bearer token wins over a session cookie."""
    if bearer is not None:
        return bearer_principal(request.app.state.hub.tokens, bearer.credentials, client_address(request))
    if request.headers.get("authorization"):
        raise unauthenticated("the Authorization header must be `Bearer <token>`")
    if session:
        principal = await run_in_threadpool(principal_from_session, request)
        if principal is not None:
            return principal
        raise unauthenticated("the session is closed or expired: sign in again")
    raise unauthenticated()


async def _from_request(request: Request, source: str | None) -> str | None:
    if source is None:
        return None
    where, _, name = source.partition(":")
    if where == "path":
        value = request.path_params.get(name)
    elif where == "query":
        value = request.query_params.get(name)
    elif where == "body":
        try:
            body = await request.json()
        except Exception:  # noqa: BLE001 - not JSON: the route's own validation says so
            return None
        value = body.get(name) if isinstance(body, dict) else None
    else:
        return None
    return value if isinstance(value, str) else None


def order_locations(request: Request, order_id: object) -> list[str]:
    """The locations an order is assigned to (any state)."""
    try:
        oid = int(order_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return []
    if not 0 < oid < 2**63:
        return []
    return order_queries.order_locations(request.app.state.hub.read_engine, oid)


def refused(principal: Principal, permission: Permission, location: str | None) -> AccessDenied:
    where = f" at {location}" if location else ""
    if principal.grants(permission):
        detail = (f"{principal.kind} {principal.name!r} ({principal.role.value}) may use {permission.value} only at "
                  f"{', '.join(sorted(principal.locations))}; this request acts{where or ' at no location of its own'}")
    else:
        detail = f"{principal.kind} {principal.name!r} ({principal.role.value}) may not use {permission.value}{where}"
    return AccessDenied(403, "forbidden", detail, "forbidden")


def decide(principal: Principal, permission: Permission, location: str | None = None,
           channel: str | None = None) -> None:
    """403 unless the principal may use `permission` at `location` for `channel`."""
    if not principal.can(permission, location, channel):
        raise refused(principal, permission, location)


async def check(request: Request, principal: Principal, rule: Rule) -> None:
    permission = rule.permission_for(request.path_params)
    if permission is None:
        return
    channel = await _from_request(request, rule.channel)
    if rule.location == "list":
        if not principal.can_somewhere(permission):
            raise refused(principal, permission, None)
        return
    if rule.location == "order":
        if not principal.grants(permission, channel):
            raise refused(principal, permission, None)
        if principal.locations and permission in LOCATION_SCOPED:
            here = await run_in_threadpool(order_locations, request, request.path_params.get("order_id"))
            if not any(principal.can(permission, loc, channel) for loc in here):
                raise refused(principal, permission, ", ".join(here) or None)
        return
    decide(principal, permission, await _from_request(request, rule.location), channel)


def rule_of(request: Request) -> Rule:
    rule = request.app.state.access_rules.get((request.scope.get("endpoint"), request.method))
    if rule is None:  # create_app refuses to start with a route without one: never reached
        raise AccessDenied(403, "forbidden", f"{request.method} {request.url.path} has no access decision",
                           "no_access_decision")
    return rule


async def authorize(request: Request,
                    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
                    session: Annotated[str | None, Security(SESSION)] = None) -> Principal:
    principal = await resolve(request, bearer, session)
    request.state.principal = principal
    await check(request, principal, rule_of(request))
    return principal


#: A route's principal (the dependency is cached per request: authorize runs once).
CurrentPrincipal = Annotated[Principal, Depends(authorize)]


def sees_personal_data(principal: Principal, locations: Iterable[str]) -> bool:
    """Whether the principal may read the buyer of an order assigned to `locations`:
    unbound roles that hold customers.read_personal always, a location-bound one when the
    order is assigned to one of its locations."""
    if not principal.locations:
        return principal.can(Permission.CUSTOMERS_READ_PERSONAL)
    return any(principal.can(Permission.CUSTOMERS_READ_PERSONAL, loc) for loc in locations)
