"""Usage plans: bursts, sustained rates on a simulated clock, and the system clock's refill
bounded by timestamps around the requests."""

from __future__ import annotations

import re
import time

import pytest

from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller, TestClient, create_app
from omnihub_sandbox.spapi.clock import iso
from omnihub_sandbox.amazon.rate_limits import USAGE_PLANS
from shared_contracts import beyond_shared
from spapi_contract import find_operation

QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
MODELS = {"getOrders": "ordersV0.json", "getOrder": "ordersV0.json", "getOrderItems": "ordersV0.json",
          "getOrderAddress": "ordersV0.json", "getOrderBuyerInfo": "ordersV0.json",
          "searchOrders": "orders_2026-01-01.json", "getOrder:2026-01-01": "orders_2026-01-01.json",
          "confirmShipment": "ordersV0.json", "getListingsItem": "listingsItems_2021-08-01.json",
          "patchListingsItem": "listingsItems_2021-08-01.json", "searchListingsItems": "listingsItems_2021-08-01.json",
          "createFeedDocument": "feeds_2021-06-30.json",
          **{op: "notifications.json" for op in ("getSubscriptions", "getSubscription", "createSubscription",
                                                 "getSubscriptionById", "deleteSubscriptionById", "getDestinations",
                                                 "createDestination", "getDestination", "deleteDestination")},
          "createFeed": "feeds_2021-06-30.json", "getFeed": "feeds_2021-06-30.json", "getFeedDocument": "feeds_2021-06-30.json",
          **dict.fromkeys(("getReports", "createReport", "getReport", "cancelReport", "getReportDocument"),
                          "reports_2021-06-30.json")}


@pytest.mark.parametrize("operation_id", sorted(USAGE_PLANS))
def test_usage_plans_are_the_published_ones(operation_id: str) -> None:
    if MODELS[operation_id] == "reports_2021-06-30.json":  # not among the shared contracts today
        beyond_shared("contracts", "amazon", "models", MODELS[operation_id])
    _, _, op = find_operation(MODELS[operation_id], operation_id.split(":")[0])  # "getOrder:2026-01-01": that model's
    rate, burst = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", op["description"]).groups()
    assert (USAGE_PLANS[operation_id].rate, USAGE_PLANS[operation_id].burst) == (float(rate), int(burst))


def _call_for(seller: Seller, operation_id: str, clock):
    """A cheap valid-or-400 request for each operation (400s still spend a token)."""
    calls = {
        "getOrders": ("GET", "/orders/v0/orders", {"params": {"MarketplaceIds": MARKETPLACE, "CreatedAfter": iso(clock() - 3600)}}),
        "getOrder": ("GET", "/orders/v0/orders/111-0000000-0000000", {}),
        "getOrderItems": ("GET", "/orders/v0/orders/111-0000000-0000000/orderItems", {}),
        "getOrderAddress": ("GET", "/orders/v0/orders/111-0000000-0000000/address", {}),
        "searchOrders": ("GET", "/orders/2026-01-01/orders", {"params": {"createdAfter": iso(clock() - 3600)}}),
        "getOrder:2026-01-01": ("GET", "/orders/2026-01-01/orders/111-0000000-0000000", {}),
        "getOrderBuyerInfo": ("GET", "/orders/v0/orders/111-0000000-0000000/buyerInfo", {}),
        "confirmShipment": ("POST", "/orders/v0/orders/111-0000000-0000000/shipmentConfirmation", {"json": {}}),
        "getListingsItem": ("GET", f"/listings/2021-08-01/items/{SELLER}/X", {"params": {"marketplaceIds": MARKETPLACE}}),
        "patchListingsItem": ("PATCH", f"/listings/2021-08-01/items/{SELLER}/X", {"params": {"marketplaceIds": MARKETPLACE}, "json": {}}),
        "searchListingsItems": ("GET", f"/listings/2021-08-01/items/{SELLER}", {"params": {"marketplaceIds": MARKETPLACE}}),
        "createFeedDocument": ("POST", "/feeds/2021-06-30/documents", {"json": {}}),
        "createFeed": ("POST", "/feeds/2021-06-30/feeds", {"json": {}}),
        "getFeed": ("GET", "/feeds/2021-06-30/feeds/1", {}),
        "getFeedDocument": ("GET", "/feeds/2021-06-30/documents/x", {}),
        "getReports": ("GET", "/reports/2021-06-30/reports", {}),
        "createReport": ("POST", "/reports/2021-06-30/reports", {"json": {}}),
        "getReport": ("GET", "/reports/2021-06-30/reports/1", {}),
        "cancelReport": ("DELETE", "/reports/2021-06-30/reports/1", {}),
        "getReportDocument": ("GET", "/reports/2021-06-30/documents/x", {}),
    }
    notifications = "/notifications/v1"
    calls.update({
        "getSubscriptions": ("GET", f"{notifications}/subscriptions", {"params": {"notificationTypes": "ORDER_CHANGE"}}),
        "getSubscription": ("GET", f"{notifications}/subscriptions/ORDER_CHANGE", {}),
        "createSubscription": ("POST", f"{notifications}/subscriptions/ORDER_CHANGE", {"json": {}}),
    })
    grantless = {
        "getSubscriptionById": ("GET", f"{notifications}/subscriptions/ORDER_CHANGE/x", {}),
        "deleteSubscriptionById": ("DELETE", f"{notifications}/subscriptions/ORDER_CHANGE/x", {}),
        "getDestinations": ("GET", f"{notifications}/destinations", {}),
        "createDestination": ("POST", f"{notifications}/destinations", {"json": {}}),
        "getDestination": ("GET", f"{notifications}/destinations/x", {}),
        "deleteDestination": ("DELETE", f"{notifications}/destinations/x", {}),
    }
    if operation_id in grantless:  # the app's own token; a new one when the hour is up
        method, url, kw = grantless[operation_id]
        token = {"value": seller.grantless_token()}

        def app_call():
            answer = seller.http.request(method, url, headers={"x-amz-access-token": token["value"]}, **kw)
            if answer.status_code == 403:
                token["value"] = seller.grantless_token()
            return answer

        return app_call
    method, url, kw = calls[operation_id]
    if operation_id in ("getOrderAddress", "getOrderBuyerInfo"):  # restricted: a Restricted Data Token only
        token = {"rdt": ""}

        def restricted():
            if not token["rdt"]:
                token["rdt"] = seller.restricted_data_token("GET", url.replace("111-0000000-0000000", "{orderId}"))
            answer = seller.call(method, url, headers={"x-amz-access-token": token["rdt"]}, **kw)
            if answer.status_code == 403:  # the token outlived its hour
                token["rdt"] = ""
            return answer

        return restricted
    return lambda: seller.call(method, url, **kw)


