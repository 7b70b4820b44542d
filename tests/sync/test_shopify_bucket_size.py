"""The connector learns the shop's bucket from `extensions.cost.throttleStatus`, over real
HTTP, whatever size the shop has: a larger bucket than the plan's guessed 20 x restore
rate is spent as it is (no waiting for room the client only imagines it lacks), a smaller
one is never waited on for room it cannot have.

The client's sleeps are counted, not timed: a client that waits where it need not asks
for sleep, and one that would wait forever asks for more than the test lets it have.
"""

from __future__ import annotations

import threading
import time

import pytest

from omnihub.adapters.channels.shopify.cost_bucket import CostBucket
from omnihub_sandbox.shopify.clock import ManualClock
from tests.sync.conftest import shopify_config

# 6 products in the shop: Shopify asks 2 + 110 x 8 points up front (under its 1000 a query) and refunds the rest.
WIDE = "{ products(first: 110) { nodes { id variants(first: 5) { nodes { id } } } } }"
WIDE_REQUESTED = 2 + 110 * (1 + 2 + 5)
NARROW = "{ products(first: 50) { nodes { id variants(first: 2) { nodes { id sku } } } } }"
NARROW_REQUESTED = 2 + 50 * (1 + 2 + 2)


class SleepBudget:
    """Stands in for time.sleep in the client's bucket: sleeps for real, counts, and fails
    the call once the client has asked for more than `budget_s` in all."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.asked = 0.0
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.asked += seconds
            over = self.asked > self.budget_s
        if over:
            raise AssertionError(f"the client waited {self.asked:.1f} s for the bucket (budget {self.budget_s} s)")
        time.sleep(seconds)


def _start(serve_simulator, tmp_path, clock=None, **overrides):
    from omnihub_sandbox.shopify.app import create_app

    app = create_app(shopify_config(tmp_path, catalog_products=6, **overrides), clock=clock)
    return serve_simulator(app), app


def _client(shopify_connector, url: str, sleep: SleepBudget):
    conn = shopify_connector(url)  # plan plus: the client guesses 1000 points/s and a 20,000-point bucket
    conn.client.bucket = CostBucket(restore_rate=1000.0, max_use=0.8, sleep=sleep)
    return conn.client


def test_a_bucket_larger_than_guessed_is_read_and_spent(serve_simulator, tmp_path, shopify_connector):
    """200,000 points and a clock that never moves (no refill): 30 wide queries reserve
    26,000 points, more than the guessed bucket holds; the shop refunds what it did
    not spend, and the client believes Shopify's figure, so it never has to wait."""
    server, app = _start(serve_simulator, tmp_path, clock=ManualClock(), bucket_size=200_000)
    sleep = SleepBudget(budget_s=1.0)
    client = _client(shopify_connector, server.url, sleep)
    for _ in range(30):
        client.execute(WIDE)
    bucket = client.bucket
    assert (bucket.maximum, bucket.restore_rate) == (200_000.0, 1000.0)
    assert bucket.stats.throttled == 0 and bucket.stats.calls == 30
    assert client._known_cost[WIDE] == WIDE_REQUESTED
    assert 30 * WIDE_REQUESTED > 0.8 * 20_000  # more than the guess would have allowed without refills
    shop_says = app.state.shop.throttle.bucket(client._headers["X-Shopify-Access-Token"],
                                               app.state.shop.config.shop_domain).status()
    assert bucket.available == pytest.approx(shop_says.currently_available, abs=1.0)
    assert sleep.asked < 0.1


@pytest.mark.parametrize("threads", [1, 4])
def test_a_bucket_smaller_than_guessed_paces_the_calls_and_never_strands_one(serve_simulator, tmp_path, shopify_connector,
                                                                              threads):
    """300 points, refilled at 1000/s: every call of 252 points needs most of the bucket.
    The first answer tells the client the size before any other call goes (so no burst
    overdraws it), and callers already waiting for the guessed bucket's room are not left
    waiting for room a 300-point bucket cannot have."""
    server, _ = _start(serve_simulator, tmp_path, bucket_size=300)
    sleep = SleepBudget(budget_s=30.0)
    client = _client(shopify_connector, server.url, sleep)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(3):
                client.execute(NARROW)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "a caller is still waiting for the bucket"
    assert not errors, errors
    bucket = client.bucket
    assert bucket.maximum == 300.0 and bucket.stats.calls == 3 * threads
    # A caller that reserved its first call before the cost was known may be throttled
    # once (its guess of 50 points was low); none is throttled twice.
    assert bucket.stats.throttled <= threads - 1
    assert 0 < sleep.asked
