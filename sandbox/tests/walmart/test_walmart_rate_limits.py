"""Per-API rate limits with Walmart's headers, 429 REQUEST_THRESHOLD_VIOLATED, and 413 for
payloads beyond their limits."""

from __future__ import annotations

import json

from omnihub_sandbox.walmart.config import DEFAULT_RATE_LIMITS, ApiLimit
from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller


def test_a_drained_bucket_is_429_with_retry_after_and_token_counts(make_seller, make_config, clock) -> None:
    seller = make_seller(make_config(rate_limits={"orders_list": ApiLimit(calls=3, per_seconds=60)}))
    seller.login()
    counts = []
    for _ in range(3):
        answer = seller.call("GET", "/v3/orders")
        assert answer.status_code == 200
        counts.append(int(answer.headers["X-Current-Token-Count"]))
    assert counts == [2, 1, 0]
    refused = seller.call("GET", "/v3/orders")
    assert refused.status_code == 429
    assert problems("ErrorResponse", refused.json()) == []
    error = refused.json()["errors"][0]
    assert error["code"] == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API" and error["category"] == "REQUEST"
    assert refused.headers["Retry-After"] == "20"  # one token every 60/3 seconds
    now_ms = int(clock() * 1000)
    assert int(refused.headers["X-Next-Replenishment-Time"]) == now_ms + 20_000
    assert refused.headers["X-Current-Token-Count"] == "0"
    clock.advance(19.9)
    assert seller.call("GET", "/v3/orders").status_code == 429
    clock.advance(0.1)
    assert seller.call("GET", "/v3/orders").status_code == 200
    assert seller.call("GET", "/v3/orders").status_code == 429
    assert seller.http.get("/_sandbox/stats").json()["throttled_calls"] == 3


def test_the_sustained_rate_is_the_configured_one(make_seller, make_config, clock) -> None:
    seller = make_seller(make_config(rate_limits={"order_get": ApiLimit(calls=30, per_seconds=60)}))
    seller.login()
    while seller.call("GET", "/v3/orders/1").status_code != 429:
        pass
    allowed = 0
    for _ in range(600):  # ten simulated minutes in steps of one second
        clock.advance(1)
        if (answer := seller.call("GET", "/v3/orders/1")).status_code == 401:
            seller.login()
            answer = seller.call("GET", "/v3/orders/1")
        allowed += answer.status_code != 429
    assert allowed == 300  # 30 a minute


def test_buckets_are_per_api_and_configurable_at_run_time(make_seller, make_config) -> None:
    seller = make_seller(make_config(rate_limits={"inventory_get": ApiLimit(calls=1, per_seconds=3600)}))
    assert seller.call("GET", "/v3/inventory", params={"sku": "WM-00001"}).status_code == 200
    assert seller.call("GET", "/v3/inventory", params={"sku": "WM-00001"}).status_code == 429
    assert seller.call("GET", "/v3/inventories/WM-00001").status_code == 200  # another API, another bucket
    limits = seller.http.get("/_sandbox/rate-limits").json()
    assert set(limits) == set(DEFAULT_RATE_LIMITS) and limits["inventory_get"] == {"calls": 1, "per_seconds": 3600}
    assert seller.http.put("/_sandbox/rate-limits/inventory_get", json={"calls": 2, "per_seconds": 1}).status_code == 200
    assert [seller.call("GET", "/v3/inventory", params={"sku": "WM-00001"}).status_code for _ in range(3)] == [200, 200, 429]
    assert seller.http.put("/_sandbox/rate-limits/nope", json={"calls": 2, "per_seconds": 1}).status_code == 404


def test_a_429_storm_refuses_every_metered_call_until_it_ends(seller: Seller, clock) -> None:
    seller.login()
    assert seller.http.put("/_sandbox/throttle-storm", json={"seconds": 30}).status_code == 200
    assert seller.call("GET", "/v3/orders").status_code == 429
    assert seller.call("GET", "/v3/feeds").status_code == 429
    clock.advance(30)
    assert seller.call("GET", "/v3/orders").status_code == 200


def test_refusals_before_the_bucket_carry_no_rate_headers(seller: Seller) -> None:
    answer = seller.http.get("/v3/orders", headers={"WM_SVC.NAME": "x", "WM_QOS.CORRELATION_ID": "y"})
    assert answer.status_code == 400 and "X-Current-Token-Count" not in answer.headers


def test_a_body_beyond_the_request_limit_is_413(make_seller, make_config) -> None:
    seller = make_seller(make_config(request_max_bytes=256))
    big = {"sku": "WM-00001", "quantity": {"unit": "EACH", "amount": 1}, "padding": "x" * 300}
    answer = seller.call("PUT", "/v3/inventory", params={"sku": "WM-00001"}, content=json.dumps(big).encode(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and problems("ErrorResponse", answer.json()) == []
    assert answer.json()["errors"][0]["code"].startswith("REQUEST_ENTITY_TOO_LARGE")
    assert seller.push("WM-00001", 1).status_code == 200


def test_a_feed_beyond_its_size_or_item_limit_is_413(make_seller, make_config) -> None:
    seller = make_seller(make_config(feed_max_bytes=2048, feed_max_items=3))
    items = [{"sku": f"WM-0000{i}", "quantity": {"unit": "EACH", "amount": i}} for i in range(1, 5)]
    too_many = seller.submit_feed({"InventoryHeader": {"version": "1.4"}, "Inventory": items})
    assert too_many.status_code == 413
    too_big = seller.submit_feed({"InventoryHeader": {"version": "1.4"}, "Inventory": items[:1], "pad": "x" * 3000})
    assert too_big.status_code == 413
    assert seller.submit_feed({"InventoryHeader": {"version": "1.4"}, "Inventory": items[:3]}).status_code == 200
