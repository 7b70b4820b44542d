"""Cancelling an order, as Shopify does it for `orderCancel` (an app) and for a merchant in
the admin (the control plane's `POST /_sandbox/orders/{id}/cancellations`): one rule for both.

What the 2025-09 schema's `orderCancel` documents, and the sandbox therefore does:
- refused (`orderCancelUserErrors`, nothing changes): an unknown order (`NOT_FOUND`), one
  already cancelled or with a fulfillment that cannot be cancelled (`INVALID`), a staff
  note over 255 characters (`INVALID`), store credit for an order without a customer or
  expiring in the past (`STORE_CREDIT_REFUND_MISSING_CUSTOMER`, `..._EXPIRATION_IN_PAST`);
- the units of its open fulfillment orders leave `committed`; with `restock` they are back
  in `available` at that location (an `inventory_levels/update` each), without it Shopify
  takes them out of on hand (the goods stay on the shelf: the sandbox's physical truth);
- refunded (`refund: true` or a `refundMethod`) from a paid order: a refund of what is left
  paid (`refunds/create`), financial status REFUNDED; not refunded, a paid order stays
  PAID; an authorisation is voided either way (VOIDED);
- the unfulfilled units are removed (`currentQuantity` drops), the order is closed, and
  `cancelledAt`, `cancelReason` and `cancellation.staffNote` show it;
- the work is a job: it runs within the call, so the job it answers is done (`job(id:)`
  finds it), and the `orders/cancelled` and `orders/updated` webhooks go out through the
  dispatcher like every other, lost or late as its faults say.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import rest_payloads
from .clock import iso_storage, parse_timestamp
from .events import Event
from .refunds import paid_left
from .sales import NextId
from .stock import apply_delta, inventory_level_event

STAFF_NOTE_MAX = 255
REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")
PAID_STATES = ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED")
AUTHORISED_STATES = ("AUTHORIZED", "PENDING", "EXPIRED")
ORIGINAL, STORE_CREDIT = "original_payment_methods", "store_credit"


@dataclass(frozen=True)
class Cancellation:
    """What the caller asked for. `refund` is None (no refund), ORIGINAL or STORE_CREDIT."""

    reason: str
    restock: bool
    refund: str | None = None
    store_credit_expires_at: str | None = None
    notify_customer: bool = False
    staff_note: str | None = None
    by: str = "app"  # app (orderCancel) | merchant (the admin)


def _error(field: str, message: str, code: str) -> dict:
    return {"field": [field], "message": message, "code": code}


def _refused(conn: sqlite3.Connection, order: sqlite3.Row | None, asked: Cancellation, now: datetime) -> list[dict]:
    if order is None:
        return [_error("orderId", "Order does not exist.", "NOT_FOUND")]
    if order["cancelled_at"]:
        return [_error("orderId", "Cannot cancel an order that is already cancelled.", "INVALID")]
    if conn.execute("SELECT 1 FROM fulfillments WHERE order_id = ? AND status = 'SUCCESS'", (order["id"],)).fetchone():
        return [_error("orderId", "Cannot cancel an order with fulfillments; cancel them first.", "INVALID")]
    if asked.reason not in REASONS:
        return [_error("reason", f"Reason {asked.reason!r} is not one of {', '.join(REASONS)}.", "INVALID")]
    if asked.staff_note is not None and len(asked.staff_note) > STAFF_NOTE_MAX:
        return [_error("staffNote", f"Staff note is too long (maximum is {STAFF_NOTE_MAX} characters).", "INVALID")]
    if asked.refund == STORE_CREDIT:
        if not order["customer"]:
            return [_error("refundMethod", "A store credit refund needs the order to have a customer.",
                           "STORE_CREDIT_REFUND_MISSING_CUSTOMER")]
        if asked.store_credit_expires_at is not None and parse_timestamp(asked.store_credit_expires_at) <= now:
            return [_error("refundMethod", "The store credit's expiration date is in the past.",
                           "STORE_CREDIT_REFUND_EXPIRATION_IN_PAST")]
    return []


def _release(conn: sqlite3.Connection, order_id: int, restock: bool, now_iso: str) -> tuple[list[dict], list[Event]]:
    """The open fulfillment orders' units leave committed (back to available with restock);
    returns the refund line items (one per line item and location) and the events."""
    lines: list[dict] = []
    events: list[Event] = []
    for fo in conn.execute("SELECT * FROM fulfillment_orders WHERE order_id = ? AND status IN ('OPEN','IN_PROGRESS','ON_HOLD')"
                           " ORDER BY id", (order_id,)).fetchall():
        for item in conn.execute(
                "SELECT foli.remaining_quantity AS units, li.id AS line_item_id, li.inventory_item_id, li.price"
                " FROM fulfillment_order_line_items foli JOIN line_items li ON li.id = foli.line_item_id"
                " WHERE foli.fulfillment_order_id = ? ORDER BY foli.id", (fo["id"],)).fetchall():
            if item["units"] <= 0:
                continue
            apply_delta(conn, item["inventory_item_id"], fo["location_id"], "committed", -item["units"], now_iso)
            if restock:  # available changes only then: that is what inventory_levels/update reports
                apply_delta(conn, item["inventory_item_id"], fo["location_id"], "available", item["units"], now_iso)
                events.append(inventory_level_event(conn, item["inventory_item_id"], fo["location_id"], now_iso))
            conn.execute("UPDATE line_items SET current_quantity = max(current_quantity - ?, fulfilled_quantity)"
                         " WHERE id = ?", (item["units"], item["line_item_id"]))
            lines.append({"line_item_id": item["line_item_id"], "quantity": item["units"], "location_id": fo["location_id"],
                          "restock_type": "cancel" if restock else "no_restock",
                          "subtotal": rest_payloads.money(Decimal(item["price"]) * item["units"]), "total_tax": "0.00"})
        conn.execute("UPDATE fulfillment_order_line_items SET remaining_quantity = 0 WHERE fulfillment_order_id = ?",
                     (fo["id"],))
        conn.execute("UPDATE fulfillment_orders SET status = 'CANCELLED', updated_at = ? WHERE id = ?", (now_iso, fo["id"]))
        events.append(Event("fulfillment_orders/cancelled", dict(rest_payloads.fulfillment_order_ref(fo["id"], "CANCELLED"),
                                                                  replacement_fulfillment_order=None), now_iso))
    return lines, events


def _refund(conn: sqlite3.Connection, next_id: NextId, order: sqlite3.Row, asked: Cancellation, lines: list[dict],
            now_iso: str) -> tuple[int, Event]:
    refund_id = next_id("Refund")
    gateway = "shopify_store_credit" if asked.refund == STORE_CREDIT else "bogus"
    body = {"id": refund_id, "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}", "order_id": order["id"],
            "created_at": now_iso[:19] + "+00:00", "processed_at": now_iso[:19] + "+00:00",
            "note": asked.staff_note, "restock": asked.restock, "user_id": None,
            "refund_line_items": [dict(line, id=next_id("LineItem")) for line in lines],
            "transactions": [{"kind": "refund", "status": "success", "amount": rest_payloads.money(paid_left(conn, order["id"])),
                              "currency": order["currency"], "gateway": gateway, "order_id": order["id"]}],
            "order_adjustments": []}
    conn.execute("INSERT INTO refunds(id, order_id, body, created_at) VALUES (?,?,?,?)",
                 (refund_id, order["id"], json.dumps(body), now_iso))
    return refund_id, Event("refunds/create", body, now_iso)


def cancel_order(conn: sqlite3.Connection, next_id: NextId, order_id: int, asked: Cancellation,
                 now: datetime) -> tuple[int | None, list[dict], list[Event]]:
    """Cancel the order (the module docstring says how). Returns (job id, user errors, events):
    no job and the errors when refused, and then nothing has changed."""
    now_iso = iso_storage(now)
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    errors = _refused(conn, order, asked, now)
    if errors:
        return None, errors, []
    lines, level_events = _release(conn, order_id, asked.restock, now_iso)
    status = order["financial_status"]
    events: list[Event] = []
    refund_id = None
    if asked.refund is not None and status in PAID_STATES and paid_left(conn, order_id) > 0:
        refund_id, refunded = _refund(conn, next_id, order, asked, lines, now_iso)
        events.append(refunded)
        status = "REFUNDED"
    elif status in AUTHORISED_STATES:
        status = "VOIDED"
    conn.execute("UPDATE orders SET cancelled_at = ?, cancel_reason = ?, closed_at = coalesce(closed_at, ?),"
                 " financial_status = ?, updated_at = ? WHERE id = ?",
                 (now_iso, asked.reason, now_iso, status, now_iso, order_id))
    job_id = next_id("Job")
    conn.execute("INSERT INTO order_cancellations(order_id, job_id, reason, restock, refund_method, refund_id,"
                 " notify_customer, staff_note, cancelled_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (order_id, job_id, asked.reason, int(asked.restock), asked.refund, refund_id,
                  int(asked.notify_customer), asked.staff_note, asked.by, now_iso))
    body = rest_payloads.order(conn, order_id)
    return job_id, [], [Event("orders/cancelled", body, now_iso), Event("orders/updated", body, now_iso)] + events \
        + level_events


def cancellation_of_job(conn: sqlite3.Connection, job_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM order_cancellations WHERE job_id = ?", (job_id,)).fetchone()


def cancellation_of_order(conn: sqlite3.Connection, order_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM order_cancellations WHERE order_id = ?", (order_id,)).fetchone()
