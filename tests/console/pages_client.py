"""A browser's view of the console for the plain-HTTP tests: the hub's app behind
TestClient over https://testserver (the Secure session cookie travels, as in a browser),
signing in with the console's own form, and the CSRF token read from the page it got."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omnihub.entrypoints.api.app import create_app

PASSWORD = "a long enough passphrase"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages(hub) -> TestClient:
    return TestClient(create_app(hub=hub), base_url="https://testserver", follow_redirects=False)


def person(hub, email: str, role: str, locations=()) -> str:
    hub.users.add(email, PASSWORD, name=email.split("@")[0].title(), role=role, locations=list(locations))
    return email


def signed_in(hub, email: str) -> TestClient:
    c = pages(hub)
    r = c.post("/console/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return c


def csrf_of(page_html: str) -> str:
    found = _CSRF.search(page_html)
    assert found, "the page has no form with the session's CSRF token"
    return found[1]
