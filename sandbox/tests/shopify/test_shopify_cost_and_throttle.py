"""Calculated query cost and the leaky bucket, measured.

The rate test drives a real server with an injected clock so it is exact and fast; one
real-time check, bounded by timestamps taken around the requests, proves the wall
clock drives the same bucket.
"""

from __future__ import annotations

import time

import pytest
from graphql import parse

from omnihub_sandbox.shopify.clock import ManualClock
from omnihub_sandbox.shopify.cost import CostCalculator, operation_fragments
from omnihub_sandbox.shopify.graphql_api import pick_operation
from omnihub_sandbox.shopify.graphql_schema import load_schema

SCHEMA = load_schema()
# 6 products x 2 variants in the test shop: requested == actual for this one.
NESTED = "{ products(first: 6) { nodes { id variants(first: 2) { nodes { id sku } } } } }"
NESTED_COST = 2 + 6 * (1 + 2 + 2 * 1)


def requested(query: str, variables: dict | None = None) -> int:
    document = parse(query)
    return CostCalculator(SCHEMA, pick_operation(document, None), operation_fragments(document), variables).requested()


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ shop { name } }", 1),
        ("{ shop { name plan { publicDisplayName } } }", 2),
        ("{ products(first: 10) { edges { node { id title } } pageInfo { hasNextPage } } }", 12),
        ("{ products(first: 10) { nodes { variants(first: 5) { nodes { price } } } } }", 2 + 10 * (1 + 2 + 5)),
        ("query($n: Int) { orders(last: $n) { nodes { id } } }", None),
        ("mutation { webhookSubscriptionDelete(id: \"gid://shopify/WebhookSubscription/1\") { userErrors { message } } }", 10),
        ("{ node(id: \"gid://shopify/Product/1\") { ... on Product { title } ... on Order { lineItems(first: 3) { nodes { id } } } } }", 1 + 5),
        ("fragment F on Product { id variantsCount { count } } { products(first: 2) { nodes { ...F } } }", 2 + 2 * 2),
    ],
)
def test_requested_cost_follows_the_published_rules(query, cost):
    if cost is None:
        assert requested(query, {"n": 7}) == 2 + 7
    else:
        assert requested(query) == cost


def test_burst_beyond_the_bucket_is_throttled_with_cost_extensions(live_sandbox):
    client, _ = live_sandbox(clock=ManualClock())  # the clock never moves: no refill
    accepted = 0
    while True:
        body = client.gql(NESTED)
        if "errors" in body:
            break
        accepted += 1
        assert body["extensions"]["cost"]["actualQueryCost"] == NESTED_COST
    assert accepted == 2000 // NESTED_COST  # standard plan: 100/s, bucket 20 x 100
    [err] = body["errors"]
    assert err["message"] == "Throttled" and err["extensions"]["code"] == "THROTTLED"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == NESTED_COST and cost["actualQueryCost"] is None
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 2000 - accepted * NESTED_COST,
                                      "restoreRate": 100.0}
    assert "data" not in body



def test_refund_of_requested_minus_actual(live_sandbox):
    client, _ = live_sandbox(clock=ManualClock())
    body = client.gql("{ products(first: 50) { nodes { id } } }")
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (52, 8)
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000 - 8


@pytest.mark.parametrize("plan,rate", [("standard", 100), ("plus", 1000)])
def test_allowed_rate_over_a_window_matches_the_restore_rate(live_sandbox, plan, rate):
    clock = ManualClock()
    client, _ = live_sandbox(clock=clock, plan=plan, bucket_size=NESTED_COST * 4)
    while "errors" not in client.gql(NESTED):  # drain the bucket
        pass
    step_s = 0.25 * 100 / rate  # 80 steps: 20 s on standard, 2 s on plus (2,000 points either way)
    window_s = 80 * step_s
    spent = 0
    elapsed = 0.0
    while elapsed < window_s - 1e-9:
        clock.advance(step_s)
        elapsed += step_s
        while True:
            body = client.gql(NESTED)
            if "errors" in body:
                assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
                break
            spent += NESTED_COST
    measured = spent / window_s
    assert abs(measured - rate) / rate < 0.05, measured


def test_the_system_clock_restores_the_bucket_at_the_plans_rate(live_sandbox):
    """With the wall clock, the bucket fills at 100 points a second (standard plan).

    The sandbox reads its clock while answering, so the time it saw between two requests
    lies between the gap from the first answer to the second request and the span from
    the first request to the second answer. Bounds taken that way hold on a loaded
    machine as on an idle one: a stall widens them, it cannot break them.
    """
    client, _ = live_sandbox(bucket_size=200)
    query = "{ products(first: 6) { nodes { id } } }"  # costs 8, refunds nothing
    while "errors" not in client.gql(query):  # drain
        pass

    def available(body: dict) -> tuple[float, float]:
        cost = body["extensions"]["cost"]
        left = cost["throttleStatus"]["currentlyAvailable"]
        return left, left + (cost["actualQueryCost"] or 0)  # (after the charge, before it)

    t0 = time.monotonic()
    first = client.gql(query)
    t1 = time.monotonic()
    time.sleep(0.5)
    t2 = time.monotonic()
    second = client.gql(query)
    t3 = time.monotonic()
    after_first, _ = available(first)
    _, before_second = available(second)
    restored = before_second - after_first
    room = 200 - after_first
    assert restored <= min(100 * (t3 - t0), room) + 1, (restored, t3 - t0)
    assert restored >= min(100 * (t2 - t1), room) - 1, (restored, t2 - t1)
