"""Set-up imports the seller's Amazon listings over the SP-API: a SKU the hub knows is
mapped, one it lacks becomes a product of the hub's catalog; an order for it then goes
in. Running it again creates nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from omnihub.services.amazon_setup import import_amazon_listings
from omnihub.services.channel_polling import AmazonPoller
from omnihub.services.erp_snapshot import import_snapshot
from tests.conftest import add_location, add_skus


def test_amazon_listings_the_hub_lacks_are_created_and_their_orders_go_in(hub, amazon_sandbox, amazon_connector):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, "A")
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    amazon, _, cfg = amazon_sandbox(catalog_size=3, rate_multiplier=50.0)
    control = amazon.url + "/_sandbox"
    httpx.put(f"{control}/listings/A", json={"quantity": 0}).raise_for_status()
    own = {r["sku"]: r for r in httpx.get(control + "/listings").json()["listings"] if r["sku"] != "A"}
    conn = amazon_connector(amazon.url, cfg)

    summary = import_amazon_listings(hub.engine, hub.catalog, conn.client)
    assert (summary.listings, summary.mapped, summary.created) == (4, 1, 3), summary
    assert summary.created_levels == {sku: row["quantity"] for sku, row in own.items()}
    for sku, row in own.items():
        assert hub.catalog.get_variant(sku)["title"] == row["item_name"]
    again = import_amazon_listings(hub.engine, hub.catalog, conn.client)
    assert (again.already_mapped, again.mapped, again.created) == (4, 0, 0), again

    import_snapshot(hub.writer, "sku,location,on_hand\n" + "".join(f"{s},WH,{q + 1}\n" for s, q in summary.created_levels.items()),
                    actor="test")
    sku = max(own, key=lambda s: own[s]["quantity"])  # one Amazon will sell
    placed = httpx.post(control + "/orders", json={"lines": [{"sku": sku, "quantity": 1}], "ship_to": {"postal_code": "10001"}})
    assert placed.status_code == 201, placed.text
    httpx.post(control + "/clock/advance", json={"seconds": 180}).raise_for_status()
    report = AmazonPoller(hub.engine, conn.client, hub.orders.ingest_many).poll_orders(
        since=datetime.now(UTC) - timedelta(days=1))
    assert (report.ingested, report.refused, report.failed) == (1, 0, 0), report
