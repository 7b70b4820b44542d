"""Access control as people meet it (issue 17): a store's associate at another store, a
read-only user and customers' data, a revoked token, a request without credentials, and
the actor the ledger keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, add_skus, bearer, count_rows, issue_token
from tests.live_server import LiveServer


@pytest.fixture
def stores(hub):
    add_location(hub, "A", kind="store", lat=40.72, lng=-74.0)
    add_location(hub, "B", kind="store", lat=40.73, lng=-74.1)
    add_skus(hub, "S1")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    return hub


@pytest.fixture
def api(stores):
    with TestClient(create_app(hub=stores)) as client:
        yield client


def _movements(hub, location: str | None = None) -> int:
    m = t.movements
    q = sa.select(sa.func.count()).select_from(m)
    if location:
        q = q.where(m.c.location == location)
    with hub.engine.connect() as conn:
        return conn.execute(q).scalar_one()


def test_an_associate_of_store_a_receives_at_a_and_cannot_receive_at_b(stores, api):
    associate = bearer(issue_token(stores, "store_associate", name="ana-at-A", locations=["A"]))
    outbox_before = count_rows(stores, "outbox")
    at_b = api.post("/api/v1/stock/receive", json={"sku": "S1", "location": "B", "quantity": 5}, headers=associate)
    assert at_b.status_code == 403
    assert at_b.headers["content-type"] == "application/problem+json"
    assert "only at A" in at_b.json()["detail"]
    assert _movements(stores, "B") == 0 and count_rows(stores, "outbox") == outbox_before  # nothing recorded

    at_a = api.post("/api/v1/stock/receive", json={"sku": "S1", "location": "A", "quantity": 5}, headers=associate)
    assert at_a.status_code == 201, at_a.text
    [row] = stores.queries.history("S1")
    assert row["location"] == "A" and row["actor"].startswith("token:") and row["actor"].endswith(":ana-at-A")

    # damage at A is store work; reserving or moving stock between stores is not
    assert api.post("/api/v1/stock/damage", json={"sku": "S1", "location": "A", "quantity": 1},
                    headers=associate).status_code == 201
    assert api.post("/api/v1/stock/reserve", json={"sku": "S1", "location": "A", "quantity": 1},
                    headers=associate).status_code == 403
    assert api.post("/api/v1/stock/transfers", json={"sku": "S1", "from_location": "A", "to_location": "B",
                                                     "quantity": 1}, headers=associate).status_code == 403
    assert api.put("/api/v1/routing-rules", json={"rules": []}, headers=associate).status_code == 403


def _order_with_a_buyer(api, admin) -> int:
    assert api.post("/api/v1/stock/receive", json={"sku": "S1", "location": "A", "quantity": 5}, headers=admin).status_code == 201
    made = api.post("/api/v1/orders", headers=admin, json={
        "channel": "shopify", "external_id": "1001", "lines": [{"sku": "S1", "quantity": 1}],
        "customer": {"email": "ana.buyer@example.com", "phone": "+1 415 555 0175"}, "notes": "ring twice",
        "shipping_address": {"line1": "1 Main St", "city": "Newark", "postal_code": "07102", "country": "US"}})
    assert made.status_code == 201, made.text
    return made.json()["order_id"]


def test_a_read_only_user_sees_customers_masked_and_cannot_change_a_rule(stores, api):
    admin, reader = bearer(issue_token(stores, "admin")), bearer(issue_token(stores, "read_only"))
    order_id = _order_with_a_buyer(api, admin)

    whole = api.get(f"/api/v1/orders/{order_id}", headers=admin)
    assert "ana.buyer@example.com" in whole.text and "1 Main St" in whole.text
    assert "4155550175" in whole.text or "415 555 0175" in whole.text
    masked = api.get(f"/api/v1/orders/{order_id}", headers=reader)
    assert masked.status_code == 200
    # (whole values: a bare "555" or 07102 can be digits of a timestamp's microseconds)
    for personal in ("ana.buyer@example.com", "4155550175", "415 555 0175", "1 Main St", "Newark", '"07102"',
                     "ring twice"):
        assert personal not in masked.text, personal
    doc = masked.json()["document"]
    assert masked.json()["personal_data"] == "masked" and "[masked]" in masked.text
    assert doc["lines"][0]["sku"] == "S1" and masked.json()["state"] == whole.json()["state"]  # the sale stays

    rules_before = api.get("/api/v1/routing-rules/history", headers=reader).json()
    refused = api.put("/api/v1/routing-rules", json={"rules": []}, headers=reader)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/routing-rules/history", headers=admin).json() == rules_before


def test_an_associate_sees_the_buyer_of_an_order_at_its_store_only(stores, api):
    admin = bearer(issue_token(stores, "admin"))
    order_id = _order_with_a_buyer(api, admin)  # assigned to A, the only stock
    at_a = bearer(issue_token(stores, "store_associate", locations=["A"]))
    at_b = bearer(issue_token(stores, "store_associate", locations=["B"]))
    assert "ana.buyer@example.com" in api.get(f"/api/v1/orders/{order_id}", headers=at_a).text
    assert api.get(f"/api/v1/orders/{order_id}", headers=at_b).status_code == 403
    assert [o["id"] for o in api.get("/api/v1/orders", headers=at_a).json()["items"]] == [order_id]
    assert api.get("/api/v1/orders", headers=at_b).json()["items"] == []


def test_a_revoked_token_is_refused_at_once(stores, api):
    admin = bearer(issue_token(stores, "admin"))
    made = api.post("/api/v1/tokens", json={"name": "erp", "role": "integration", "scopes": ["stock.read"]}, headers=admin)
    assert made.status_code == 201, made.text
    erp = bearer(made.json()["token"])
    assert api.get("/api/v1/positions/S1", headers=erp).status_code == 200  # verified, now in the cache
    assert api.delete(f"/api/v1/tokens/{made.json()['id']}", headers=admin).json()["revoked"] is True
    refused = api.get("/api/v1/positions/S1", headers=erp)  # the next request, same process
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    listed = {r["name"]: r for r in api.get("/api/v1/tokens", headers=admin).json()["tokens"]}
    assert listed["erp"]["state"] == "revoked" and made.json()["token"] not in str(listed)


def test_an_expired_token_is_refused_and_an_integration_token_holds_only_its_scopes(stores, api):
    erp = issue_token(stores, "integration", name="erp", scopes=["orders.ingest:erp"], expires_days=1)
    order = {"channel": "erp", "lines": [{"sku": "S1", "quantity": 1}]}
    assert api.post("/api/v1/orders", json={**order, "channel": "shopify"}, headers=bearer(erp)).status_code == 403
    assert api.post("/api/v1/stock/receive", json={"sku": "S1", "location": "A", "quantity": 1},
                    headers=bearer(erp)).status_code == 403
    assert api.post("/api/v1/orders", json=order, headers=bearer(erp)).status_code in {201, 422}  # past access
    with stores.engine.begin() as conn:
        conn.execute(t.api_tokens.update().values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    stores.tokens.forget(int(stores.tokens.list()[0]["id"]))
    assert api.post("/api/v1/orders", json=order, headers=bearer(erp)).status_code == 401


def test_a_receipt_without_credentials_is_401_over_the_wire_and_records_nothing(stores):
    with LiveServer(create_app(hub=stores)) as server:
        r = httpx.post(server.url + "/api/v1/stock/receive", json={"sku": "S1", "location": "A", "quantity": 1000})
        bad = httpx.post(server.url + "/api/v1/stock/receive", json={"sku": "S1", "location": "A", "quantity": 1000},
                         headers={"Authorization": "Bearer ohk_not-a-token"})
        basic = httpx.get(server.url + "/api/v1/positions/S1", auth=("admin", "admin"))
        health = httpx.get(server.url + "/healthz")
    for refused in (r, bad, basic):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert health.status_code == 200
    assert _movements(stores) == 0 and count_rows(stores, "outbox") == 0
    assert stores.queries.positions("S1") == {} or all(p.on_hand == 0 for p in stores.queries.positions("S1").values())


def test_last_used_is_written_off_the_request_path(stores, api):
    token = issue_token(stores, "read_only", name="dashboard")
    assert api.get("/api/v1/locations", headers=bearer(token)).status_code == 200
    stores.tokens.close()  # waits for the background write
    [row] = [r for r in stores.tokens.list() if r["name"] == "dashboard"]
    assert row["last_used_at"] is not None
