"""Fulfilment status back to the channels, in batches, over real HTTP: a Shopify order and
an Amazon order shipped in the hub are told to the sandboxes by one run of the job
(Shopify fulfilled with the tracking number, Amazon Shipped with it); a second run sends
nothing. Failures back off, refusals are parked visibly and can be retried."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from omnihub.adapters.channels.amazon.fulfilment import confirmation_body
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.fulfilment import fulfilment_input
from omnihub.adapters.db import tables as t
from omnihub.domain.catalog import GeoPoint
from omnihub.domain.channel_fulfilment import NoticeRefused, ShipmentNotice, Told
from omnihub.domain.orders import Address, Order, OrderLine
from omnihub.entrypoints.worker import Schedules
from omnihub.services.fulfilment_sync import FulfilmentSync
from tests.conftest import require_shared
from tests.sync.channel_world import build_world
from tests.sync.conftest import wait_until

SHOPIFY_STATE = """
query Fulfilled($id: ID!) {
  order(id: $id) { displayFulfillmentStatus fulfillments(first: 5) { trackingInfo(first: 5) { company number } } }
}
"""


def _hub_order(hub, channel: str, external_id: str):
    o = t.orders
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(o.c.id, o.c.state).where(o.c.channel == channel, o.c.external_id == external_id)).first()


def _reserved_at(hub, order_id: int) -> list[str]:
    oa = t.order_assignments
    with hub.engine.connect() as conn:
        return sorted(set(conn.execute(sa.select(oa.c.location).where(oa.c.order_id == order_id,
                                                                         oa.c.state == "reserved")).scalars()))


#: the worker's schedules here: orders polled every second or two, nothing else in the way
FAST = Schedules(new_orders_s=1, order_updates_s=2, new_products_s=3600, product_updates_s=3600, level_snapshot_s=3600,
                 amazon_orders_s=1, queue_retry_s=1, sweep_s=1, fulfilments_s=3600)


def orders_reserved_on_both(hub, world) -> tuple[str, str]:
    """(Shopify order id, Amazon order id): one order placed on each sandbox, reserved in
    the hub by the running worker."""
    skus = [v["sku"] for v in world.shopify_control("GET", "/catalog").json()["variants"]]
    assert wait_until(lambda: any(r["quantity"] > 0 for r in world.amazon_control("GET", "/listings").json()["listings"]), 30)
    shopify_id = next(str(r.json()["order_id"]) for sku in skus if (r := world.shopify_control(
        "POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]})).status_code == 201)  # the first it can sell
    listed = [r["sku"] for r in world.amazon_control("GET", "/listings").json()["listings"] if r["quantity"] > 0]
    r = world.amazon_control("POST", "/orders", json={"lines": [{"sku": listed[0], "quantity": 1}],
                                                      "ship_to": {"postal_code": "10001"}})
    assert r.status_code == 201, r.text
    amazon_id = r.json()["amazon_order_id"]
    world.amazon_control("POST", "/clock/advance", json={"seconds": 180})  # getOrders lists up to 2 min ago
    assert wait_until(lambda: _hub_order(hub, "shopify", shopify_id) and _hub_order(hub, "amazon_seller", amazon_id)
                      and _reserved_at(hub, _hub_order(hub, "shopify", shopify_id).id)
                      and _reserved_at(hub, _hub_order(hub, "amazon_seller", amazon_id).id), 60, 0.2)
    return shopify_id, amazon_id


def test_shipments_reach_shopify_and_amazon_once(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox, schedules=FAST)
    world.worker.start()
    try:
        shopify_id, amazon_id = orders_reserved_on_both(hub, world)
        s_order, a_order = _hub_order(hub, "shopify", shopify_id), _hub_order(hub, "amazon_seller", amazon_id)
        for oid, carrier, tracking in ((s_order.id, "UPS", "1Z999AA10123456784"), (a_order.id, "USPS", "9400111899223197428490")):
            for location in _reserved_at(hub, oid):
                hub.order_ops.ship(oid, location, carrier=carrier, tracking=tracking)
        job = world.worker.fulfilments

        run = job.run_once()
        assert (run.discovered, run.sent, run.dead, run.retrying) == (2, 2, 0, 0), run

        client = world.worker.shopify.client
        shown = client.execute(SHOPIFY_STATE, {"id": f"gid://shopify/Order/{shopify_id}"})["order"]
        assert shown["displayFulfillmentStatus"] == "FULFILLED"
        assert [ti for f in shown["fulfillments"] for ti in f["trackingInfo"]] == [{"company": "UPS", "number": "1Z999AA10123456784"}]
        assert world.worker.amazon.client.get_order(amazon_id)["OrderStatus"] == "Shipped"
        with sqlite3.connect(world.amazon_cfg.state_path) as db:  # the sandbox's own record of the package
            packages = [json.loads(p) for (p,) in db.execute("SELECT package FROM shipments WHERE amazon_order_id = ?",
                                                            (amazon_id,))]
        assert [(p["carrierCode"], p["trackingNumber"]) for p in packages] == [("USPS", "9400111899223197428490")]

        again = job.run_once()
        assert (again.discovered, again.sent, again.dead) == (0, 0, 0)
        # Nothing told twice: Amazon still holds the one package. (The client's call count
        # cannot say so: the running worker polls Amazon's orders meanwhile.)
        with sqlite3.connect(world.amazon_cfg.state_path) as db:
            packages_now = db.execute("SELECT COUNT(*) FROM shipments WHERE amazon_order_id = ?", (amazon_id,)).fetchone()[0]
        assert packages_now == 1
        shown = client.execute(SHOPIFY_STATE, {"id": f"gid://shopify/Order/{shopify_id}"})["order"]
        assert len(shown["fulfillments"]) == 1
        with hub.engine.connect() as conn:
            states = dict(conn.execute(sa.select(t.channel_fulfilments.c.channel, t.channel_fulfilments.c.state)).all())
        assert states == {"shopify": "sent", "amazon_seller": "sent"}
        assert job.failures() == []
    finally:
        world.worker.stop()


class _Flaky:
    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.notices: list[ShipmentNotice] = []

    def tell(self, notice):
        self.notices.append(notice)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _shipped_order(hub, external_id: str) -> int:
    hub.inventory.receive("A", "WH", 5)
    result = hub.orders.ingest(Order("shopify", external_id, datetime.now(UTC), (OrderLine("11", "A", 2),),
                                     shipping_address=Address(country="US", geo=GeoPoint(40.7, -74.0))))
    hub.order_ops.ship(result.order_id, "WH", carrier="DHL", tracking="JD0001")
    return result.order_id


def test_failures_back_off_refusals_park_and_retry_revives(stocked):
    hub = stocked
    order_id = _shipped_order(hub, "5001")
    notifier = _Flaky([ConnectionError("shop down"), NoticeRefused("order cancelled on the channel"), Told("77")])
    job = FulfilmentSync(hub.engine, {"shopify": notifier}, backoff_base_s=60)

    first = job.run_once()
    assert (first.discovered, first.retrying, first.sent) == (1, 1, 0)
    assert notifier.notices[0].lines == (("11", 2),) and notifier.notices[0].tracking_number == "JD0001"
    [row] = job.failures()
    assert row["state"] == "pending" and row["attempts"] == 1 and "shop down" in row["last_error"]
    assert job.run_once().sent == 0 and len(notifier.notices) == 1  # backing off: not due yet

    with hub.engine.begin() as conn:  # time passes
        conn.execute(sa.update(t.channel_fulfilments).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)))
    assert job.run_once().dead == 1
    [row] = job.failures()
    assert row["state"] == "dead" and "cancelled" in row["last_error"] and row["order_id"] == order_id

    assert job.retry() == 1
    assert job.run_once().sent == 1
    assert job.failures() == [] and job.run_once().sent == 0 and len(notifier.notices) == 3


def test_payloads_validate_against_the_official_contracts():
    from graphql import build_schema, extend_schema, parse

    from tests.sync.test_channel_contracts import CHANGES_2026, _problems

    sdl = require_shared("contracts", "shopify", "admin_schema_2025-09.graphql").read_text()
    schema = extend_schema(build_schema(sdl, assume_valid=True), parse(CHANGES_2026.read_text()), assume_valid=True)
    notice = ShipmentNotice("820982911946154500", "1-WH-x", "UPS", "1Z1", datetime(2026, 11, 23, tzinfo=UTC),
                            (("466157049", 2),), reference=3)
    order = {"fulfillmentOrders": {"nodes": [{"id": "gid://shopify/FulfillmentOrder/9", "status": "OPEN", "lineItems": {
        "nodes": [{"id": "gid://shopify/FulfillmentOrderLineItem/4", "remainingQuantity": 2,
                   "lineItem": {"id": "gid://shopify/LineItem/466157049"}}]}}]}}
    fulfillment = fulfilment_input(notice, order)
    assert fulfillment["lineItemsByFulfillmentOrder"] == [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/9",
                                                           "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/4",
                                                                                          "quantity": 2}]}]
    assert _problems(schema, docs.FULFILLMENT_CREATE, {"fulfillment": fulfillment}) == []
    assert _problems(schema, docs.ORDER_FULFILMENT_STATE, {"id": "gid://shopify/Order/1"}) == []

    from spapi_contract import body_errors

    require_shared("contracts", "amazon")
    assert body_errors("ordersV0.json", "confirmShipment", confirmation_body(notice, "ATVPDKIKX0DER")) == []
    with pytest.raises(NoticeRefused):
        confirmation_body(ShipmentNotice("1", "s", None, None, notice.shipped_at, (("1", 1),)), "ATVPDKIKX0DER")
