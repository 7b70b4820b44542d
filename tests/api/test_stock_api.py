"""The HTTP API as a new user meets it: the happy path, then every kind of bad input,
answered with problem+json and nothing half-written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app
from tests.conftest import count_rows

PROBLEM = "application/problem+json"

CSV = {"Content-Type": "text/csv"}  # what a snapshot upload declares


@pytest.fixture
def api(hub):
    with TestClient(admin_app(hub)) as client:
        client.post("/api/v1/locations", json={"code": "WH", "name": "Warehouse", "kind": "warehouse", "capabilities": ["ship"],
                                                "lat": 40.7, "lng": -74.0, "time_zone": "America/New_York"})
        client.post("/api/v1/locations", json={"code": "ST", "name": "Store", "kind": "store", "capabilities": ["ship", "pickup"]})
        client.post("/api/v1/products", json={"title": "Tee", "variants": [{"sku": "TEE-M", "gtin": "036000291452"}, {"sku": "TEE-L"}]})
        client.put("/api/v1/channels/amazon", json={"name": "Amazon", "kind": "amazon", "feeds": {"WH": "ship"}, "buffer": 1})
        yield client


def move(api, key=None, **body):
    data = {"sku": "TEE-M", "location": "WH", "quantity": 5, "from_state": "received", "to_state": "on_hand", "reason": "receipt"}
    data.update(body)
    return api.post("/api/v1/movements", json=data, headers={"Idempotency-Key": key} if key else {})


def assert_problem(r, status, field=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert any(field in e["field"] for e in body["errors"]), body
    return body


def test_movement_then_positions_atp_explain_and_history(api):
    r = move(api, quantity=12)
    assert r.status_code == 201
    assert r.json()["positions"]["TEE-M@WH"]["on_hand"] == 12
    assert api.get("/api/v1/positions/TEE-M").json()["locations"]["WH"]["on_hand"] == 12
    assert api.get("/api/v1/atp/TEE-M").json()["atp"] == 12
    assert api.get("/api/v1/atp/TEE-M", params={"channel": "amazon"}).json()["atp"] == 11
    bulk = api.post("/api/v1/atp/bulk", json={"skus": ["TEE-M", "TEE-L"]}).json()
    assert [b["atp"] for b in bulk] == [12, 0]
    exp = api.get("/api/v1/atp/TEE-M/explain", params={"channel": "amazon"}).json()
    assert (exp["pool"], exp["buffer"], exp["atp"]) == (12, 1, 11)
    assert api.get("/api/v1/channels/amazon/availability", params={"sku": "TEE-M"}).json()[0]["quantity"] == 11
    for _ in range(3):
        move(api, quantity=1)
    page1 = api.get("/api/v1/ledger/TEE-M", params={"limit": 2}).json()
    page2 = api.get("/api/v1/ledger/TEE-M", params={"limit": 2, "after_id": page1["next_after_id"]}).json()
    assert len(page1["items"]) == 2 and len(page2["items"]) == 2
    assert page1["items"][-1]["id"] < page2["items"][0]["id"]


def test_idempotency_key_records_once_and_answers_the_same(api, hub):
    a = move(api, key="po-17-line-1")
    b = move(api, key="po-17-line-1")
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json() and b.headers.get("Idempotent-Replayed") == "true"
    assert count_rows(hub, "movements") == 1
    c = move(api, key="po-17-line-1", quantity=6)
    assert_problem(c, 409, "Idempotency-Key")
    assert count_rows(hub, "movements") == 1


def test_version_conflict_answers_409_and_a_retry_with_the_new_version_works(api):
    move(api)
    v = api.get("/api/v1/positions/TEE-M").json()["locations"]["WH"]["version"]
    move(api, quantity=1)
    stale = move(api, quantity=1, expected_version=v)
    body = assert_problem(stale, 409, "expected_version")
    assert body["current_version"] == v + 1
    assert move(api, quantity=1, expected_version=body["current_version"]).status_code == 201


def test_stock_operations(api):
    api.post("/api/v1/stock/receive", json={"sku": "TEE-M", "location": "ST", "quantity": 6})
    assert api.post("/api/v1/stock/reserve", json={"sku": "TEE-M", "location": "ST", "quantity": 2}).status_code == 201
    assert api.post("/api/v1/stock/damage", json={"sku": "TEE-M", "location": "ST", "quantity": 1}).status_code == 201
    assert api.post("/api/v1/stock/counts", json={"sku": "TEE-M", "location": "ST", "counted": 4}).status_code == 201
    api.post("/api/v1/stock/transfers", json={"sku": "TEE-M", "from_location": "ST", "to_location": "WH", "quantity": 1})
    api.post("/api/v1/stock/transfers/receive", json={"sku": "TEE-M", "location": "WH", "quantity": 1})
    locs = api.get("/api/v1/positions/TEE-M").json()["locations"]
    assert (locs["ST"]["on_hand"], locs["ST"]["reserved"], locs["ST"]["damaged"], locs["WH"]["on_hand"]) == (4, 2, 1, 1)
    sale = api.post("/api/v1/stock/sale", json={"sku": "TEE-M", "location": "ST", "quantity": 3, "channel": "amazon"})
    assert sale.json()["oversold"] == 2
    assert api.get("/api/v1/oversells").json()[0]["units"] == 2
    assert_problem(api.post("/api/v1/stock/teleport", json={"sku": "TEE-M", "location": "ST", "quantity": 1}), 404, "operation")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sku": "NOPE"}, "sku"),
        ({"location": "MOON"}, "location"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "five"}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"from_state": "limbo"}, "from_state"),
        ({"reason": "because"}, "reason"),
        ({"extra": 1}, "extra"),
        ({"from_state": "on_hand", "to_state": "reserved", "reason": "reservation"}, "quantity"),
    ],
)
def test_bad_movements_get_a_clear_problem_and_nothing_is_written(api, hub, body, field):
    r = move(api, **body)
    assert_problem(r, 422, field)
    assert count_rows(hub, "movements") == 0


def test_unknown_things_are_404(api):
    assert_problem(api.get("/api/v1/positions/NOPE"), 404, "sku")
    assert_problem(api.get("/api/v1/atp/TEE-M", params={"channel": "ebay"}), 404, "channel")
    assert_problem(api.get("/api/v1/locations/NOPE"), 404)
    assert_problem(api.get("/api/v1/no-such-route"), 404)


def test_catalog_validation(api):
    assert_problem(api.post("/api/v1/products", json={"title": "X", "variants": [{"sku": "X1", "gtin": "036000291453"}]}), 422, "gtin")
    assert_problem(api.post("/api/v1/products", json={"title": "X", "variants": [{"sku": "TEE-M"}]}), 409)
    assert_problem(api.post("/api/v1/products", json={"title": "X", "variants": []}), 422, "variants")
    assert_problem(api.post("/api/v1/locations", json={"code": "WH", "name": "again", "kind": "warehouse"}), 409, "code")
    assert_problem(api.post("/api/v1/locations", json={"code": "X", "name": "x", "kind": "castle"}), 422, "kind")
    assert_problem(api.post("/api/v1/locations", json={"code": "X", "name": "x", "kind": "store", "lat": 91}), 422, "lat")
    assert_problem(api.post("/api/v1/locations", json={"code": "X", "name": "x", "kind": "store", "time_zone": "Mars/Olympus"}), 422, "time_zone")
    assert_problem(api.put("/api/v1/channels/amazon", json={"name": "A", "kind": "amazon", "share_pct": 150}), 422, "share_pct")
    assert_problem(api.put("/api/v1/channels/amazon", json={"name": "A", "kind": "amazon", "feeds": {"NOPE": "ship"}}), 422, "feeds")
    assert_problem(api.put("/api/v1/stock-policies", json={"location": "WH", "safety_stock": -1}), 422, "safety_stock")


def test_malformed_json_and_huge_bodies(api, hub):
    r = api.post("/api/v1/movements", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(r, 400)  # not JSON at all (test_api_error_details: where it breaks)
    huge = b'{"sku": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    r = api.post("/api/v1/movements", content=huge, headers={"content-type": "application/json"})
    assert_problem(r, 413)
    assert count_rows(hub, "movements") == 0


def test_erp_snapshot_upload_reports_bad_rows_and_applies_good_ones(api):
    ok = api.post("/api/v1/stock/snapshots", content="sku,location,on_hand\nTEE-M,WH,9\n", headers=CSV)
    assert ok.status_code == 200 and ok.json()["applied"] == 1
    bad = api.post("/api/v1/stock/snapshots", content="sku,location,on_hand\nTEE-M,WH,x\nTEE-L,WH,3\n", headers=CSV)
    body = assert_problem(bad, 422)
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["column"] == 3
    assert body["report"]["applied"] == 1
    assert api.get("/api/v1/positions/TEE-L").json()["locations"]["WH"]["on_hand"] == 3
    assert_problem(api.post("/api/v1/stock/snapshots", content=b"\xff\xfe\x00bad", headers=CSV), 422)


def test_openapi_is_served(api):
    spec = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/movements" in spec["paths"]