def test_a_burst_beyond_the_bucket_is_429_quota_exceeded(seller: Seller, clock) -> None:
    call = _call_for(seller, "patchListingsItem", clock)
    statuses = [call().status_code for _ in range(5)]
    assert 429 not in statuses
    throttled = call()
    assert throttled.status_code == 429 and throttled.json() == {"errors": [QUOTA]}
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "5.0" and throttled.headers["x-amzn-RequestId"]
    clock.advance(0.2)  # one token back at 5/s
    assert call().status_code != 429
    assert call().status_code == 429


@pytest.mark.parametrize("operation_id", sorted(USAGE_PLANS))
def test_sustained_rate_matches_the_plan_within_5_percent(seller: Seller, clock, operation_id: str) -> None:
    plan = USAGE_PLANS[operation_id]
    call = _call_for(seller, operation_id, clock)
    seller.login()
    burst = 0
    while call().status_code != 429:
        burst += 1
    assert burst == plan.burst
    # 30 simulated seconds for the fast plans; for the slow ones, the time 30 requests take.
    window = max(30.0, 30 / plan.rate)
    steps = 240  # finer than the plan's refill: at most one token per step for 5/s plans
    allowed = 0
    for _ in range(steps):
        clock.advance(window / steps)
        answer = call()
        if answer.status_code == 403:  # the access token outlived its hour on slow plans
            seller.login()
            answer = call()
        allowed += answer.status_code != 429
    measured = allowed / window
    assert abs(measured - plan.rate) <= 0.05 * plan.rate, (operation_id, measured, plan.rate)


def test_rate_limit_header_on_every_answer(seller: Seller, clock) -> None:
    answer = _call_for(seller, "getOrders", clock)()
    assert answer.status_code == 200 and answer.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert _call_for(seller, "getFeed", clock)().headers["x-amzn-RateLimit-Limit"] == "2.0"


def test_buckets_are_per_operation(seller: Seller, clock) -> None:
    for _ in range(5):
        _call_for(seller, "patchListingsItem", clock)()
    assert _call_for(seller, "patchListingsItem", clock)().status_code == 429
    assert _call_for(seller, "getListingsItem", clock)().status_code == 404


def test_the_system_clock_refills_the_bucket_at_the_plans_rate(make_config) -> None:
    """With the system clock: patchListingsItem (5/s, burst 5), drained, rested, drained again.

    The sandbox reads its clock while answering, so the time it saw between the two 429s
    lies between the gap from the first 429's answer to the next request and the span from
    the first 429's request to the last 429's answer. A token bucket that was empty at
    both 429s let through its refill over that time, give or take one token. Bounds taken
    that way hold on a loaded machine as on an idle one.
    """
    config = make_config(clock=time.time)
    seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    seller.login()
    url = f"/listings/2021-08-01/items/{SELLER}/X"

    def patch() -> bool:
        return seller.call("PATCH", url, params={"marketplaceIds": MARKETPLACE}, json={}).status_code != 429

    while True:  # drain
        sent_empty = time.monotonic()
        if not patch():
            answered_empty = time.monotonic()
            break
    time.sleep(0.6)
    resumed = time.monotonic()
    allowed = 0
    while patch():
        allowed += 1
    last_answer = time.monotonic()
    most = min(5 * (last_answer - sent_empty), 5 + 5 * (last_answer - resumed))
    least = min(5 * (resumed - answered_empty), 4)
    assert least - 1 < allowed < most + 1, (allowed, least, most)


def test_a_429_storm_refuses_every_call_until_it_ends(seller: Seller, clock) -> None:
    call = _call_for(seller, "getListingsItem", clock)
    seller.login()
    assert call().status_code != 429
    assert seller.http.put("/_sandbox/throttle-storm", json={"seconds": 10}).status_code == 200
    throttled = call()
    assert throttled.status_code == 429 and throttled.json() == {"errors": [QUOTA]}
    assert _call_for(seller, "getOrders", clock)().status_code == 429  # every operation, whatever its bucket holds
    clock.advance(10.5)
    assert call().status_code != 429
    assert seller.http.put("/_sandbox/throttle-storm", json={"seconds": -1}).status_code == 400  # SP-API shape for bad input
