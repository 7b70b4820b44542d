"""The users page over plain HTTP (admin only): people with their roles and locations,
added, given another role or other locations, disabled (their sessions end at once) and
enabled again; API tokens listed and revoked (refused by the API from the next request).
Bad fields are shown beside the field with accessible labels; nobody disables their own
account or takes away the last admin; every change is in the audit trail."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import PASSWORD, csrf_of, pages, person, signed_in


def _admin(hub) -> tuple[TestClient, str]:
    add_location(hub, "BKN", kind="store")
    add_location(hub, "SOHO", kind="store")
    ada = signed_in(hub, person(hub, "ada@shop.example", "admin"))
    page = ada.get("/console/users")
    assert page.status_code == 200
    return ada, csrf_of(page.text)


def _user(hub, email: str) -> dict:
    return next(u for u in hub.users.list() if u["email"] == email)


def test_an_admin_adds_a_store_associate_who_then_signs_in(hub):
    ada, token = _admin(hub)
    r = ada.post("/console/users", data={"csrf_token": token, "email": "Sam@Shop.example", "name": "Sam",
                                         "role": "store_associate", "locations": ["BKN", "SOHO"], "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/console/users?done=added"
    sam = _user(hub, "sam@shop.example")
    assert (sam["role"], sam["locations"], sam["name"]) == ("store_associate", ["BKN", "SOHO"], "Sam")
    page = ada.get(r.headers["location"]).text
    assert "The user is added" in page and re.search(r'<td class="locations">BKN, SOHO</td>', page)
    assert signed_in(hub, "sam@shop.example").get("/console/store").status_code == 200
    [event] = [e for e in hub.audit.page(limit=10)[0] if e["action"] == "users.add"]
    assert event["target"] == "user=sam@shop.example" and event["details"]["door"] == "console"
    assert PASSWORD not in str(event)


def test_bad_fields_are_shown_beside_them_and_nothing_is_added(hub):
    ada, token = _admin(hub)
    r = ada.post("/console/users", data={"csrf_token": token, "email": "not-an-address", "role": "store_associate",
                                         "password": "short"})
    assert r.status_code == 422
    assert 'id="new-email-error">E-mail: an address such as ana@shop.example.' in r.text
    assert 'aria-invalid="true" aria-describedby="new-email-error"' in r.text and 'value="not-an-address"' in r.text
    assert "Locations: a store associate works at one location at least." in r.text
    assert 'id="new-password-error">Password: 12 characters at least.' in r.text and 'value="short"' not in r.text
    r = ada.post("/console/users", data={"csrf_token": token, "email": "x@shop.example", "role": "read_only",
                                         "locations": ["MARS"], "password": PASSWORD})
    assert r.status_code == 422 and "Locations: there is no location MARS." in r.text
    r = ada.post("/console/users", data={"csrf_token": token, "email": "ADA@shop.example", "role": "admin",
                                         "password": PASSWORD})
    assert r.status_code == 422 and "A user ada@shop.example exists already." in r.text
    assert [u["email"] for u in hub.users.list()] == ["ada@shop.example"]
    for label in ("E-mail", "Name", "Role", "First password"):
        assert re.search(rf'<label for="new-[a-z]+">{label}', r.text), label


def test_an_admin_changes_a_role_and_locations(hub):
    ada, token = _admin(hub)
    person(hub, "sam@shop.example", "store_associate", ["BKN"])
    sam = _user(hub, "sam@shop.example")
    r = ada.post(f"/console/users/{sam['id']}/role", data={"csrf_token": token, "role": "store_associate"})
    assert r.status_code == 422 and f'id="user-{sam["id"]}-locations-error"' in r.text and "<details open>" in r.text
    r = ada.post(f"/console/users/{sam['id']}/role", data={"csrf_token": token, "role": "operator", "locations": ["SOHO"]})
    assert r.status_code == 303 and (_user(hub, "sam@shop.example")["role"], _user(hub, "sam@shop.example")["locations"]) == (
        "operator", ["SOHO"])
    [event] = [e for e in hub.audit.page(limit=10)[0] if e["action"] == "users.set_role"]
    assert event["before"] == {"role": "store_associate", "locations": ["BKN"]}
    assert event["after"] == {"role": "operator", "locations": ["SOHO"]}
    me = _user(hub, "ada@shop.example")
    r = ada.post(f"/console/users/{me['id']}/role", data={"csrf_token": token, "role": "read_only"})
    assert r.status_code == 422 and "this is the last admin" in r.text and _user(hub, "ada@shop.example")["role"] == "admin"
    assert ada.post("/console/users/999/role", data={"csrf_token": token, "role": "operator"}).status_code == 404


def test_a_disabled_user_is_signed_out_at_once_and_enabled_again(hub):
    ada, token = _admin(hub)
    olga = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    assert olga.get("/console/channels").status_code == 200
    uid = _user(hub, "olga@shop.example")["id"]
    r = ada.post(f"/console/users/{uid}/disable", data={"csrf_token": token})
    assert r.status_code == 303 and _user(hub, "olga@shop.example")["disabled"] is True
    gone = olga.get("/console/channels")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login")
    assert pages(hub).post("/console/login", data={"email": "olga@shop.example", "password": PASSWORD}).status_code != 303
    assert ada.post(f"/console/users/{uid}/enable", data={"csrf_token": token}).status_code == 303
    assert signed_in(hub, "olga@shop.example").get("/console/channels").status_code == 200
    me = _user(hub, "ada@shop.example")
    r = ada.post(f"/console/users/{me['id']}/disable", data={"csrf_token": token})
    assert r.status_code == 409 and "You cannot disable your own account." in r.text
    assert f'action="/console/users/{me["id"]}/disable"' not in ada.get("/console/users").text  # no button for oneself
    actions = [e["action"] for e in hub.audit.page(limit=20)[0]]
    assert "users.disable" in actions and "users.enable" in actions


def test_an_admin_revokes_a_token_and_the_api_refuses_it(hub):
    ada, token = _admin(hub)
    erp = issue_token(hub, "operator", name="erp-sync")
    with TestClient(create_app(hub=hub)) as api:
        assert api.get("/api/v1/whoami", headers=bearer(erp)).status_code == 200
        [row] = [t for t in hub.tokens.list() if t["name"] == "erp-sync"]
        page = ada.get("/console/users").text
        assert re.search(rf'<tr id="token-{row["id"]}">.*?<th scope="row">erp-sync</th><td><code>{row["hint"]}…</code>', page, re.S)
        assert f'aria-label="Revoke token {row["id"]} (erp-sync)"' in page and erp not in page
        r = ada.post(f"/console/tokens/{row['id']}/revoke", data={"csrf_token": token})
        assert r.status_code == 303 and "the token is refused from now on" in ada.get(r.headers["location"]).text
        refused = api.get("/api/v1/whoami", headers=bearer(erp))
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert ada.post("/console/tokens/99999/revoke", data={"csrf_token": token}).status_code == 404
    [event] = [e for e in hub.audit.page(limit=10)[0] if e["action"] == "tokens.revoke"]
    assert event["target"] == f"token_id={row['id']}" and event["details"]["door"] == "console"


def test_only_an_admin_opens_the_users_page_or_posts_to_it(hub):
    add_location(hub, "BKN", kind="store")
    issue_token(hub, "operator", name="erp-sync")
    [row] = hub.tokens.list()
    for role in ("operator", "read_only"):
        c = signed_in(hub, person(hub, f"{role}@shop.example", role))
        page = c.get("/console/users")
        assert page.status_code == 403 and "may not use users.admin" in page.text, role
        token = csrf_of(page.text)
        assert c.post(f"/console/tokens/{row['id']}/revoke", data={"csrf_token": token}).status_code == 403
        assert c.post("/console/users", data={"csrf_token": token, "email": "x@shop.example", "role": "admin",
                                              "password": PASSWORD}).status_code == 403
    assert hub.tokens.list()[0]["state"] == "active" and "x@shop.example" not in [u["email"] for u in hub.users.list()]
