"""Sessions for people: sign in (JSON or a form), who am I, CSRF on cookie writes, sign
out, password change, expiry, a disabled user, and throttled failed sign-ins, on the
real database through the app (TestClient over https://testserver, so the Secure cookie
travels as a browser's would). The cookie's flags over real HTTP: test_session_cookie_live.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.hub import Hub
from omnihub.services.sessions import session_hash
from tests.conftest import add_location, bearer, issue_token

EMAIL, PASSWORD = "ana@shop.example", "correct horse battery staple"
V1 = "/api/v1"


@pytest.fixture
def ana(hub):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    return hub.users.add(EMAIL, PASSWORD, name="Ana", role="operator")


def client(hub, address: str = "testclient") -> TestClient:
    return TestClient(create_app(hub=hub), base_url="https://testserver", client=(address, 50000))


def sign_in(c: TestClient, email=EMAIL, password=PASSWORD, **kw):
    return c.post(f"{V1}/session/login", json={"email": email, "password": password}, **kw)


def test_sign_in_sets_an_httponly_secure_samesite_cookie_whose_id_is_stored_hashed(hub, ana):
    c = client(hub)
    r = sign_in(c)
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags, cookie
    assert not any(f.startswith(("domain", "max-age", "expires")) for f in flags)  # this host, this browser session
    session_id = c.cookies["omnihub_session"]
    assert len(session_id) >= 43  # 256 random bits
    with hub.engine.connect() as conn:
        stored = conn.execute(sa.select(t.user_sessions.c.id_hash)).scalars().all()
    assert stored == [session_hash(session_id)] and session_id not in stored
    body = r.json()
    assert body["kind"] == "user" and body["name"] == EMAIL and body["role"] == "operator" and body["csrf_token"]
    me = c.get(f"{V1}/session")
    assert me.status_code == 200 and me.json()["csrf_token"] == body["csrf_token"] and me.json()["id"] == str(ana)


def test_a_form_signs_in_too(hub, ana):
    c = client(hub)
    r = c.post(f"{V1}/session/login", data={"email": EMAIL.upper(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert c.get(f"{V1}/locations").status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_answer_after_the_same_work(hub, ana, monkeypatch):
    verified = []
    real = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: verified.append(h) or real(self, h, p))
    c = client(hub)
    wrong, unknown = sign_in(c, password="not the password!"), sign_in(c, email="nobody@shop.example")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
    assert strip(wrong) == strip(unknown) and wrong.json()["code"] == "sign_in_refused"
    assert len(verified) == 2  # an argon2id verification each: the unknown e-mail against a dummy hash
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    assert c.get(f"{V1}/session").status_code == 401


def test_cookie_writes_need_the_csrf_token_and_bearer_writes_do_not(hub, ana):
    c = client(hub)
    csrf = sign_in(c).json()["csrf_token"]
    patch = {"name": "Warehouse"}
    missing = c.patch(f"{V1}/locations/WH", json=patch)
    assert missing.status_code == 403 and missing.json()["code"] == "csrf_token_missing"
    assert missing.headers["content-type"].startswith("application/problem+json")
    wrong = c.patch(f"{V1}/locations/WH", json=patch, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_token_mismatch"
    assert hub.catalog.get_location("WH")["name"] == "WH"  # neither changed anything
    ok = c.patch(f"{V1}/locations/WH", json=patch, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert c.get(f"{V1}/locations/WH").status_code == 200  # reads need no token
    # a bearer token is what such a request authenticates with: no CSRF token needed
    token = issue_token(hub, "operator")
    assert c.patch(f"{V1}/locations/WH", json={"name": "W2"}, headers=bearer(token)).status_code == 200


def test_sign_out_closes_the_session(hub, ana):
    c = client(hub)
    csrf = sign_in(c).json()["csrf_token"]
    old = c.cookies["omnihub_session"]
    assert c.post(f"{V1}/session/logout").status_code == 403  # CSRF applies to signing out too
    r = c.post(f"{V1}/session/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert "omnihub_session=" in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
    assert _sessions(hub) == 0
    c.cookies.set("omnihub_session", old, domain="testserver")  # a copy of the old cookie opens nothing
    assert c.get(f"{V1}/session").status_code == 401


def test_a_password_change_needs_the_current_one_and_closes_the_other_sessions(hub, ana):
    here, elsewhere = client(hub), client(hub)
    csrf = sign_in(here).json()["csrf_token"]
    sign_in(elsewhere)
    url, h = f"{V1}/session/password", {"X-CSRF-Token": csrf}
    r = here.post(url, json={"current_password": "wrong password!!", "new_password": "a new long passphrase"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "wrong_password"
    r = here.post(url, json={"current_password": PASSWORD, "new_password": "short"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_password"
    assert elsewhere.get(f"{V1}/session").status_code == 200  # nothing changed yet
    r = here.post(url, data={"current_password": PASSWORD, "new_password": "a new long passphrase",
                             "csrf_token": csrf})  # an HTML form: the token in a field
    assert r.status_code == 204, r.text
    assert here.get(f"{V1}/session").status_code == 200
    assert elsewhere.get(f"{V1}/session").status_code == 401
    assert sign_in(client(hub)).status_code == 401
    assert sign_in(client(hub), password="a new long passphrase").status_code == 200
    # a token cannot change a person's password
    r = client(hub).post(url, json={"current_password": "x", "new_password": "y" * 12},
                         headers=bearer(issue_token(hub, "admin")))
    assert r.status_code == 403 and r.json()["code"] == "session_required"


def test_a_disabled_users_sessions_stop_at_once(hub, ana):
    c = client(hub)
    sign_in(c)
    assert c.get(f"{V1}/session").status_code == 200
    hub.users.disable(EMAIL)
    r = c.get(f"{V1}/session")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert sign_in(client(hub)).status_code == 401


def _sessions(hub) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.user_sessions)).scalar_one()


def _age(hub, **values) -> None:
    with hub.engine.begin() as conn:
        conn.execute(t.user_sessions.update().values(**values))


def test_sessions_end_when_idle_and_at_their_absolute_end(hub, ana):
    now = datetime.now(UTC)
    c = client(hub)
    sign_in(c)
    _age(hub, last_seen_at=now - timedelta(minutes=29))  # idle 30 min by default
    assert c.get(f"{V1}/session").status_code == 200
    with hub.engine.connect() as conn:  # that request kept it alive
        seen = conn.execute(sa.select(t.user_sessions.c.last_seen_at)).scalar_one()
    assert seen.replace(tzinfo=seen.tzinfo or UTC) > now - timedelta(minutes=1)
    _age(hub, last_seen_at=now - timedelta(minutes=31))
    assert c.get(f"{V1}/session").status_code == 401
    assert _sessions(hub) == 0  # deleted when seen expired

    busy = client(hub)
    sign_in(busy)
    _age(hub, expires_at=now - timedelta(seconds=1))  # 12 h after sign-in, however busy
    assert busy.get(f"{V1}/session").status_code == 401


def test_failed_sign_ins_are_throttled_per_account_and_per_address_across_processes(hub, ana, clean_url):
    c = client(hub)
    for _ in range(5):  # the free ones
        assert sign_in(c, password="wrong password!").status_code == 401
    r = sign_in(c, password="wrong password!")
    assert r.status_code == 401  # the 6th fails and blocks the account for 1 s, then 2 s, 4 s ...
    blocked = sign_in(c)  # the right password, while blocked: not even checked
    assert blocked.status_code == 429 and blocked.json()["code"] == "sign_in_throttled"
    assert int(blocked.headers["Retry-After"]) >= 1
    assert blocked.headers["content-type"].startswith("application/problem+json")

    # another process (its own hub on the same database) sees the same counts: a later,
    # longer block (as after more failures) made by this one holds there
    with hub.engine.begin() as conn:
        conn.execute(t.login_throttle.update().where(t.login_throttle.c.key == f"account:{EMAIL}")
                     .values(blocked_until=datetime.now(UTC) + timedelta(seconds=60)))
    other = Hub.open(hub.settings, run_migrations=False, relay=False)
    try:
        there = sign_in(client(other))
        assert there.status_code == 429 and 55 <= int(there.headers["Retry-After"]) <= 60
    finally:
        other.close()
    with hub.engine.begin() as conn:  # the block runs out
        conn.execute(t.login_throttle.update().where(t.login_throttle.c.key.like("account:%"))
                     .values(blocked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert sign_in(c).status_code == 200  # and a success forgets the account's failures
    with hub.engine.connect() as conn:
        keys = set(conn.execute(sa.select(t.login_throttle.c.key)).scalars())
    assert f"account:{EMAIL}" not in keys and "address:testclient" in keys


@pytest.fixture
def strict(hub):
    """The same hub with fewer free failures (each costs an argon2id verification)."""
    h = Hub.open(hub.settings.model_copy(update={"login_free_failures_per_account": 1,
                                                 "login_free_failures_per_address": 3}),
                 run_migrations=False, relay=False)
    yield h
    h.close()


def test_an_unknown_account_is_throttled_as_a_known_one(strict, ana):
    answers = {}
    for email, address in (("ghost@shop.example", "192.0.2.1"), (EMAIL, "192.0.2.2")):  # an address each: not its block
        c = client(strict, address)
        assert [sign_in(c, email=email, password="wrong password!").status_code for _ in range(2)] == [401, 401]
        answers[email] = sign_in(c, email=email)
    ghost, known = answers.values()
    assert ghost.status_code == known.status_code == 429  # no telling which e-mails exist
    assert ghost.json()["detail"] == known.json()["detail"]


def test_one_address_is_throttled_whatever_the_accounts_it_tries(strict, ana):
    c = client(strict)
    for i in range(3):  # the address's free failures, spread over accounts (one each)
        assert sign_in(c, email=f"user{i}@shop.example", password="wrong password!").status_code == 401
    assert sign_in(c, email="user9@shop.example", password="wrong password!").status_code == 401
    assert sign_in(c).status_code == 429  # Ana's own account was never tried: the address is blocked
    assert sign_in(c, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429  # a header is no way out


def test_an_email_with_a_nul_is_refused_before_the_database_sees_it(hub, ana):
    """PostgreSQL refuses NUL in text (the fuzzer's 500): 422 problem+json, as any field."""
    r = sign_in(client(hub), email="ana\x00@shop.example")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email", r.text
