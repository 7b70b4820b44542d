"""POST /orders/{order_id}/route: an order's units that have not left a shelf are routed
again under the rules in force, against the stock of now, with a new routing decision;
refused (problem+json) for a held order, an order whose goods have left, a role that may
not act; recorded in the audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, add_skus, bearer, issue_token

ORDER = {"channel": "manual", "lines": [{"sku": "MUG", "quantity": 2}], "customer": {"email": "ana@example.com"},
         "shipping_address": {"line1": "1 Main St", "country": "US", "lat": 40.7, "lng": -74.0}}


def _estate(hub) -> None:
    add_location(hub, "NEAR", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "FAR", kind="warehouse", capabilities=["ship"], lat=40.0, lng=-75.0)
    add_skus(hub, "MUG")
    hub.inventory.receive("MUG", "FAR", 5)


def test_route_again_reserves_where_the_rules_now_send_it_and_explains_it(hub):
    _estate(hub)
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "operator"))) as api:
        oid = api.post("/api/v1/orders", json=ORDER).json()["order_id"]
        assert [a["location"] for a in api.get(f"/api/v1/orders/{oid}").json()["assignments"]] == ["FAR"]
        hub.inventory.receive("MUG", "NEAR", 3)
        r = api.post(f"/api/v1/orders/{oid}/route")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["verdict"], body["outcome"], body["state"]) == ("rerouted", "allocated", "allocated")
        assert body["assignments"] == [{"line_id": "1", "sku": "MUG", "location": "NEAR", "quantity": 2}]
        order = api.get(f"/api/v1/orders/{oid}").json()
        assert len(order["routing"]) == 2 and order["routing"][-1]["explanation"]["assignments"][0]["quantity"] == 2
    positions = hub.queries.positions("MUG")
    assert (positions["FAR"].reserved, positions["NEAR"].reserved) == (0, 2)
    [event] = [e for e in hub.audit.page(limit=20)[0] if e["action"] == "orders.route_again"]
    assert event["target"] == f"order_id={oid}"


def test_route_again_refusals_are_problems(hub):
    _estate(hub)
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        oid = api.post("/api/v1/orders", json=ORDER).json()["order_id"]
        assert api.post(f"/api/v1/orders/{oid}/shipments", json={"location": "FAR"}).status_code == 201
        gone = api.post(f"/api/v1/orders/{oid}/route")
        assert gone.status_code == 409 and gone.headers["content-type"] == "application/problem+json"
        assert "nothing of it can be routed again" in gone.json()["detail"]
        other = api.post("/api/v1/orders", json={**ORDER, "lines": [{"sku": "MUG", "quantity": 1}]}).json()["order_id"]
        assert api.post(f"/api/v1/orders/{other}/hold", json={"reason": "address check"}).status_code in (200, 409)
        missing = api.post("/api/v1/orders/999999/route")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "read_only"))) as ro:
        refused = ro.post(f"/api/v1/orders/{other}/route")
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


def test_a_held_order_is_released_not_routed_again(hub):
    _estate(hub)
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        oid = api.post("/api/v1/orders", json={**ORDER, "channel_risk": "high"}).json()["order_id"]
        assert api.get(f"/api/v1/orders/{oid}").json()["state"] == "held"
        r = api.post(f"/api/v1/orders/{oid}/route")
        assert r.status_code == 409 and "release the hold" in r.json()["detail"]
