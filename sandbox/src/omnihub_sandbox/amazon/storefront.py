"""The buyer's side of amazon.com: placing and cancelling orders against Amazon's quantity.

The buyer's own email and street are the buyer's: Amazon shows the seller an anonymised
relay address (``BuyerEmail``) and the street only through a Restricted Data Token
(orders.py). A buyer can only buy what Amazon believes is sellable: the quantity the seller last
sent for the SKU (after its processing delay), minus what earlier orders took. When
it is short the purchase is refused, whatever the seller really has on its shelves;
when the seller sent too much, Amazon sells units the seller may not have: that
oversell is the hub's problem to prevent, and the sandbox counts it against the seller's
shelf (shelf.py).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, field_validator

from .context import SandboxContext
from .listings import get_listing, notify_quantity
from .orders import SHIP_WINDOW, new_order_id, new_order_item_id, order_change
from .shelf import put_back, take_from_shelf


class OrderLine(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=10_000)


class ShipTo(BaseModel):
    name: str | None = Field(None, max_length=100, description="omitted: the buyer's")
    address_line1: str | None = Field(None, max_length=200, description="omitted: one drawn from the seed")
    phone: str | None = Field(None, max_length=40)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str | None = None
    state: str | None = None
    country_code: str = Field("US", min_length=2, max_length=2)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class Buyer(BaseModel):
    name: str = "Sandbox Buyer"
    email: str | None = None


class PlaceOrder(BaseModel):
    """What a buyer submits at checkout (``POST /_sandbox/orders``)."""

    lines: list[OrderLine] = Field(min_length=1, max_length=100)
    buyer: Buyer = Field(default_factory=Buyer)
    ship_to: ShipTo
    ship_service_level: str = "Std US D2D Dom"

    @field_validator("lines")
    @classmethod
    def _distinct_skus(cls, lines: list[OrderLine]) -> list[OrderLine]:
        if len({line.sku for line in lines}) != len(lines):
            raise ValueError("each SKU may appear on one line only")
        return lines


def relay_address(seed: int, order_id: str) -> str:
    """The anonymised address Amazon relays a buyer's mail through, per order."""
    digest = hashlib.sha256(f"{seed}:relay:{order_id}".encode()).hexdigest()[:16]
    return f"{digest}@marketplace.amazon.com"


def street_address(seed: int, order_id: str) -> str:
    rng = random.Random(f"amazon-street:{seed}:{order_id}")
    return f"{rng.randint(1, 999)} {rng.choice(['Main St', 'Oak Ave', 'Elm St', 'Park Blvd', 'Lake Rd'])}"


@dataclass
class Refusal:
    reason: str
    shortages: list[dict[str, Any]]


def place_order(sandbox: SandboxContext, order: PlaceOrder) -> str | Refusal:
    """Take the units off Amazon's quantity and create a Pending order, or refuse it all."""
    now = sandbox.now()
    with sandbox.store.tx() as db:
        shortages: list[dict[str, Any]] = []
        listings = {}
        for line in order.lines:
            row = get_listing(db, line.sku)
            if row is None:
                shortages.append({"sku": line.sku, "requested": line.quantity, "available": 0, "listed": False})
                continue
            listings[line.sku] = row
            if row["quantity"] < line.quantity:
                shortages.append({"sku": line.sku, "requested": line.quantity, "available": row["quantity"], "listed": True})
        if shortages:
            sandbox.store.bump("orders_refused")
            sandbox.store.bump("units_refused", sum(s["requested"] for s in shortages))
            return Refusal("insufficient_quantity", shortages)

        order_id = new_order_id(sandbox, db)
        relay = relay_address(sandbox.config.seed, order_id)
        ship_to = order.ship_to.model_dump(exclude_none=True)
        ship_to.setdefault("address_line1", street_address(sandbox.config.seed, order_id))
        db.execute(
            "INSERT INTO orders (amazon_order_id, status, purchase_date, last_update, marketplace_id, buyer, "
            "ship_to, ship_service_level, earliest_ship, latest_ship) VALUES (?, 'Pending', ?, ?, ?, ?, ?, ?, ?, ?)",
            (order_id, now, now, sandbox.config.marketplace_id, json.dumps({"name": order.buyer.name, "email": order.buyer.email, "relay": relay}),
             json.dumps(ship_to), order.ship_service_level, now, now + SHIP_WINDOW),
        )
        for position, line in enumerate(order.lines):
            row = listings[line.sku]
            db.execute(
                "INSERT INTO order_items (order_item_id, amazon_order_id, position, sku, asin, title, quantity, "
                "unit_price_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (new_order_item_id(sandbox), order_id, position, line.sku, row["asin"], row["item_name"],
                 line.quantity, row["price_cents"]),
            )
            left = row["quantity"] - line.quantity
            db.execute("UPDATE listings SET quantity = ? WHERE sku = ?", (left, line.sku))
            notify_quantity(sandbox, db, line.sku, left, now)
            take_from_shelf(db, line.sku, line.quantity, order_id, now)
        sandbox.store.bump("orders_placed")
        sandbox.store.bump("units_sold", sum(line.quantity for line in order.lines))
        order_change(sandbox, db, order_id, "New Order", now)
        return order_id


def cancel_by_buyer(sandbox: SandboxContext, order_id: str) -> str:
    """Cancel a Pending or Unshipped order; its units go back to Amazon's quantity.

    Returns the status the order ended in; raises ``LookupError`` for an unknown order
    and ``ValueError`` when it has already shipped (or been cancelled).
    """
    now = sandbox.now()
    with sandbox.store.tx() as db:
        row = db.execute("SELECT status FROM orders WHERE amazon_order_id = ?", (order_id,)).fetchone()
        if row is None:
            raise LookupError(order_id)
        if row["status"] not in ("Pending", "Unshipped"):
            raise ValueError(f"order {order_id} is {row['status']} and can no longer be cancelled")
        db.execute("UPDATE orders SET status = 'Canceled', last_update = ?, cancel_requested = 1 "
                   "WHERE amazon_order_id = ?", (now, order_id))
        for item in db.execute("SELECT sku, quantity FROM order_items WHERE amazon_order_id = ?", (order_id,)).fetchall():
            listing = get_listing(db, item["sku"])
            if listing is not None:
                left = listing["quantity"] + item["quantity"]
                db.execute("UPDATE listings SET quantity = ? WHERE sku = ?", (left, item["sku"]))
                notify_quantity(sandbox, db, item["sku"], left, now)
            put_back(db, item["sku"], item["quantity"], now)
        sandbox.store.bump("orders_canceled_by_buyer")
        order_change(sandbox, db, order_id, "Buyer Requested Cancel", now, change_type="BuyerRequestedChange")
        return "Canceled"
