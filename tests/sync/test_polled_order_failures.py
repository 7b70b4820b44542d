"""Polled Amazon orders that cannot go in are parked like a webhook's, whatever the
failure (beyond the hub's limits, no lines, a field of the wrong shape) or tried again
by the inbox when it passes (getOrderItems failing for the moment); the cursor moves past
none of them in silence. Reconciliation compares the channel's orders in its window with
the hub's: what the hub lacks is a missed order, what it parked is known, not missing.
Over real HTTP against the Amazon sandbox; where the test needs an answer the sandbox
(a faithful Amazon) never gives, a thin wrapper edits the client's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.amazon.reconciliation_reads import AmazonReader
from omnihub.adapters.channels.amazon.sp_api_client import SpApiError
from omnihub.adapters.db import tables as t
from omnihub.services.channel_polling import AmazonPoller, read_cursor
from omnihub.services.reconciliation import Reconciliation
from tests.conftest import add_location, add_skus


class EditedAnswers:
    """The SP-API client, but getOrderItems answers what `edits` say for some orders, and
    fails (as after its own retries) the times `fail` says."""

    def __init__(self, client, *, edits: dict | None = None, fail: dict | None = None) -> None:
        self.client = client
        self.edits = edits or {}
        self.fail = dict(fail or {})
        self.item_calls: list[str] = []

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get_order_items(self, order_id: str) -> list[dict]:
        self.item_calls.append(order_id)
        if self.fail.get(order_id):
            self.fail[order_id] -= 1
            raise SpApiError("getOrderItems: network error ReadTimeout", retryable=True)
        items = self.client.get_order_items(order_id)
        return self.edits[order_id](items) if order_id in self.edits else items


def _seller(hub, amazon_sandbox, n_skus: int = 3):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    amazon, _, cfg = amazon_sandbox(catalog_size=n_skus, rate_multiplier=50.0)
    control = amazon.url + "/_sandbox"
    skus = [r["sku"] for r in httpx.get(control + "/listings").json()["listings"]]
    add_skus(hub, *skus)
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    for sku in skus:
        hub.catalog.set_listing("amazon_seller", sku, sku)
        httpx.put(f"{control}/listings/{sku}", json={"quantity": 50}).raise_for_status()
    return amazon, cfg, control, skus


def _place(control: str, sku: str, quantity: int = 1) -> str:
    placed = httpx.post(control + "/orders", json={"lines": [{"sku": sku, "quantity": quantity}],
                                                   "ship_to": {"postal_code": "10001"}})
    assert placed.status_code == 201, placed.text
    return placed.json()["amazon_order_id"]


def _let_time_pass(control: str) -> None:
    # getOrders serves nothing newer than two minutes ago: let the sandbox's time pass.
    httpx.post(control + "/clock/advance", json={"seconds": 180}).raise_for_status()


def _hub_orders(hub) -> set[str]:
    with hub.engine.connect() as conn:
        return set(conn.execute(sa.select(t.orders.c.external_id)).scalars())


def _failures(hub) -> dict[str, dict]:
    return {row["delivery_id"]: row for row in hub.inbox.failures(1000)}


def _quantity(n):
    return lambda items: [{**i, "QuantityOrdered": n} for i in items]


def test_polled_amazon_orders_that_fail_are_parked_or_retried_and_the_cursor_skips_none(
        hub, amazon_sandbox, amazon_connector):
    amazon, cfg, control, skus = _seller(hub, amazon_sandbox)
    fine, huge, empty, odd, slow = (_place(control, skus[i % len(skus)]) for i in range(5))
    _let_time_pass(control)
    conn = amazon_connector(amazon.url, cfg)
    client = EditedAnswers(conn.client, edits={
        huge: _quantity(10**9),  # beyond the hub's 100,000 a line: the API would refuse it too
        empty: lambda items: [],  # no lines: not an order to sell (it used to go in as cancelled)
        odd: lambda items: [{**i, "ItemPrice": {"CurrencyCode": "USD", "Amount": "Infinity"}} for i in items],
    }, fail={slow: 1})
    poller = AmazonPoller(hub.engine, client, hub.orders.ingest_many)
    since = datetime.now(UTC) - timedelta(days=1)

    first = poller.poll_orders(since=since)
    assert (first.seen, first.ingested, first.refused, first.parked, first.retrying) == (5, 1, 2, 1, 1), first
    assert read_cursor(hub.engine, "amazon_seller", "orders.last_updated") is not None  # the window moved on...
    assert _hub_orders(hub) == {fine}
    failures = _failures(hub)  # ...and every order it passed is in the hub or here
    assert failures[f"order:amazon_seller:{huge}"]["error"].startswith("out_of_range")
    assert "quantity" in failures[f"order:amazon_seller:{huge}"]["error"]
    assert failures[f"order:amazon_seller:{empty}"]["error"].startswith("no_lines")
    [odd_row] = [r for k, r in failures.items() if k.startswith(f"poll:amazon_seller:{odd}:")]
    assert odd_row["state"] == "parked" and odd_row["topic"] == "order/polled" and "AmazonPayloadError" in odd_row["error"]
    [slow_row] = [r for k, r in failures.items() if k.startswith(f"poll:amazon_seller:{slow}:")]
    assert slow_row["state"] == "pending" and slow_row["attempts"] == 1 and slow_row["next_attempt_at"] is not None
    assert "SpApiError" in slow_row["error"]

    # The next poll neither fetches nor refuses again what is parked or retrying.
    calls = len(client.item_calls)
    second = poller.poll_orders(since=since)
    assert (second.ingested, second.refused, second.parked, second.retrying, second.parked_skipped) == (0, 0, 0, 0, 4)
    assert len(client.item_calls) == calls

    # The inbox tries the slow one again after its back-off, and it goes in.
    hub.inbox.fetch_amazon_order = conn.fetch_order
    hub.inbox.drain()
    assert slow not in _hub_orders(hub)  # not before its time
    hub.inbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)
    assert hub.inbox.drain() == 1
    assert _hub_orders(hub) == {fine, slow}
    assert set(_failures(hub)) == {f"order:amazon_seller:{huge}", f"order:amazon_seller:{empty}", odd_row["delivery_id"]}

    # An operator sends the refused one again once Amazon answers right: it is fetched anew.
    refused_row = _failures(hub)[f"order:amazon_seller:{huge}"]
    assert hub.inbox.retry(refused_row["id"]) == refused_row["id"]  # polled: no delivery of its own
    assert hub.inbox.drain() == 1
    assert huge in _hub_orders(hub) and f"order:amazon_seller:{huge}" not in _failures(hub)


def test_polled_shopify_orders_that_fail_are_parked_or_retried_and_a_refused_one_fetched_again(
        hub, shopify_sandbox, shopify_connector):
    from omnihub.services.channel_polling import ShopifyPoller
    from tests.sync.test_order_limits_by_door import EditedShopify

    shop, _ = shopify_sandbox()
    skus = [v["sku"] for v in httpx.get(shop.url + "/_sandbox/catalog").json()["variants"]]
    hub.catalog.create_product("Shop", [{"sku": s} for s in skus])
    placed = []
    for sku in skus * 3:
        answer = httpx.post(shop.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}]})
        if answer.status_code == 201:
            placed.append(str(answer.json()["order_id"]))
        if len(placed) == 4:
            break
    fine, odd, slow, huge = placed

    def quantity(value):
        def edit(node):
            for item in node["lineItems"]["nodes"]:
                item["quantity"] = item["currentQuantity"] = value
        return edit

    real = shopify_connector(shop.url).client
    client = EditedShopify(real, {odd: quantity("lots"), huge: quantity(10**9)})

    def busy_for_slow(orders):
        answers = iter(hub.orders.ingest_many([o for o in orders if o.external_id != slow]))
        return [TimeoutError("the stock writer did not answer in time") if o.external_id == slow else next(answers)
                for o in orders]

    poller = ShopifyPoller(hub.engine, client, busy_for_slow)
    report = poller.poll_orders(since=datetime.now(UTC) - timedelta(days=1))
    assert (report.ingested, report.refused, report.parked, report.retrying) == (1, 1, 1, 1), report
    assert read_cursor(hub.engine, "shopify", "orders.updated_at") is not None
    failures = _failures(hub)
    [odd_row] = [r for k, r in failures.items() if k.startswith(f"poll:shopify:{odd}:")]
    assert odd_row["state"] == "parked" and "not a whole number" in odd_row["error"]
    [slow_row] = [r for k, r in failures.items() if k.startswith(f"poll:shopify:{slow}:")]
    assert slow_row["state"] == "pending" and "TimeoutError" in slow_row["error"]
    assert failures[f"order:shopify:{huge}"]["error"].startswith("out_of_range")

    hub.inbox.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)
    assert hub.inbox.drain() == 1  # the slow one, from the payload it was polled with
    assert _hub_orders(hub) == {fine, slow}
    # The refused one sent again by an operator: fetched anew from Shopify (now right).
    hub.inbox.fetch_shopify_order = ShopifyPoller(hub.engine, real, hub.orders.ingest_many).fetch_order
    assert hub.inbox.retry(failures[f"order:shopify:{huge}"]["id"]) is not None
    assert hub.inbox.drain() == 1
    assert _hub_orders(hub) == {fine, slow, huge}
    assert set(_failures(hub)) == {odd_row["delivery_id"]}


def test_amazon_reconciliation_compares_the_channels_orders_and_counts_parked_ones_as_known(
        hub, amazon_sandbox, amazon_connector):
    amazon, cfg, control, skus = _seller(hub, amazon_sandbox)
    polled, refused = _place(control, skus[0]), _place(control, skus[1], quantity=2)
    _let_time_pass(control)
    conn = amazon_connector(amazon.url, cfg)
    report = AmazonPoller(hub.engine, EditedAnswers(conn.client, edits={refused: _quantity(10**9)}),
                          hub.orders.ingest_many).poll_orders(since=datetime.now(UTC) - timedelta(days=1))
    assert (report.ingested, report.refused) == (1, 1), report
    missed = _place(control, skus[2])  # its notification lost, never polled
    _let_time_pass(control)

    job = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale,
                         {"amazon_seller": AmazonReader(EditedAnswers(conn.client, edits={refused: _quantity(10**9)}))})
    run = job.run("amazon_seller")
    assert run["state"] == "done", run
    assert run["orders_compared"] == 3
    orders = {f["external_id"]: f for f in run["findings"] if f["kind"] in ("missed_order", "missed_order_update",
                                                                              "order_parked", "order_not_understood")}
    assert set(orders) == {missed, refused}, run["findings"]
    assert orders[missed]["kind"] == "missed_order" and orders[missed]["repaired"]
    assert orders[refused]["kind"] == "order_parked" and not orders[refused]["repaired"]
    assert "out_of_range" in orders[refused]["action"]
    assert _hub_orders(hub) == {polled, missed}
    assert run["summary"]["order_parked"] == 1 and "missed_order" in run["summary"]
    again = job.run("amazon_seller")  # nothing missing any more; the parked one is still known
    assert {f["kind"] for f in again["findings"] if f["external_id"] in (polled, missed, refused)} == {"order_parked"}

    # The listings cannot be read: the run fails, but not before it compared the orders.
    lost = _place(control, skus[0])
    _let_time_pass(control)

    class NoListings(EditedAnswers):
        def search_listings(self, **kw):
            raise SpApiError("searchListingsItems: Amazon answered 503", status=503, retryable=True)

        def create_report(self, *a, **kw):  # the listings are read through the merchant listings report
            raise SpApiError("createReport: Amazon answered 503", status=503, retryable=True)

    job.readers["amazon_seller"] = AmazonReader(NoListings(conn.client, edits={refused: _quantity(10**9)}))
    failed = job.run("amazon_seller")
    assert failed["state"] == "failed" and "503" in failed["error"], failed
    assert failed["orders_compared"] == 4
    assert [f["kind"] for f in failed["findings"] if f["external_id"] == lost] == ["missed_order"]
    assert lost in _hub_orders(hub)
