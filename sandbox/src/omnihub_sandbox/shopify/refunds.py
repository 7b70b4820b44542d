"""Refunds: money back on an order, and what happens to the refunded units (refundCreate,
the refund returnProcess issues, the control plane's return-and-refund).

Each refund line says what becomes of its units, as Shopify's restock types do:

- ``RETURN``: fulfilled units come back to ``locationId`` (default: the location that shipped
  them); available and the physical shelf go up, ``inventory_levels/update`` fires.
- ``CANCEL``: unfulfilled units leave the order (its current quantity) and their fulfillment
  orders; their commitment goes back to available.
- ``NO_RESTOCK``: fulfilled units are refunded and stock stays where it is: a refund
  without a return moves no stock.
- ``LEGACY_RESTOCK``: ``RETURN`` for fulfilled units, ``CANCEL`` for unfulfilled ones.

Money is what the refund's transactions say (kind ``REFUND``), at most what is left paid
unless ``allowOverRefunding``; with no transactions the refund carries no money, as
Shopify's refundCreate. ``displayFinancialStatus`` follows the money: all of it back is
REFUNDED, some PARTIALLY_REFUNDED. The body, in REST shape, is what ``refunds/create``
sends; a refund issued for a return names it (``"return": {id, admin_graphql_api_id}``).

The sale a refund refunds is the order's one ``SALE`` transaction, whose id is the order's
number (``gid://shopify/OrderTransaction/<order id>``): what ``parentId`` names.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from . import rest_payloads
from .events import Event
from .gid import to_gid
from .order_status import refresh_fulfillment_status
from .stock import apply_delta, inventory_level_event, level_row, put_on_shelf

NextId = Callable[[str], int]
RESTOCK_TYPES = ("CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK", "RETURN")
HOLDING_STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD")  # fulfillment orders whose units are committed


@dataclass(frozen=True)
class RefundLine:
    line_item_id: int | None  # None: the id named no line item
    quantity: int
    restock_type: str = "NO_RESTOCK"
    location_id: int | None = None


@dataclass
class RefundAsk:
    order_id: int
    lines: list[RefundLine]
    amount: Decimal = Decimal(0)
    note: str | None = None
    return_id: int | None = None
    allow_over_refunding: bool = False
    gateway: str = "bogus"
    # where a user error about a line points, e.g. ["refundLineItems"]
    lines_field: list[str] = field(default_factory=lambda: ["refundLineItems"])


def sale_transaction_id(order_id: int) -> int:
    return order_id


def paid(conn: sqlite3.Connection, order_id: int) -> Decimal:
    """What the customer paid: every unit ordered at its price."""
    return sum((Decimal(r["price"]) * r["quantity"] for r in conn.execute(
        "SELECT price, quantity FROM line_items WHERE order_id = ?", (order_id,))), Decimal(0))


def refunded(conn: sqlite3.Connection, order_id: int) -> Decimal:
    total = Decimal(0)
    for row in conn.execute("SELECT body FROM refunds WHERE order_id = ?", (order_id,)):
        total += sum((Decimal(tx["amount"]) for tx in json.loads(row["body"])["transactions"]
                      if tx.get("kind") == "refund"), Decimal(0))
    return total


def paid_left(conn: sqlite3.Connection, order_id: int) -> Decimal:
    """What the customer paid for the order less what was refunded already."""
    return max(paid(conn, order_id) - refunded(conn, order_id), Decimal(0))


def _error(field: list[str], message: str) -> dict:
    return {"field": field, "message": message}


def _shipped_from(conn, line_item_id: int) -> int | None:
    row = conn.execute("SELECT f.location_id FROM fulfillment_line_items fli JOIN fulfillments f ON f.id = fli.fulfillment_id"
                       " WHERE fli.line_item_id = ? ORDER BY f.id LIMIT 1", (line_item_id,)).fetchone()
    return row["location_id"] if row else None


@dataclass
class _Planned:
    item: sqlite3.Row
    quantity: int
    restock_type: str
    location_id: int | None


def _plan(conn, order: sqlite3.Row, ask: RefundAsk) -> tuple[list[_Planned], list[dict]]:
    planned: list[_Planned] = []
    errors: list[dict] = []
    taken: dict[int, int] = {}  # fulfilled units already refunded by an earlier line of this refund
    cancelled: dict[int, int] = {}
    for index, line in enumerate(ask.lines):
        path = ask.lines_field + [str(index)]
        item = conn.execute("SELECT * FROM line_items WHERE id = ? AND order_id = ?",
                            (line.line_item_id, order["id"])).fetchone() if line.line_item_id else None
        if item is None:
            errors.append(_error(path + ["lineItemId"], "Line item does not exist on this order."))
            continue
        if line.quantity <= 0:
            errors.append(_error(path + ["quantity"], "Quantity must be greater than 0."))
            continue
        refundable = item["fulfilled_quantity"] - item["refunded_quantity"] - taken.get(item["id"], 0)
        unfulfilled = item["current_quantity"] - item["fulfilled_quantity"] - cancelled.get(item["id"], 0)
        kind = line.restock_type
        if kind == "LEGACY_RESTOCK":
            kind = "RETURN" if line.quantity <= refundable else "CANCEL"
        if kind == "CANCEL":
            if line.quantity > unfulfilled:
                errors.append(_error(path + ["quantity"], f"Only {max(unfulfilled, 0)} unfulfilled units of this line "
                                                          "can be cancelled."))
                continue
            cancelled[item["id"]] = cancelled.get(item["id"], 0) + line.quantity
            planned.append(_Planned(item, line.quantity, kind, None))
            continue
        if line.quantity > refundable:
            errors.append(_error(path + ["quantity"], f"Only {max(refundable, 0)} fulfilled, not yet refunded units of "
                                                      "this line can be refunded."))
            continue
        taken[item["id"]] = taken.get(item["id"], 0) + line.quantity
        location_id = None
        if kind == "RETURN":
            location_id = line.location_id or _shipped_from(conn, item["id"]) or order["retail_location_id"]
            if location_id is None or item["inventory_item_id"] is None \
                    or level_row(conn, item["inventory_item_id"], location_id) is None:
                errors.append(_error(path + ["locationId"], "The item isn't stocked at the restock location."))
                continue
        planned.append(_Planned(item, line.quantity, kind, location_id))
    return planned, errors


def _cancel_units(conn, item: sqlite3.Row, units: int, now_iso: str) -> tuple[int | None, list[Event]]:
    """Unfulfilled units leave their fulfillment orders; their commitment goes back to
    available. Returns the (first) location they left and the level events."""
    events: list[Event] = []
    first_location = None
    remaining = units
    for part in conn.execute(
            "SELECT foli.*, fo.location_id FROM fulfillment_order_line_items foli JOIN fulfillment_orders fo"
            f" ON fo.id = foli.fulfillment_order_id WHERE foli.line_item_id = ? AND foli.remaining_quantity > 0"
            f" AND fo.status IN ({','.join('?' * len(HOLDING_STATUSES))}) ORDER BY foli.id",
            (item["id"], *HOLDING_STATUSES)).fetchall():
        take = min(remaining, part["remaining_quantity"])
        conn.execute("UPDATE fulfillment_order_line_items SET remaining_quantity = remaining_quantity - ?,"
                     " total_quantity = total_quantity - ? WHERE id = ?", (take, take, part["id"]))
        apply_delta(conn, item["inventory_item_id"], part["location_id"], "committed", -take, now_iso)
        apply_delta(conn, item["inventory_item_id"], part["location_id"], "available", take, now_iso)
        events.append(inventory_level_event(conn, item["inventory_item_id"], part["location_id"], now_iso))
        left = conn.execute("SELECT coalesce(sum(remaining_quantity), 0) AS n FROM fulfillment_order_line_items"
                            " WHERE fulfillment_order_id = ?", (part["fulfillment_order_id"],)).fetchone()["n"]
        if not left:
            conn.execute("UPDATE fulfillment_orders SET status = 'CLOSED', updated_at = ? WHERE id = ?",
                         (now_iso, part["fulfillment_order_id"]))
        first_location = first_location or part["location_id"]
        remaining -= take
        if remaining == 0:
            break
    conn.execute("UPDATE line_items SET current_quantity = current_quantity - ? WHERE id = ?", (units, item["id"]))
    return first_location, events


def create_refund(conn: sqlite3.Connection, next_id: NextId, ask: RefundAsk, now_iso: str
                  ) -> tuple[int | None, list[dict], list[Event]]:
    """Refund (the module docstring says how). Returns (refund id, user errors, events); when
    refused, no refund id and nothing changed."""
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (ask.order_id,)).fetchone()
    if order is None:
        return None, [_error(["orderId"], "Order does not exist.")], []
    planned, errors = _plan(conn, order, ask)
    left = paid_left(conn, order["id"])
    if ask.amount < 0:
        errors.append(_error(["transactions"], "A refund amount can't be negative."))
    elif ask.amount > left and not ask.allow_over_refunding:
        errors.append(_error(["transactions"], f"Refund amount ${ask.amount:.2f} is greater than net payment received "
                                               f"${left:.2f}."))
    if errors:
        return None, errors, []
    refund_id = next_id("Refund")
    stamp = now_iso[:19] + "+00:00"
    lines: list[dict] = []
    level_events: list[Event] = []
    for part in planned:
        item, units = part.item, part.quantity
        location_id = part.location_id
        if part.restock_type == "CANCEL":
            location_id, moved = _cancel_units(conn, item, units, now_iso)
            level_events += moved
        else:
            conn.execute("UPDATE line_items SET refunded_quantity = refunded_quantity + ? WHERE id = ?", (units, item["id"]))
            if part.restock_type == "RETURN":
                assert location_id is not None  # _plan refused a return without a restock location
                apply_delta(conn, item["inventory_item_id"], location_id, "available", units, now_iso)
                put_on_shelf(conn, item["inventory_item_id"], location_id, units, now_iso)
                level_events.append(inventory_level_event(conn, item["inventory_item_id"], location_id, now_iso))
        subtotal = rest_payloads.money(Decimal(item["price"]) * units)
        lines.append({"id": next_id("LineItem"), "quantity": units, "line_item_id": item["id"], "location_id": location_id,
                      "restock_type": part.restock_type.lower(), "subtotal": subtotal, "total_tax": "0.00",
                      "subtotal_set": _money_set(subtotal, order["currency"]),
                      "total_tax_set": _money_set("0.00", order["currency"]),
                      "line_item": rest_payloads.line_item(item)})
    transactions = []
    if ask.amount > 0:
        tx_id = next_id("OrderTransaction")
        transactions.append({"id": tx_id, "admin_graphql_api_id": to_gid("OrderTransaction", tx_id),
                             "order_id": order["id"], "kind": "refund", "gateway": ask.gateway, "status": "success",
                             "message": None, "created_at": stamp, "test": False,
                             "parent_id": sale_transaction_id(order["id"]),
                             "amount": rest_payloads.money(ask.amount), "currency": order["currency"]})
    body = {"id": refund_id, "admin_graphql_api_id": to_gid("Refund", refund_id), "order_id": order["id"],
            "created_at": stamp, "processed_at": stamp, "note": ask.note, "user_id": None,
            "restock": any(p.restock_type in ("RETURN", "CANCEL") for p in planned), "duties": [],
            "total_duties_set": _money_set("0.00", order["currency"]),
            "return": {"id": ask.return_id, "admin_graphql_api_id": to_gid("Return", ask.return_id)}
            if ask.return_id else None,
            "refund_shipping_lines": [], "refund_line_items": lines, "transactions": transactions,
            "order_adjustments": []}
    conn.execute("INSERT INTO refunds(id, order_id, body, created_at) VALUES (?,?,?,?)",
                 (refund_id, order["id"], json.dumps(body), now_iso))
    if ask.amount > 0:
        status = "REFUNDED" if refunded(conn, order["id"]) >= paid(conn, order["id"]) else "PARTIALLY_REFUNDED"
        conn.execute("UPDATE orders SET financial_status = ? WHERE id = ?", (status, order["id"]))
    refresh_fulfillment_status(conn, order["id"], now_iso)
    return refund_id, [], [Event("refunds/create", body, now_iso),
                           Event("orders/updated", rest_payloads.order(conn, order["id"]), now_iso)] + level_events


def _money_set(amount: str, currency: str) -> dict:
    money = {"amount": amount, "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}
