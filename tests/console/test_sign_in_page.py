"""The console's door over plain HTTP: `/` leads to it, a page without a session sends
the browser to sign in and back, the sign-in form sets the session cookie, a wrong
password is refused on the page, failed sign-ins are throttled, signing out needs the
session's CSRF token and ends the session, and the navigation follows the role."""

from __future__ import annotations

import re

from omnihub.entrypoints.console.pages import CSP
from tests.conftest import add_location
from tests.console.pages_client import PASSWORD, csrf_of, pages, person, signed_in


def test_the_root_sends_a_browser_to_the_console(hub):
    r = pages(hub).get("/")
    assert r.status_code == 303 and r.headers["location"] == "/console/"


def test_a_page_without_a_session_goes_to_sign_in_and_comes_back_after(hub):
    email = person(hub, "olga@shop.example", "operator")
    c = pages(hub)
    r = c.get("/console/?from=x")
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/%3Ffrom%3Dx"
    form = c.get(r.headers["location"])
    assert form.status_code == 200 and 'value="/console/?from=x"' in form.text
    assert form.headers["content-security-policy"] == CSP and "unsafe-inline" not in CSP
    assert '<label for="email">' in form.text and '<label for="password">' in form.text
    done = c.post("/console/login", data={"email": email, "password": PASSWORD, "next": "/console/?from=x"})
    assert done.status_code == 303 and done.headers["location"] == "/console/?from=x"
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_sign_in_never_sends_a_browser_to_another_site(hub):
    email = person(hub, "olga@shop.example", "operator")
    for target in ("https://evil.example/", "//evil.example/console/", "/console/\\\\evil", "/api/v1/tokens"):
        r = pages(hub).post("/console/login", data={"email": email, "password": PASSWORD, "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/console/", target


def test_a_wrong_password_is_refused_on_the_page_and_failures_are_throttled(hub):
    email = person(hub, "olga@shop.example", "operator")
    c = pages(hub)
    r = c.post("/console/login", data={"email": email, "password": "not it"})
    assert r.status_code == 401 and "Wrong e-mail or password" in r.text and 'role="alert"' in r.text
    assert "set-cookie" not in r.headers
    statuses = [c.post("/console/login", data={"email": email, "password": "not it"}).status_code for _ in range(12)]
    assert statuses[-1] == 429, statuses
    last = c.post("/console/login", data={"email": email, "password": PASSWORD})
    assert last.status_code == 429 and "Too many failed sign-ins" in last.text and int(last.headers["retry-after"]) > 0


def test_signing_out_needs_the_csrf_token_and_ends_the_session(hub):
    email = person(hub, "olga@shop.example", "operator")
    c = signed_in(hub, email)
    page = c.get("/console/")
    assert page.status_code == 200
    refused = c.post("/console/logout", data={})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "expired" in refused.text
    wrong = c.post("/console/logout", data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    out = c.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert c.post("/console/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert c.cookies.get("omnihub_session") is None


def test_the_navigation_follows_the_role_and_signing_in_lands_on_the_role_s_first_page(hub):
    add_location(hub, "BKN", kind="store")
    nav = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
    seen, landed = {}, {}
    for email, role, locs in (("ada@shop.example", "admin", ()), ("olga@shop.example", "operator", ()),
                              ("rita@shop.example", "read_only", ()), ("sam@shop.example", "store_associate", ("BKN",))):
        person(hub, email, role, locs)
        c = pages(hub)
        landed[role] = c.post("/console/login", data={"email": email, "password": PASSWORD}).headers["location"]
        page = c.get(landed[role])
        assert page.status_code == 200, (role, landed[role])
        seen[role] = re.findall(r'<a href="([^"]+)"', nav.search(page.text)[1])
        for path in seen[role]:  # a link never leads to a refusal
            assert c.get(path).status_code == 200, (role, path)
    assert seen["operator"] == ["/console/", "/console/inventory", "/console/orders", "/console/store",
                                "/console/store-mode", "/console/rules", "/console/channels"]
    assert seen["admin"] == seen["operator"] + ["/console/audit", "/console/users"]  # and the admin's own pages
    assert seen["read_only"] == ["/console/", "/console/inventory", "/console/orders", "/console/store-mode",
                                 "/console/rules", "/console/channels"]
    assert seen["store_associate"] == ["/console/orders", "/console/store", "/console/store-mode"]
    assert landed == {"admin": "/console/", "operator": "/console/", "read_only": "/console/",
                      "store_associate": "/console/store"}
