"""A demo run's logs hold none of the secrets it used: the admin's password (the one it
made, a new one set through the API, a wrong one tried), its API token and a token that
does not exist, a session id and its CSRF token, the vault's key, every channel
credential in the vault, the Amazon sandbox's LWA access tokens.

The demo runs as a real process at DEBUG (OMNIHUB_LOG_LEVEL), with shoppers on every
channel, while this test signs in over HTTP, writes with the session and the token,
changes the password and signs out. Log lines go to stdout (structlog) and stderr (the
standard library's loggers); stdout also carries the demo's own table, which shows the
admin's password and token and the sandbox shop's token on purpose: those lines are
the only ones allowed to name them.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time

import httpx

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.db.engine import make_engine
from omnihub.log_redaction import is_secret_key
from tests.sync.test_demo_command import _demo, _env, _ports, _rows
from tests.sync.test_no_secrets_in_logs import leaks

#: rows of the demo's table that show credentials to the person who started it
SHOWN_ON_PURPOSE = ("sign in (admin)", "API token (admin)", "Authorization: Bearer", "Shopify admin GraphQL")


def _wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_demos_logs_hold_none_of_its_secrets(tmp_path):
    state, ports = tmp_path / "demo", _ports()
    env = {**_env(tmp_path), "OMNIHUB_LOG_LEVEL": "DEBUG"}
    # Files, not pipes: nothing reads a pipe while the test drives the API, and DEBUG lines
    # would fill it and stop the demo mid-write.
    out_path, err_path = tmp_path / "demo.out", tmp_path / "demo.err"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        proc = subprocess.Popen(_demo(tmp_path, state, ports, "--fresh", "--traffic", "2", "--run-for", "25"),
                                env=env, stdout=out_file, stderr=err_file, text=True)
    api = f"http://127.0.0.1:{ports[0]}/api/v1"
    used: dict[str, str] = {}
    try:
        creds = _wait_for(lambda: json.loads((state / "credentials.json").read_text()), 300, "the demo's credentials")
        token = creds["token"]
        _wait_for(lambda: httpx.get(f"{api}/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200,
                  120, "the demo's API")
        wrong, new_password, bad_token = "wrong-" + secrets.token_urlsafe(12), secrets.token_urlsafe(18), \
            "ohk_" + secrets.token_urlsafe(32)
        with httpx.Client(base_url=api, timeout=30) as browser:
            assert browser.post("/session/login", json={"email": creds["email"], "password": wrong}).status_code == 401
            r = browser.post("/session/login", data={"email": creds["email"], "password": creds["password"]})
            assert r.status_code == 200, r.text  # plain http on loopback: the demo's cookie is not Secure
            session_id, csrf = browser.cookies["omnihub_session"], r.json()["csrf_token"]
            assert browser.get("/orders").status_code == 200
            r = browser.post("/session/password", headers={"X-CSRF-Token": csrf},
                             json={"current_password": creds["password"], "new_password": new_password})
            assert r.status_code == 204, r.text
            assert browser.post("/session/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert httpx.get(f"{api}/orders", headers={"Authorization": f"Bearer {bad_token}"}).status_code == 401
        assert httpx.get(f"{api}/sync/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        used = {"admin password": creds["password"], "new admin password": new_password, "wrong password": wrong,
                "admin API token": token, "unknown API token": bad_token, "session id": session_id, "CSRF token": csrf}
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    assert proc.returncode == 0, out[-3000:] + err[-3000:]

    key = (state / "vault.key").read_text().strip()
    used["vault key"] = key
    engine = make_engine(f"sqlite:///{state / 'omnihub.db'}")
    try:
        vault = CredentialVault(engine, key)
        for channel in vault.channels():
            for name, value in (vault.get(channel) or {}).items():
                if is_secret_key(name) and isinstance(value, str) and len(value) >= 8:
                    used[f"{channel} {name}"] = value
    finally:
        engine.dispose()
    assert {"shopify access_token", "shopify client_secret", "amazon_seller client_secret",
            "amazon_seller refresh_token", "amazon_seller notification_secret"} <= set(used), sorted(used)
    lwa = [t for (t,) in _rows(state / "amazon.sqlite3", "SELECT token FROM access_tokens")]
    assert lwa, "the worker never obtained an LWA access token"
    used.update({f"LWA access token {i}": t for i, t in enumerate(lwa)})

    shown = [line for line in out.splitlines() if any(mark in line for mark in SHOWN_ON_PURPOSE)]
    assert any(token in line for line in shown)  # the table is where it is meant to be
    logs = {"stdout": "\n".join(line for line in out.splitlines() if line not in shown), "stderr": err}
    found = leaks(logs, used)
    assert not found, "\n".join(found)
    # and the table shows nothing beyond what it means to
    on_purpose = {"admin password", "admin API token", "shopify access_token"}
    found = leaks({"the demo's table": "\n".join(shown)}, {k: v for k, v in used.items() if k not in on_purpose})
    assert not found, "\n".join(found)
    # the search was not vacuous: the demo logged at DEBUG, the channels' calls among it
    debug_lines = [line for line in (out + "\n" + err).splitlines() if "[debug" in line.lower()]
    assert len(debug_lines) >= 20 and any("[httpcore" in line for line in debug_lines), (out[-2000:], err[-2000:])
