"""Walmart.com's customers: checking out against the stock Walmart was last told.

A customer can buy only what Walmart believes is sellable at one ship node (Walmart
routes a purchase order to one node): the node's ``availToSellQty``, which earlier orders
have already reserved against. When no node can fill the basket it is refused, whatever
the seller really holds; when the seller told Walmart too much, Walmart sells units the
seller may not have, and the sandbox counts that oversell against the seller's shelf
(shelf.py). The order is Created at once and released to the seller after
``release_delay_seconds`` (order_life.py raises PO_CREATED then).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, field_validator

from .context import SandboxContext
from .events import emit
from .order_life import release_due_orders
from .order_lines import add
from .shelf import take_from_shelf
from .stock import node_stock, reserve

METHOD_CODES = ("Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value")


class BasketLine(BaseModel):
    sku: str = Field(min_length=1, max_length=255)
    quantity: int = Field(ge=1, le=1000)


class ShipTo(BaseModel):
    name: str = "Sandbox Customer"
    address1: str = "702 SW 8th St"
    address2: str | None = None
    city: str = "Bentonville"
    state: str = "AR"
    postalCode: str = "72716"
    country: str = "USA"
    addressType: str = "RESIDENTIAL"


class Checkout(BaseModel):
    """What a customer submits (``POST /_sandbox/orders``)."""

    lines: list[BasketLine] = Field(min_length=1, max_length=50)
    ship_node: str | None = Field(None, description="the node to buy from; omitted: the first node that can fill it")
    method_code: str = "Standard"
    ship_to: ShipTo = Field(default_factory=ShipTo)
    phone: str = "4795550100"
    shipping_cents: int = Field(0, ge=0, le=100_000, description="a SHIPPING charge on each line")

    @field_validator("lines")
    @classmethod
    def _distinct(cls, lines: list[BasketLine]) -> list[BasketLine]:
        if len({line.sku for line in lines}) != len(lines):
            raise ValueError("each SKU may appear on one line only")
        return lines

    @field_validator("method_code")
    @classmethod
    def _method(cls, value: str) -> str:
        if value not in METHOD_CODES:
            raise ValueError(f"method_code is one of {', '.join(METHOD_CODES)}")
        return value


@dataclass
class Refusal:
    reason: str
    shortages: list[dict[str, Any]]


def _digits(seed: int, kind: str, n: int, length: int) -> str:
    value = int(hashlib.sha256(f"{seed}:{kind}:{n}".encode()).hexdigest(), 16)
    return str(value)[:length].rjust(length, "1")


def _choose_node(sandbox: SandboxContext, db: sqlite3.Connection, checkout: Checkout) -> str | list[dict[str, Any]]:
    nodes = [checkout.ship_node] if checkout.ship_node else [n.id for n in sandbox.config.ship_nodes]
    shortages: list[dict[str, Any]] = []
    for node in nodes:
        short = []
        for line in checkout.lines:
            stock = node_stock(db, line.sku, node)
            available = stock.avail_to_sell if stock else 0
            if available < line.quantity:
                short.append({"sku": line.sku, "ship_node": node, "requested": line.quantity, "available": available})
        if not short:
            return node
        shortages.extend(short)
    return shortages


def place_order(sandbox: SandboxContext, checkout: Checkout) -> str | Refusal:
    """Reserve the units at one node and create the purchase order, or refuse it whole."""
    now = sandbox.now()
    cfg = sandbox.config
    if checkout.ship_node and checkout.ship_node not in {n.id for n in cfg.ship_nodes}:
        return Refusal("unknown_ship_node", [{"ship_node": checkout.ship_node}])
    with sandbox.store.tx() as db:
        items = {}
        for line in checkout.lines:
            item = db.execute("SELECT * FROM items WHERE sku = ?", (line.sku,)).fetchone()
            if item is None:
                sandbox.store.bump("orders_refused")
                return Refusal("unknown_sku", [{"sku": line.sku}])
            items[line.sku] = item
        chosen = _choose_node(sandbox, db, checkout)
        if isinstance(chosen, list):
            sandbox.store.bump("orders_refused")
            sandbox.store.bump("units_refused", sum(line.quantity for line in checkout.lines))
            return Refusal("insufficient_quantity", chosen)
        n = sandbox.store.next_sequence("order")
        po = _digits(cfg.seed, "po", n, 13)
        while db.execute("SELECT 1 FROM orders WHERE purchase_order_id = ?", (po,)).fetchone():
            n = sandbox.store.next_sequence("order")
            po = _digits(cfg.seed, "po", n, 13)
        customer_order = _digits(cfg.seed, "co", n, 13)
        shipping = {"phone": checkout.phone, "postalAddress": checkout.ship_to.model_dump(exclude_none=True)}
        db.execute(
            "INSERT INTO orders (purchase_order_id, customer_order_id, customer_email, order_date, release_at, "
            "last_modified, ship_node, method_code, estimated_ship, estimated_delivery, shipping_info) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (po, customer_order, f"{hashlib.md5(po.encode()).hexdigest().upper()}@relay.walmart.com", now,  # noqa: S324
             now + cfg.release_delay_seconds, now, chosen, checkout.method_code, now + cfg.ship_window_seconds,
             now + cfg.ship_window_seconds + cfg.delivery_after_ship_seconds, json.dumps(shipping)))
        for number, line in enumerate(checkout.lines, start=1):
            item = items[line.sku]
            db.execute("INSERT INTO order_lines (purchase_order_id, line_number, sku, product_name, quantity, "
                       "unit_price_cents, unit_tax_cents, shipping_cents, status_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (po, number, line.sku, item["product_name"], line.quantity, item["price_cents"],
                        round(item["price_cents"] * 0.08), checkout.shipping_cents, now))
            add(db, po, number, "Created", line.quantity, now)
            before = node_stock(db, line.sku, chosen)
            reserve(db, line.sku, chosen, line.quantity, now)
            take_from_shelf(db, line.sku, chosen, line.quantity, po, now)
            after = node_stock(db, line.sku, chosen)
            if before and after and before.avail_to_sell > 0 and after.avail_to_sell == 0:
                out_of_stock(sandbox, db, line.sku, chosen, item["product_name"], now)
        sandbox.store.bump("orders_placed")
        sandbox.store.bump("units_sold", sum(line.quantity for line in checkout.lines))
    release_due_orders(sandbox)
    return po


def out_of_stock(sandbox: SandboxContext, db: sqlite3.Connection, sku: str, node: str, product_name: str,
                 when: float) -> None:
    """INVENTORY_OOS: the SKU can no longer be bought at this node."""
    name = next((n.name for n in sandbox.config.ship_nodes if n.id == node), node)
    emit(db, seed=sandbox.config.seed, seq=sandbox.store.next_sequence("event"), event_type="INVENTORY_OOS", when=when,
         payload={"partnerId": sandbox.config.partner_id, "itemId": _digits(sandbox.config.seed, f"item:{sku}", 0, 9),
                  "sku": sku, "productName": product_name, "category": "Home",
                  "shipNodes": [{"availToSellQty": 0, "shipNode": node, "shipNodeName": name}]})
