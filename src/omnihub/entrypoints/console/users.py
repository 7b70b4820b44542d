"""People and tokens (admin): the users with their roles and locations, made, given
another role or other locations, disabled and enabled again; the API tokens, revoked.
The same services as `omnihub users ...` / `omnihub tokens ...` and the API
(services/users.py, services/api_tokens.py), audited with the CLI's action names.

- A disabled user's sessions are closed at once (the join refuses them anyway); a
  revoked token is refused from the next request on, in this process at once
  (services/api_tokens.py: other processes within its cache's 5 s).
- An admin cannot disable their own account nor take away the last admin (the console
  would have nobody to manage it; the CLI's local admin can always, being the owner of
  the database).
- A bad field is shown beside the field, with what was typed kept; a password is never
  sent back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import Principal, Role
from omnihub.domain.limits import MAX_ID
from omnihub.entrypoints.console.forms import read_choices, read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services.api_tokens import TokenError
from omnihub.services.audit_trail import note_change
from omnihub.services.passwords import MIN_LENGTH
from omnihub.services.users import UserError, normalize_email

router = APIRouter(include_in_schema=False)
HOME = "/console/users"
ROLES = [r.value for r in Role if r is not Role.INTEGRATION]
DONE = {"added": "The user is added: they sign in with that e-mail and password.",
        "role": "Saved: the new role and locations apply from their next page.",
        "disabled": "Disabled: their sessions are closed and they can no longer sign in.",
        "enabled": "Enabled: they can sign in again.",
        "revoked": "Revoked: the token is refused from now on."}


def _view(hub) -> dict:
    return {"users": hub.users.list(), "tokens": hub.tokens.list(),
            "locations": [loc["code"] for loc in hub.catalog.list_locations()]}


async def _page(request: Request, principal: Principal, *, status_code: int = 200, **ctx) -> Response:
    view = await run_in_threadpool(_view, request.app.state.hub)
    values = {"errors": {}, "new": {}, "new_locations": [], "edit": None, "edit_form": {}, "edit_locations": [],
              "done": None, "error": None, **ctx}
    return render(request, "users.html", {"title": "Users and tokens", **view, **values, "roles": ROLES,
                                          "me": principal.id if principal.kind == "user" else None,
                                          "min_password": MIN_LENGTH}, status_code=status_code)


@router.get("/console/users")
async def users_page(request: Request, principal: PagePrincipal, done: str = "") -> Response:
    return await _page(request, principal, done=DONE.get(done))


def _check_role_and_places(role: str, places: list[str], known: set[str], errors: dict[str, str], prefix: str = "") -> None:
    if role not in ROLES:
        errors[prefix + "role"] = f"Role: one of {', '.join(ROLES)}."
    unknown = [p for p in places if p not in known]
    if unknown:
        errors[prefix + "locations"] = f"Locations: there is no location {', '.join(unknown)}."
    elif role == Role.STORE_ASSOCIATE.value and not places:
        errors[prefix + "locations"] = "Locations: a store associate works at one location at least."


@router.post("/console/users")
async def add_user(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    form = await read_form(request)
    places = await read_choices(request, "locations")
    known = {loc["code"] for loc in await run_in_threadpool(hub.catalog.list_locations)}
    errors: dict[str, str] = {}
    email = form.get("email", "")
    try:
        email = normalize_email(email)
    except UserError:
        errors["email"] = "E-mail: an address such as ana@shop.example."
    role = form.get("role", "")
    _check_role_and_places(role, places, known, errors)
    password = form.get("password", "")
    if len(password) < MIN_LENGTH:
        errors["password"] = f"Password: {MIN_LENGTH} characters at least."
    if not errors:
        try:
            user_id = await run_in_threadpool(lambda: hub.users.add(email, password, name=form.get("name", "")[:200],
                                                                    role=role, locations=places))
        except UserError as exc:
            errors["email" if "exists" in str(exc) else "role"] = str(exc)[:1].upper() + str(exc)[1:] + "."
        else:
            note_change(action="users.add", target=f"user={email}", after={"role": role, "locations": sorted(places)},
                        user_id=user_id, door="console")
            return RedirectResponse(f"{HOME}?done=added", status_code=303)
    shown = {k: v for k, v in form.items() if k != "password"}
    return await _page(request, principal, status_code=422, errors=errors, new=shown, new_locations=places)


async def _user(request: Request, raw_id: str):
    uid = whole_number(raw_id, low=1, high=MAX_ID)
    if uid is None:
        return None
    try:
        return await run_in_threadpool(request.app.state.hub.users.get, uid)
    except UserError:
        return None


def _missing(request: Request, what: str) -> Response:
    return render(request, "missing.html", {"title": "No such user or token", "detail": f"There is no {what}.",
                                            "back": HOME}, status_code=404)


def _last_admin(hub, user) -> bool:
    return user.role == Role.ADMIN.value and not user.disabled and hub.users.count_admins() <= 1


@router.post("/console/users/{user_id}/role")
async def set_role(request: Request, user_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    user = await _user(request, user_id)
    if user is None:
        return _missing(request, f"user {user_id}")
    form = await read_form(request)
    places = await read_choices(request, "locations")
    known = {loc["code"] for loc in await run_in_threadpool(hub.catalog.list_locations)}
    errors: dict[str, str] = {}
    role = form.get("role", "")
    _check_role_and_places(role, places, known, errors, prefix="edit_")
    if not errors and role != Role.ADMIN.value and await run_in_threadpool(_last_admin, hub, user):
        errors["edit_role"] = "Role: this is the last admin; make another admin first."
    if errors:
        return await _page(request, principal, status_code=422, errors=errors, edit=user.id, edit_form=form,
                           edit_locations=places)
    await run_in_threadpool(hub.users.set_role, user.email, role, places)
    note_change(action="users.set_role", target=f"user={user.email}",
                before={"role": user.role, "locations": sorted(user.locations)},
                after={"role": role, "locations": sorted(places)}, door="console")
    return RedirectResponse(f"{HOME}?done=role", status_code=303)


async def _set_disabled(request: Request, user_id: str, principal: Principal, disabled: bool) -> Response:
    hub = request.app.state.hub
    user = await _user(request, user_id)
    if user is None:
        return _missing(request, f"user {user_id}")
    if disabled and principal.kind == "user" and str(user.id) == principal.id:
        return await _page(request, principal, status_code=409, error="You cannot disable your own account.")
    if disabled and await run_in_threadpool(_last_admin, hub, user):
        return await _page(request, principal, status_code=409,
                           error=f"{user.email} is the last admin: make another admin before disabling them.")

    def change() -> int:
        hub.users.disable(user.email, disabled)
        return hub.sessions.close_all(user.id) if disabled else 0

    closed = await run_in_threadpool(change)
    note_change(action="users.disable" if disabled else "users.enable", target=f"user={user.email}",
                before={"disabled": bool(user.disabled)}, after={"disabled": disabled}, sessions_closed=closed,
                door="console")
    return RedirectResponse(f"{HOME}?done={'disabled' if disabled else 'enabled'}", status_code=303)


@router.post("/console/users/{user_id}/disable")
async def disable_user(request: Request, user_id: str, principal: PagePrincipal) -> Response:
    return await _set_disabled(request, user_id, principal, True)


@router.post("/console/users/{user_id}/enable")
async def enable_user(request: Request, user_id: str, principal: PagePrincipal) -> Response:
    return await _set_disabled(request, user_id, principal, False)


@router.post("/console/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    tid = whole_number(token_id, low=1, high=2**31 - 1)
    if tid is None:
        return _missing(request, f"token {token_id}")
    try:
        revoked = await run_in_threadpool(hub.tokens.revoke, tid)
    except TokenError:
        return _missing(request, f"token {token_id}")
    note_change(action="tokens.revoke", target=f"token_id={tid}", already=not revoked, door="console")
    return RedirectResponse(f"{HOME}?done=revoked", status_code=303)
