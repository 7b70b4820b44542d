"""Amazon's shoppers of a vendor's direct-fulfilment stock, over real HTTP: they buy what the
vendor declared, from the warehouse that holds it, are refused once it is gone, and join
``omnihub sandbox traffic`` and ``sandbox up``."""

from __future__ import annotations

import asyncio
import time

import httpx
from typer.testing import CliRunner

from amazon_vendor_harness import Vendor
from amazon_vendor_harness import create_app as create_vendor_app
from omnihub_sandbox.cli import BackgroundShoppers, app, drive_traffic


def _served_vendor(make_vendor_config, serve):
    config = make_vendor_config(clock=time.time, transaction_seconds={"inventory": (0.0, 0.0)}, release_seconds=(0, 0))
    return config, serve(create_vendor_app(config))


def _declare(vendor: Vendor, quantities: dict[str, dict[str, int]]) -> None:
    for warehouse, items in quantities.items():
        assert vendor.declare(warehouse, items).status_code == 202
    assert vendor.http.post("/_sandbox/tick").status_code == 200  # processed at once (0 s)


def test_shoppers_buy_what_was_declared_where_it_was_declared_and_no_more(make_vendor_config, serve) -> None:
    config, server = _served_vendor(make_vendor_config, serve)
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        vendor = Vendor(client, config)
        a, b, *_ = [item["sku"] for item in vendor.items()]
        _declare(vendor, {"EAST1": {a: 6}, "WEST1": {b: 4}})
        run = asyncio.run(drive_traffic("http://127.0.0.1:9", orders_per_s=40, duration=1.0,
                                        amazon_vendor_url=server.url, amazon_vendor_share=1.0))
        counts = run.amazon_vendor
        assert run.shopper is None  # all of the traffic went to Vendor Central
        assert counts["placed"] + counts["refused"] + counts["errors"] == 40 and counts["errors"] == 0
        assert 9 <= counts["units"] <= 10 and counts["refused"] >= 25 and counts["oversold_units"] == 0
        stats = client.get("/_sandbox/stats").json()
        assert stats["df_units_sold"] == counts["units"] and stats["df_orders_created"] == counts["placed"]
        stock = vendor.stock()
        assert stock["EAST1"][a]["sellable"] + stock["WEST1"][b]["sellable"] == 10 - counts["units"]
        orders = client.get("/_sandbox/orders").json()["orders"]
        for order in orders:
            (line,) = vendor.order(order["po_number"])["orderDetails"]["items"]
            assert (order["warehouse"], line["vendorProductIdentifier"]) in {("EAST1", a), ("WEST1", b)}
        assert vendor.oversells()["units"] == 0


def test_the_traffic_command_sends_vendor_shoppers_and_says_what_they_did(make_vendor_config, serve) -> None:
    config, server = _served_vendor(make_vendor_config, serve)
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        vendor = Vendor(client, config)
        _declare(vendor, {"EAST1": {sku["sku"]: 50 for sku in vendor.items()}})
        result = CliRunner().invoke(app, ["traffic", "--orders-per-s", "10", "--duration", "1",
                                          "--amazon-vendor-url", server.url, "--amazon-vendor-share", "1"],
                                    env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "Amazon Vendor (direct fulfilment)" in result.output
        assert "Amazon Vendor oversold units so far: 0" in result.output
        assert client.get("/_sandbox/stats").json()["df_orders_created"] == 10
    wide = {"COLUMNS": "200"}
    refused = CliRunner().invoke(app, ["traffic", "--amazon-vendor-share", "0.5"], env=wide)
    assert refused.exit_code == 2 and "--amazon-vendor-url" in refused.output
    too_much = CliRunner().invoke(app, ["traffic", "--amazon-url", "http://x", "--amazon-share", "0.6",
                                        "--amazon-vendor-url", "http://y", "--amazon-vendor-share", "0.6"], env=wide)
    assert too_much.exit_code == 2 and "more than 1" in too_much.output


def test_sandbox_up_runs_vendor_shoppers_in_the_background(make_vendor_config, serve) -> None:
    config, server = _served_vendor(make_vendor_config, serve)
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        vendor = Vendor(client, config)
        _declare(vendor, {"WEST1": {sku["sku"]: 20 for sku in vendor.items()}})
        shoppers = BackgroundShoppers(server.url, rate=20, seed=3)
        shoppers.start()
        deadline = time.monotonic() + 20
        while shoppers.counts.placed < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        shoppers.stop()
        assert shoppers.counts.placed >= 5 and shoppers.counts.errors == 0
    wide = {"COLUMNS": "200"}
    options = CliRunner().invoke(app, ["up", "--no-amazon-vendor", "--vendor-shoppers-per-s", "1"], env=wide)
    assert options.exit_code == 2 and "Vendor sandbox" in options.output
    clash = CliRunner().invoke(app, ["up", "--amazon-port", "8703", "--amazon-vendor-port", "8703"], env=wide)
    assert clash.exit_code == 2 and "port of its own" in clash.output
