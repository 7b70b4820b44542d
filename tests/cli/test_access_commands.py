"""`omnihub users ...`, `omnihub tokens ...` and serve's refusal to bind beyond loopback
in clear text, run as a user would in a fresh shell (tests/cli/conftest.py)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from omnihub.entrypoints.api.app import create_app
from omnihub.entrypoints.cli.main import app
from omnihub.entrypoints.cli.serve_guard import is_loopback
from omnihub.hub import Hub
from omnihub.settings import LOOPBACK_HOSTS, Settings
from tests.cli.conftest import run

PASSWORD = "correct horse battery staple"


def _with_stdin(text: str, *args: str):
    return CliRunner().invoke(app, list(args), input=text, env={"COLUMNS": "200"})


def test_the_first_admin_then_people_with_roles(tmp_path):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    made = _with_stdin(PASSWORD + "\n", "users", "create-admin", "--email", "Boss@Shop.example", "--password-stdin",
                       "--database-url", db)
    assert made.exit_code == 0, made.output
    assert _with_stdin("short\n", "users", "add", "ana@shop.example", "--role", "operator", "--password-stdin",
                       "--database-url", db).exit_code == 1  # a weak password is refused, in a sentence
    no_store = _with_stdin(PASSWORD + "\n", "users", "add", "bo@shop.example", "--role", "store_associate",
                           "--password-stdin", "--database-url", db)
    assert no_store.exit_code == 1 and "--location" in no_store.output
    assert _with_stdin(PASSWORD + "\n", "users", "add", "bo@shop.example", "--role", "store_associate", "--location",
                       "A", "--password-stdin", "--database-url", db).exit_code == 0
    assert run("users", "set-role", "bo@shop.example", "read_only", "--database-url", db).exit_code == 0
    assert run("users", "disable", "bo@shop.example", "--database-url", db).exit_code == 0
    listed = run("users", "list", "--database-url", db)
    assert "boss@shop.example" in listed.output and "read_only" in listed.output and "disabled" in listed.output
    engine = make_engine(db)
    with engine.connect() as conn:
        hashes = list(conn.execute(sa.select(t.users.c.password_hash)).scalars())
    engine.dispose()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    hub = Hub.open(Settings(database_url=db), relay=False)
    try:
        assert hub.users.authenticate("boss@shop.example", PASSWORD).role.value == "admin"
        assert hub.users.authenticate("bo@shop.example", PASSWORD) is None  # disabled
        assert hub.users.authenticate("boss@shop.example", "wrong password here") is None
    finally:
        hub.close()


def test_a_token_made_by_the_cli_is_the_last_line_works_and_is_revoked(tmp_path):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    made = run("tokens", "create", "--name", "erp", "--role", "integration", "--scope", "stock.read",
               "--scope", "orders.ingest:erp", "--expires", "30", "--database-url", db)
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("ohk_") and len(token) > 40
    assert run("tokens", "create", "--name", "x", "--role", "integration", "--database-url", db).exit_code == 1
    listed = run("tokens", "list", "--database-url", db)
    assert "erp" in listed.output and token not in listed.output and token[:10] in listed.output

    hub = Hub.open(Settings(database_url=db, allowed_hosts=[*LOOPBACK_HOSTS, "testserver"]), relay=False)
    try:
        with TestClient(create_app(hub=hub)) as api:
            auth = {"Authorization": f"Bearer {token}"}
            assert api.get("/api/v1/positions/X", headers=auth).status_code == 404  # past access: no such SKU
            assert api.get("/api/v1/whoami", headers=auth).json()["scopes"] == ["orders.ingest:erp", "stock.read"]
            [row] = hub.tokens.list()
            assert row["created_by"].startswith("local_admin:")
            assert run("tokens", "revoke", str(row["id"]), "--database-url", db).exit_code == 0
            hub.tokens.forget(row["id"])  # another process revoked it: this one sees it within the cache's TTL
            assert api.get("/api/v1/positions/X", headers=auth).status_code == 401
    finally:
        hub.close()
    assert run("tokens", "revoke", "999", "--database-url", db).exit_code == 1


def test_serve_refuses_every_address_without_tls_and_says_why(tmp_path):
    refused = run("serve", "--host", "0.0.0.0", "--database-url", f"sqlite:///{tmp_path / 'hub.db'}")
    assert refused.exit_code == 1
    assert "without TLS" in refused.output and "--behind-proxy" in refused.output and "--ssl-certfile" in refused.output
    half = run("serve", "--host", "10.0.0.5", "--ssl-certfile", str(tmp_path / "cert.pem"))
    assert half.exit_code == 1 and "go together" in half.output
    assert not (tmp_path / "hub.db").exists()  # refused before anything was opened
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("hub.internal")
