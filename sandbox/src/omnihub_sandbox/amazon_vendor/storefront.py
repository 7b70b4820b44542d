"""Amazon's shoppers buying what the vendor ships itself (``POST /_sandbox/orders``).

Amazon sells a direct-fulfilment item only from a warehouse that holds it as sellable
(:mod:`.stock`): a basket goes to one warehouse that has every line (the shopper's
choice if given, else one drawn from the seed among those that can), its units leave
that warehouse's sellable stock and a NEW purchase order is made. When no warehouse can
take the whole basket the purchase is refused, whatever the vendor really has.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, field_validator

from .context import VendorContext
from .df_orders import create_order
from .items import item
from .stock import sellable, take


class BasketLine(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=1_000)


class Checkout(BaseModel):
    lines: list[BasketLine] = Field(min_length=1, max_length=20)
    warehouse: str | None = Field(None, description="ship from this warehouse (omitted: Amazon chooses)")
    priority: bool = False
    gift_message: str | None = Field(None, max_length=240)

    @field_validator("lines")
    @classmethod
    def _distinct_skus(cls, lines: list[BasketLine]) -> list[BasketLine]:
        if len({line.sku for line in lines}) != len(lines):
            raise ValueError("each SKU may appear on one line only")
        return lines


@dataclass
class Refusal:
    reason: str
    shortages: list[dict[str, Any]]


@dataclass
class Placed:
    po_number: str
    warehouse: str
    oversold_units: int


def place_order(vendor: VendorContext, checkout: Checkout) -> Placed | Refusal:
    now = vendor.now()
    with vendor.store.tx() as db:
        rows = {}
        for line in checkout.lines:
            found = item(db, line.sku)
            if found is None:
                vendor.store.bump("df_orders_refused")
                return Refusal("unknown_item", [{"sku": line.sku, "requested": line.quantity, "listed": False}])
            rows[line.sku] = found
        warehouses = [checkout.warehouse] if checkout.warehouse else list(vendor.config.warehouses)
        if checkout.warehouse and checkout.warehouse not in vendor.config.warehouses:
            return Refusal("unknown_warehouse", [{"warehouse": checkout.warehouse}])
        able = [w for w in warehouses if all(sellable(db, w, ln.sku) >= ln.quantity for ln in checkout.lines)]
        if not able:
            vendor.store.bump("df_orders_refused")
            vendor.store.bump("df_units_refused", sum(ln.quantity for ln in checkout.lines))
            return Refusal("insufficient_quantity", [
                {"sku": ln.sku, "requested": ln.quantity, "sellable": {w: sellable(db, w, ln.sku) for w in warehouses}}
                for ln in checkout.lines])
        rng = random.Random(f"amazon-vendor-route:{vendor.config.seed}:{vendor.store.next_sequence('checkout')}")
        warehouse = rng.choice(able)
        po_number = create_order(vendor, db, warehouse=warehouse, source="shopper", priority=checkout.priority,
                                 gift_message=checkout.gift_message,
                                 lines=[(rows[ln.sku], ln.quantity) for ln in checkout.lines])
        oversold = sum(take(db, warehouse, ln.sku, ln.quantity, po_number, now) for ln in checkout.lines)
        vendor.store.bump("df_units_sold", sum(ln.quantity for ln in checkout.lines))
        return Placed(po_number, warehouse, oversold)
