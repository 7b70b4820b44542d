"""Load the Olist marketplace sample (../shared/data/olist-sample) as a retail estate:
sellers become fulfilment locations at their zip prefix's mean geo point, products become
SKUs, each order item an order line, and customers' zip prefixes the delivery points.

The data's licence allows tests and benchmarks only: this module reads it from the shared
folder at run time and nothing of it is shipped.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.orders import Address, CustomerRef, Order, OrderLine


@dataclass(slots=True)
class OlistSample:
    sellers: dict[str, GeoPoint | None] = field(default_factory=dict)
    products: list[str] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    sold: dict[tuple[str, str], int] = field(default_factory=dict)  # (product, seller) → units sold


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def load_olist(folder: Path, channel: str = "olist") -> OlistSample:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in _rows(folder / "olist_geolocation_dataset.csv"):
        s = sums[r["geolocation_zip_code_prefix"]]
        s[0] += float(r["geolocation_lat"])
        s[1] += float(r["geolocation_lng"])
        s[2] += 1
    geo = {z: GeoPoint(a / n, b / n) for z, (a, b, n) in sums.items() if n}
    out = OlistSample()
    for r in _rows(folder / "olist_sellers_dataset.csv"):
        out.sellers[r["seller_id"]] = geo.get(r["seller_zip_code_prefix"])
    out.products = [r["product_id"] for r in _rows(folder / "olist_products_dataset.csv")]
    customers = {r["customer_id"]: r for r in _rows(folder / "olist_customers_dataset.csv")}
    items: dict[str, list[dict]] = defaultdict(list)
    for r in _rows(folder / "olist_order_items_dataset.csv"):
        items[r["order_id"]].append(r)
        key = (r["product_id"], r["seller_id"])
        out.sold[key] = out.sold.get(key, 0) + 1
    orders = sorted(_rows(folder / "olist_orders_dataset.csv"), key=lambda r: r["order_purchase_timestamp"])
    for r in orders:
        lines = items.get(r["order_id"])
        if not lines:
            continue
        c = customers.get(r["customer_id"], {})
        placed = datetime.fromisoformat(r["order_purchase_timestamp"]).replace(tzinfo=UTC)
        per_product: dict[str, list[int]] = {}
        for it in lines:
            per_product.setdefault(it["product_id"], [0, round(float(it["price"]) * 100)])[0] += 1
        out.orders.append(Order(
            channel=channel,
            external_id=r["order_id"],
            channel_updated_at=placed,
            placed_at=placed,
            currency="BRL",
            customer=CustomerRef(channel_customer_id=c.get("customer_unique_id")),
            shipping_address=Address(postal_code=c.get("customer_zip_code_prefix", ""), city=c.get("customer_city", ""),
                                     country="BR", geo=geo.get(c.get("customer_zip_code_prefix", ""))),
            lines=tuple(OrderLine(str(i + 1), p, q, price) for i, (p, (q, price)) in enumerate(per_product.items())),
        ))
    return out
