"""Walmart sells from the stock it was last told and counts the units that were not on the
seller's shelf; its shoppers drive `omnihub sandbox traffic`; `sandbox up` starts it."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from omnihub_sandbox.cli import app as sandbox_cli
from omnihub_sandbox.cli import drive_traffic
from omnihub_sandbox.serving import SandboxServer, channel_app
from omnihub_sandbox.walmart.shoppers import WalmartShoppers
from walmart_sandbox_harness import Seller

SKU = "WM-00001"


def test_units_sold_beyond_the_shelf_are_counted_by_sku_and_node(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 5, "shelf": 2}, "10002": {"quantity": 0, "shelf": 0}})
    po = seller.bought((SKU, 3))  # Walmart was told 5: it sells 3, the seller had 2
    report = seller.http.get("/_sandbox/oversells").json()
    assert (report["units"], report["events"], report["by_sku"], report["by_ship_node"]) == (1, 1, {SKU: 1}, {"10001": 1})
    assert seller.item(SKU)["nodes"]["10001"]["shelf"] == -1  # one unit owed that does not exist
    seller.cancel(po, (1, 3))
    assert seller.item(SKU)["nodes"]["10001"]["shelf"] == 2  # the units are the seller's again
    seller.bought((SKU, 2))
    assert seller.http.get("/_sandbox/oversells").json()["units"] == 1  # within the shelf: nothing new


def test_a_truthful_seller_is_never_oversold(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 3, "shelf": 3}, "10002": {"quantity": 0, "shelf": 0}})
    outcomes = [seller.buy((SKU, 1)).status_code for _ in range(5)]
    assert outcomes == [201, 201, 201, 409, 409]
    assert seller.http.get("/_sandbox/oversells").json()["units"] == 0
    stats = seller.http.get("/_sandbox/stats").json()
    assert (stats["orders_placed"], stats["orders_refused"]) == (3, 2)


def test_sales_of_an_item_without_a_shelf_are_unchecked(seller: Seller) -> None:
    seller.set_item("NEW-SKU", **{"10001": {"quantity": 2}})
    seller.bought(("NEW-SKU", 2))
    report = seller.http.get("/_sandbox/oversells").json()
    assert report["units"] == 0 and report["unchecked_units"] == 2


def test_shoppers_buy_over_http_and_their_counts_match_the_sandboxs(make_config) -> None:
    config = make_config(clock=__import__("time").time, catalog_size=6, initial_quantity_max=3)
    with SandboxServer(channel_app("walmart", {**config.model_dump(exclude={"clock"}), "state_path": str(config.state_path)})) as server:
        counts = asyncio.run(WalmartShoppers(server.url, rate_per_s=40, seed=3).run(1.0))
        import httpx

        stats = httpx.get(server.url + "/_sandbox/stats").json()
        assert counts.placed + counts.refused == 40 and counts.errors == 0
        assert (stats["orders_placed"], stats["orders_refused"]) == (counts.placed, counts.refused)
        assert counts.refused > 0  # three units a node at most: the shoppers meet sold-out SKUs
        run = asyncio.run(drive_traffic("http://127.0.0.1:9", orders_per_s=10, duration=0.5, walmart_url=server.url,
                                        walmart_share=1.0))
        assert run.shopper is None and run.walmart is not None and run.walmart.placed + run.walmart.refused == 5


def test_sandbox_up_and_traffic_know_walmart() -> None:
    runner = CliRunner()
    up = runner.invoke(sandbox_cli, ["up", "--help"], env={"COLUMNS": "200"})
    assert up.exit_code == 0 and "--walmart-port" in up.output and "--no-walmart" in up.output
    clash = runner.invoke(sandbox_cli, ["up", "--walmart-port", "8701"], env={"COLUMNS": "200"})
    assert clash.exit_code == 2 and "port of its own" in clash.output
    traffic = runner.invoke(sandbox_cli, ["traffic", "--walmart-share", "0.5"])
    assert traffic.exit_code == 2 and "--walmart-url" in traffic.output
