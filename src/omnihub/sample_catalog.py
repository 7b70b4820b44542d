"""A small sample catalog (stores, a warehouse, products, stock, two channels) so a new
user has something to look at the moment the API starts."""

from __future__ import annotations

from typing import Any

from omnihub.domain.catalog import gtin_check_digit
from omnihub.hub import Hub

LOCATIONS: list[dict[str, Any]] = [
    {"code": "WH-EAST", "name": "East warehouse (Newark)", "kind": "warehouse", "lat": 40.7357, "lng": -74.1724,
     "capabilities": ["ship", "express"], "priority": 10, "cost_per_shipment_minor": 650, "time_zone": "America/New_York"},
    {"code": "DC-WEST", "name": "West DC (Reno)", "kind": "distribution_centre", "lat": 39.5296, "lng": -119.8138,
     "capabilities": ["ship", "express"], "priority": 20, "cost_per_shipment_minor": 700, "time_zone": "America/Los_Angeles"},
    {"code": "NYC-SOHO", "name": "SoHo store", "kind": "store", "lat": 40.7233, "lng": -74.0030,
     "capabilities": ["ship", "pickup", "curbside", "same_day"], "priority": 50, "cost_per_shipment_minor": 900,
     "daily_order_capacity": 40, "time_zone": "America/New_York"},
    {"code": "BKN-WBG", "name": "Williamsburg store", "kind": "store", "lat": 40.7081, "lng": -73.9571,
     "capabilities": ["pickup"], "priority": 60, "time_zone": "America/New_York"},
    {"code": "SF-UNION", "name": "Union Square store", "kind": "store", "lat": 37.7880, "lng": -122.4075,
     "capabilities": ["ship", "pickup", "same_day"], "priority": 50, "cost_per_shipment_minor": 900,
     "daily_order_capacity": 30, "time_zone": "America/Los_Angeles"},
]

PRODUCTS = [
    ("Merino crew tee", ["S", "M", "L"]),
    ("Canvas tote", ["Natural"]),
    ("Trail runner", ["40", "41", "42", "43"]),
    ("Rain shell", ["S", "M", "L", "XL"]),
]


def upc(n: int) -> str:
    body = f"0{860000000 + n:010d}"[:11]
    return body + str(gtin_check_digit(body))


def load_sample_catalog(hub: Hub) -> None:
    if hub.catalog.list_locations():
        return
    for loc in LOCATIONS:
        hub.catalog.create_location(loc)
    n = 0
    for title, sizes in PRODUCTS:
        prefix = "".join(w[0] for w in title.upper().split())
        variants = []
        for size in sizes:
            n += 1
            variants.append({"sku": f"{prefix}-{size}", "title": f"{title} / {size}", "gtin": upc(n)})
        hub.catalog.create_product(title, variants)
    hub.catalog.upsert_channel("shopify", name="Shopify online store", kind="shopify", per_location=True,
                               feeds={"WH-EAST": "ship", "DC-WEST": "ship", "NYC-SOHO": "ship", "SF-UNION": "ship",
                                      "BKN-WBG": "pickup_only"}, rebuild=False)
    hub.catalog.upsert_channel("amazon", name="Amazon Seller Central (MFN)", kind="amazon", buffer=2,
                               feeds={"WH-EAST": "ship", "DC-WEST": "ship"}, rebuild=False)
    hub.catalog.set_policy(location="NYC-SOHO", safety_stock=2, rebuild=False)
    hub.catalog.set_policy(channel="amazon", threshold=1, rebuild=False)
    i = 0
    for title, sizes in PRODUCTS:
        prefix = "".join(w[0] for w in title.upper().split())
        for size in sizes:
            sku = f"{prefix}-{size}"
            for loc in LOCATIONS:
                i += 1
                hub.inventory.receive(sku, loc["code"], 5 + (i * 7) % 40)
