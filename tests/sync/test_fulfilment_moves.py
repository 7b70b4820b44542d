"""A Shopify order that Shopify assigned to one location and the hub shipped from another,
over real HTTP: Shopify puts the online order's fulfillment order at its warehouse; the
hub routes it to a store and ships it there; the fulfilment job moves the fulfillment
order to the store (fulfillmentOrderMove) and fulfils it there. The sandbox then shows
the fulfillment at the store, the warehouse's commitment released, and every document the
connector sent validates, with its variables, against Shopify's official schema."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.shopify.fulfilment import ShopifyFulfilmentNotifier
from omnihub.adapters.db import tables as t
from omnihub.services.channel_polling import ShopifyPoller
from omnihub.services.fulfilment_sync import FulfilmentSync
from tests.conftest import require_shared
from tests.sync.shop_setup import connect_shopify

SHOWN = """
query Shown($id: ID!) {
  order(id: $id) {
    displayFulfillmentStatus
    fulfillments(first: 5) { location { id } trackingInfo(first: 5) { number } }
    fulfillmentOrders(first: 5) { nodes { status assignedLocation { location { id } } } }
  }
}
"""


class Recording:
    """The real client, remembering what it sent (for the contract check)."""

    def __init__(self, client) -> None:
        self.client = client
        self.sent: list[tuple[str, dict]] = []

    def execute(self, document, variables=None, **kw):
        self.sent.append((document, variables or {}))
        return self.client.execute(document, variables, **kw)


def _official_schema():
    from graphql import build_schema, extend_schema, parse

    from tests.sync.test_channel_contracts import CHANGES_2026

    sdl = require_shared("contracts", "shopify", "admin_schema_2025-09.graphql").read_text()
    return extend_schema(build_schema(sdl, assume_valid=True), parse(CHANGES_2026.read_text()), assume_valid=True)


def _level(url: str, sku: str, location: int) -> dict:
    return httpx.get(f"{url}/_sandbox/inventory", params={"sku": sku, "location_id": location}).json()


def test_shipped_from_another_location_moves_then_fulfils(hub, shopify_sandbox, shopify_connector):
    shop, _ = shopify_sandbox(catalog_products=2, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=1)
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    warehouse = next(loc for loc in catalog["locations"] if loc["kind"] == "warehouse")
    store = next(loc for loc in catalog["locations"] if loc["kind"] == "store")
    sku = catalog["variants"][0]["sku"]
    for loc, units in ((warehouse, 5), (store, 6)):
        assert httpx.post(shop.url + "/_sandbox/inventory/admin-edits", json={
            "sku": sku, "location_id": loc["id"], "available": units, "shelf_too": True}).status_code == 200
    connector = shopify_connector(shop.url)
    connect_shopify(hub, connector)
    with hub.engine.connect() as conn:
        codes = dict(conn.execute(sa.select(t.channel_locations.c.external_location_id, t.channel_locations.c.location)).all())
    store_code = codes[store["admin_graphql_api_id"]]
    hub.catalog.update_location(store_code, {"groups": ["ship-from-store"]})
    hub.rules.save({"rules": [{"name": "stores-ship", "enabled": True, "order_filter": {"channels": ["shopify"]},
                               "location_filter": {"groups": ["ship-from-store"]}, "sort": ["priority"],
                               "split": {"mode": "no_split"}, "fallback": "queue"}], "final_fallback": "queue"})

    placed = httpx.post(shop.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 2}]}).json()
    assert ShopifyPoller(hub.engine, connector.client, hub.orders.ingest_many).poll_orders().ingested == 1
    o, oa = t.orders, t.order_assignments
    with hub.engine.connect() as conn:
        order_id = conn.execute(sa.select(o.c.id).where(o.c.external_id == str(placed["order_id"]))).scalar_one()
        reserved = conn.execute(sa.select(oa.c.location).where(oa.c.order_id == order_id)).scalars().all()
    assert reserved == [store_code]  # Shopify said warehouse; the hub says store
    assert _level(shop.url, sku, warehouse["id"])["committed"] == 2
    hub.order_ops.ship(order_id, store_code, carrier="UPS", tracking="1ZMOVE0001")

    client = Recording(connector.client)
    job = FulfilmentSync(hub.engine, {"shopify": ShopifyFulfilmentNotifier(client)})
    run = job.run_once()
    assert (run.sent, run.dead, run.retrying) == (1, 0, 0), run.errors

    shown = connector.client.execute(SHOWN, {"id": placed["admin_graphql_api_id"]})["order"]
    assert shown["displayFulfillmentStatus"] == "FULFILLED"
    assert [f["location"]["id"] for f in shown["fulfillments"]] == [store["admin_graphql_api_id"]]
    assert [(fo["status"], fo["assignedLocation"]["location"]["id"]) for fo in shown["fulfillmentOrders"]["nodes"]] == [
        ("CLOSED", store["admin_graphql_api_id"])]
    at_warehouse, at_store = _level(shop.url, sku, warehouse["id"]), _level(shop.url, sku, store["id"])
    assert (at_warehouse["committed"], at_warehouse["on_hand"]) == (0, 5)  # nothing left the warehouse
    assert (at_store["committed"], at_store["on_hand"]) == (0, 4)  # the parcel left the store
    assert [d for d, _ in client.sent if "fulfillmentOrderMove" in d]

    from tests.sync.test_channel_contracts import _problems

    schema = _official_schema()
    for document, variables in client.sent:
        assert _problems(schema, document, variables) == [], document

    sent_before = len(client.sent)
    assert job.run_once().sent == 0 and len(client.sent) == sent_before  # told once


def test_a_location_shopify_does_not_know_is_refused_for_an_operator(hub, shopify_sandbox, shopify_connector):
    from datetime import UTC, datetime

    from omnihub.domain.channel_fulfilment import NoticeRefused, ShipmentNotice
    import pytest

    shop, _ = shopify_sandbox(catalog_products=1, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=1)
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    sku = catalog["variants"][0]["sku"]
    for loc in catalog["locations"]:
        httpx.post(shop.url + "/_sandbox/inventory/admin-edits", json={"sku": sku, "location_id": loc["id"], "available": 3})
    placed = httpx.post(shop.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}]}).json()
    connector = shopify_connector(shop.url)
    line = connector.client.execute(SHOWN.replace("displayFulfillmentStatus", "lineItems(first: 1) { nodes { id } }"),
                                    {"id": placed["admin_graphql_api_id"]})["order"]["lineItems"]["nodes"][0]["id"]
    notice = ShipmentNotice(str(placed["order_id"]), "s-1", "UPS", "1ZNOWHERE", datetime.now(UTC),
                            ((line.rsplit("/", 1)[-1], 1),), location_id="gid://shopify/Location/987654")
    with pytest.raises(NoticeRefused, match="fulfillmentOrderMove"):
        ShopifyFulfilmentNotifier(connector.client).tell(notice)
