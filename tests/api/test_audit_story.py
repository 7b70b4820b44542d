"""The audit trail tells who did each change of a day in a shop, over real HTTP (uvicorn
on 127.0.0.1): an operator signed in with a password changes the routing rule, a store
associate's token receives stock at its store (through a proxy that says where the
associate is), an admin revokes that token. GET /api/v1/audit (admin only) lists each
with its actor, address and, for the rule, the before and after; refused and anonymous
requests leave nothing; filters and the cursor page through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.hub import Hub
from tests.conftest import add_location, add_skus, bearer, count_rows, issue_token
from tests.live_server import LiveServer

OLGA, PASSWORD = "olga@shop.example", "operator's long passphrase"


@pytest.fixture
def hub(hub):
    """The test's hub as a loopback development hub: plain http, so the session cookie is
    sent without Secure (test_session_cookie_live.py checks both)."""
    h = Hub.open(hub.settings.model_copy(update={"session_cookie_secure": False}), run_migrations=False, relay=False)
    yield h
    h.close()


def test_the_audit_shows_who_did_each_change_from_where(hub):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_location(hub, "ST", kind="store")
    add_location(hub, "ST2", kind="store")
    add_skus(hub, "A")
    olga_id = hub.users.add(OLGA, PASSWORD, name="Olga", role="operator")
    admin = hub.tokens.create("admin-console", "admin", created_by="tests")
    associate = hub.tokens.create("store-a-handheld", "store_associate", locations=["ST"], created_by="tests")
    started = datetime.now(UTC) - timedelta(seconds=1)

    with LiveServer(create_app(hub=hub)) as server:
        api = f"{server.url}/api/v1"
        # the rules in force in the morning, installed by the admin's script
        first = httpx.put(f"{api}/routing-rules", json={"rules": [{"name": "cheapest", "sort": ["cost"]}]},
                          headers=bearer(admin.token))
        assert first.status_code == 200, first.text

        with httpx.Client(base_url=api) as olga:  # the operator, signed in with her password
            csrf = olga.post("/session/login", json={"email": OLGA, "password": PASSWORD}).json()["csrf_token"]
            r = olga.put("/routing-rules", params={"comment": "closest store first"},
                         json={"rules": [{"name": "nearest", "sort": ["distance"]}]}, headers={"X-CSRF-Token": csrf})
            assert r.status_code == 200, r.text
            assert olga.get("/audit").status_code == 403  # an operator does not read the trail

        store_a = {**bearer(associate.token), "X-Forwarded-For": "203.0.113.7"}  # the store's network, via the proxy
        r = httpx.post(f"{api}/stock/receive", json={"sku": "A", "location": "ST", "quantity": 5}, headers=store_a)
        assert r.status_code == 201, r.text
        refused = httpx.post(f"{api}/stock/receive", json={"sku": "A", "location": "ST2", "quantity": 5},
                             headers=store_a)
        assert refused.status_code == 403

        r = httpx.delete(f"{api}/tokens/{associate.id}", headers=bearer(admin.token))
        assert r.status_code == 200, r.text
        gone = httpx.post(f"{api}/stock/receive", json={"sku": "A", "location": "ST", "quantity": 1}, headers=store_a)
        assert gone.status_code == 401
        anonymous = httpx.post(f"{api}/stock/receive", json={"sku": "A", "location": "ST", "quantity": 1000})
        assert anonymous.status_code == 401

        page = httpx.get(f"{api}/audit", headers=bearer(admin.token))
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert [(e["action"], e["actor"]["kind"], e["actor"]["name"], e["address"]) for e in items] == [
            ("access.revoke_token", "token", "admin-console", "127.0.0.1"),
            ("stock.receive", "token", "store-a-handheld", "203.0.113.7"),
            ("orders.put_rules", "user", OLGA, "127.0.0.1"),
            ("session.login", "user", OLGA, "127.0.0.1"),
            ("orders.put_rules", "token", "admin-console", "127.0.0.1"),
        ]
        revoke, receive, rule, login, _ = items
        assert revoke["target"] == f"token_id={associate.id}"
        assert receive["target"] == "sku=A location=ST" and receive["details"]["fields"] == {"quantity": 5}
        assert rule["target"] == "routing-rules" and rule["actor"]["id"] == str(olga_id)
        assert [(x["name"], x["sort"]) for x in rule["before"]["rules"]] == [("cheapest", ["cost"])]
        assert [(x["name"], x["sort"]) for x in rule["after"]["rules"]] == [("nearest", ["distance"])]
        assert rule["after"]["version"] == rule["before"]["version"] + 1
        assert rule["details"]["query"] == {"comment": "closest store first"}
        assert all(started <= datetime.fromisoformat(e["at"]) <= datetime.now(UTC) for e in items)
        assert PASSWORD not in page.text and associate.token not in page.text and admin.token not in page.text

        def audit(**params):
            r = httpx.get(f"{api}/audit", params=params, headers=bearer(admin.token))
            assert r.status_code == 200, r.text
            return r.json()

        assert [e["action"] for e in audit(actor=OLGA)["items"]] == ["orders.put_rules", "session.login"]
        assert [e["action"] for e in audit(actor=f"user:{olga_id}")["items"]] == ["orders.put_rules", "session.login"]
        assert len(audit(actor="token")["items"]) == 3
        assert [e["target"] for e in audit(action="stock")["items"]] == ["sku=A location=ST"]
        assert [e["action"] for e in audit(target="sku=A")["items"]] == ["stock.receive"]
        assert audit(since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())["items"] == []
        assert len(audit(until=datetime.now(UTC).isoformat())["items"]) == 5
        first_page = audit(limit=2)
        second_page = audit(limit=2, cursor=first_page["next_cursor"])
        third_page = audit(limit=2, cursor=second_page["next_cursor"])
        seen = [e["id"] for p in (first_page, second_page, third_page) for e in p["items"]]
        assert seen == [e["id"] for e in items] and third_page["next_cursor"] is None

        reader = issue_token(hub, "read_only")
        assert httpx.get(f"{api}/audit", headers=bearer(reader)).status_code == 403
        assert httpx.get(f"{api}/audit").status_code == 401

    with hub.engine.connect() as conn:  # the anonymous 1,000 units never reached the ledger
        received = conn.execute(sa.select(sa.func.sum(t.movements.c.quantity)).where(
            t.movements.c.sku == "A", t.movements.c.location == "ST")).scalar()
    assert received == 5
    assert count_rows(hub, "audit_events") == 5
