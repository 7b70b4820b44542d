"""The session cookie as a real server sends it (uvicorn on 127.0.0.1, real HTTP): its
flags in the Set-Cookie header, the plain-http loopback development setting, and a whole
browser-like round (sign in, read, write with the CSRF token, sign out) over the wire."""

from __future__ import annotations

import httpx

from omnihub.entrypoints.api.app import create_app
from omnihub.hub import Hub
from tests.conftest import add_location
from tests.live_server import LiveServer

EMAIL, PASSWORD = "ana@shop.example", "correct horse battery staple"


def _flags(set_cookie: str) -> dict[str, str]:
    name_value, *attrs = [p.strip() for p in set_cookie.split(";")]
    flags = {a.split("=", 1)[0].lower(): (a.split("=", 1)[1] if "=" in a else "") for a in attrs}
    flags["_name"] = name_value.split("=", 1)[0]
    return flags


def test_the_cookie_is_httponly_secure_samesite_over_real_http(hub):
    hub.users.add(EMAIL, PASSWORD, role="read_only")
    with LiveServer(create_app(hub=hub)) as server:
        r = httpx.post(f"{server.url}/api/v1/session/login", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 200, r.text
    flags = _flags(r.headers["set-cookie"])
    assert flags["_name"] == "omnihub_session"
    assert "httponly" in flags and "secure" in flags and flags["samesite"].lower() == "lax" and flags["path"] == "/"
    assert "domain" not in flags and "max-age" not in flags and "expires" not in flags


def test_plain_http_on_loopback_when_secure_is_turned_off_and_only_there(hub):
    """Secure off for development: the cookie works over http://127.0.0.1; a request that
    reaches the same hub under another name still gets a Secure cookie."""
    dev = Hub.open(hub.settings.model_copy(update={"session_cookie_secure": False, "session_cookie_samesite": "strict",
                                                   "allowed_hosts": ["127.0.0.1", "hub.example"]}),
                   run_migrations=False, relay=False)
    try:
        add_location(dev, "WH", kind="warehouse", capabilities=["ship"])
        dev.users.add(EMAIL, PASSWORD, role="operator")
        with LiveServer(create_app(hub=dev)) as server, httpx.Client(base_url=server.url) as browser:
            r = browser.post("/api/v1/session/login", data={"email": EMAIL, "password": PASSWORD})
            assert r.status_code == 200, r.text
            flags = _flags(r.headers["set-cookie"])
            assert "secure" not in flags and "httponly" in flags and flags["samesite"].lower() == "strict"
            csrf = r.json()["csrf_token"]
            assert browser.get("/api/v1/session").json()["name"] == EMAIL  # the jar sends it back over http
            assert browser.patch("/api/v1/locations/WH", json={"name": "Main"}).status_code == 403  # no token
            w = browser.patch("/api/v1/locations/WH", json={"name": "Main"}, headers={"X-CSRF-Token": csrf})
            assert w.status_code == 200, w.text
            assert browser.post("/api/v1/session/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
            assert browser.get("/api/v1/session").status_code == 401

            other = httpx.post(f"{server.url}/api/v1/session/login", json={"email": EMAIL, "password": PASSWORD},
                               headers={"Host": "hub.example"})
            assert other.status_code == 200, other.text
            assert "secure" in _flags(other.headers["set-cookie"])
    finally:
        dev.close()
