"""Budget use from the worker's rate-limit mirrors to the console: each mirror says how
much of its budget is spent now (refilling as time passes), the report keeps the latest
per channel, and an old report reads as stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnihub.adapters.channels.amazon.usage_plans import UsagePlan, UsagePlanLimiter
from omnihub.adapters.channels.shopify.cost_bucket import CostBucket
from omnihub.services.channel_budgets import STALE_AFTER, BudgetUse, read, report


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_shopify_bucket_says_how_much_is_spent_and_refills():
    clock = Clock()
    bucket = CostBucket(restore_rate=10, maximum=100, max_use=1.0, clock=clock, sleep=lambda s: None)
    assert bucket.used_pct() == 0
    bucket.settle(bucket.reserve(40), {"actualQueryCost": 40, "throttleStatus": {
        "maximumAvailable": 100, "currentlyAvailable": 60, "restoreRate": 10}})
    assert bucket.used_pct() == 40
    clock.now += 2  # 20 points restored
    assert bucket.used_pct() == 20 and bucket.stats.peak_used_pct == 40


def test_amazon_s_plans_say_the_fullest_use_of_any_operation():
    clock = Clock()
    limiter = UsagePlanLimiter({"getOrders": UsagePlan(1, 11), "createFeed": UsagePlan(1, 3)}, safety=1.0, clock=clock,
                               sleep=lambda s: None)
    assert limiter.used_pct() == 0
    for _ in range(5):
        limiter.acquire("getOrders")  # 5 of a burst of 10
    assert limiter.used_pct() == 50
    limiter.acquire("createFeed")
    limiter.acquire("createFeed")  # 2 of 2: the next must wait
    assert limiter.used_pct() == 100


def test_the_latest_report_per_channel_is_kept_and_an_old_one_is_stale(hub):
    then = datetime.now(UTC) - timedelta(minutes=3)
    report(hub.engine, [BudgetUse("shopify", 12.5, 40.0, 1), BudgetUse("amazon_seller", 130.0)], now=then)
    report(hub.engine, [BudgetUse("shopify", 30.0, 55.0, 2)])
    got = read(hub.engine)
    now = datetime.now(UTC)
    assert (got["shopify"].used_pct, got["shopify"].peak_used_pct, got["shopify"].throttled) == (30.0, 55.0, 2)
    assert not got["shopify"].stale(now)
    assert got["amazon_seller"].used_pct == 100.0 and got["amazon_seller"].stale(now)  # capped, and 3 min old
    assert got["amazon_seller"].stale(then + STALE_AFTER + timedelta(seconds=1))
