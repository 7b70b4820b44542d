"""fulfillmentOrderMove: the merchant (or an order hub) re-assigns unfulfilled line items
of a fulfillment order to another location, as Shopify documents it:

- Refused (user errors, nothing changes) when the fulfillment order is closed or
  cancelled, when the destination is unknown, inactive or already the assigned location,
  when the fulfillment order is awaiting a fulfillment service (request status other than
  UNSUBMITTED), or when the destination does not stock an item being moved.
- Every unfulfilled unit moved, and nothing fulfilled yet: the fulfillment order itself
  moves (its assigned location changes; moved and original are the same order).
- A subset, or a fulfillment order that already shipped part of its lines: a new
  fulfillment order at the destination takes the moved units; the original keeps the
  rest and closes when nothing is left to fulfil there.
- Stock follows the commitment: at the origin `committed` gives the units back to
  `available`; at the destination they go from `available` to `committed` (which may go
  below zero: Shopify lets the merchant move to a location short of stock). Both levels
  fire inventory_levels/update, and ``fulfillment_orders/moved`` says what moved where
  (original and moved orders with their statuses and assigned locations, the destination,
  the line items requested, the source location), as Shopify's sample payload has it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .events import Event
from .gid import number_of, to_gid
from .stock import apply_delta, inventory_level_event, level_row

NextId = Callable[[str], int]
MOVABLE_STATUSES = ("OPEN", "IN_PROGRESS")


def _error(field: list[str], message: str) -> dict:
    return {"field": field, "message": message}


def _units_to_move(conn, fo_id: int, requested: list[dict] | None) -> tuple[list[tuple[sqlite3.Row, int]], list[dict]]:
    items = conn.execute("SELECT * FROM fulfillment_order_line_items WHERE fulfillment_order_id = ? ORDER BY id",
                         (fo_id,)).fetchall()
    if requested is None:
        return [(i, i["remaining_quantity"]) for i in items if i["remaining_quantity"] > 0], []
    by_id = {i["id"]: i for i in items}
    wanted: list[tuple[sqlite3.Row, int]] = []
    errors: list[dict] = []
    for n, line in enumerate(requested):
        item = by_id.get(number_of(line.get("id") or "", "FulfillmentOrderLineItem") or -1)
        if item is None:
            errors.append(_error(["fulfillmentOrderLineItems", str(n), "id"],
                                 "Fulfillment order line item does not belong to the fulfillment order."))
        elif not 0 < line["quantity"] <= item["remaining_quantity"]:
            errors.append(_error(["fulfillmentOrderLineItems", str(n), "quantity"],
                                 "Invalid fulfillment order line item quantity requested."))
        else:
            wanted.append((item, line["quantity"]))
    return wanted, errors


def move_fulfillment_order(conn, next_id: NextId, fo_gid: str, location_gid: str, requested: list[dict] | None,
                           now_iso: str) -> tuple[int | None, int | None, list[dict], list[Event]]:
    """Returns (moved fulfillment order id, original id, user errors, events)."""
    fo_id = number_of(fo_gid, "FulfillmentOrder")
    fo = conn.execute("SELECT * FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone() if fo_id else None
    if fo is None:
        return None, None, [_error(["id"], "Fulfillment order does not exist.")], []
    location_id = number_of(location_gid, "Location")
    location = conn.execute("SELECT * FROM locations WHERE id = ?", (location_id,)).fetchone() if location_id else None
    if location is None or location_id is None or not location["active"]:  # (no id, no location)
        return None, fo["id"], [_error(["newLocationId"], "Location does not exist or is not active.")], []
    if fo["status"] not in MOVABLE_STATUSES:
        return None, fo["id"], [_error(["id"], f"Cannot move a fulfillment order with status {fo['status'].lower()}.")], []
    if fo["request_status"] != "UNSUBMITTED":
        return None, fo["id"], [_error(["id"], "Cannot move a fulfillment order that has been submitted to a "
                                               "fulfillment service.")], []
    if fo["location_id"] == location_id:
        return None, fo["id"], [_error(["newLocationId"], "Cannot move a fulfillment order to its assigned location.")], []
    wanted, errors = _units_to_move(conn, fo["id"], requested)
    if not errors and not wanted:
        errors.append(_error(["id"], "Fulfillment order has no unfulfilled line items to move."))
    for item, _units in wanted:
        line = conn.execute("SELECT inventory_item_id, sku FROM line_items WHERE id = ?", (item["line_item_id"],)).fetchone()
        if level_row(conn, line["inventory_item_id"], location_id) is None:
            errors.append(_error(["newLocationId"], f"The location doesn't stock {line['sku'] or 'the item'}."))
    if errors:
        return None, fo["id"], errors, []

    items = conn.execute("SELECT * FROM fulfillment_order_line_items WHERE fulfillment_order_id = ?", (fo["id"],)).fetchall()
    whole = (sum(u for _, u in wanted) == sum(i["total_quantity"] for i in items)
             and all(i["remaining_quantity"] == i["total_quantity"] for i in items))
    if whole:  # first scenario: the fulfillment order itself moves
        conn.execute("UPDATE fulfillment_orders SET location_id = ?, updated_at = ? WHERE id = ?",
                     (location_id, now_iso, fo["id"]))
        moved_id = fo["id"]
    else:  # second scenario: a new fulfillment order at the destination takes the moved units
        moved_id = next_id("FulfillmentOrder")
        conn.execute("INSERT INTO fulfillment_orders(id, order_id, location_id, status, request_status, created_at,"
                     " updated_at) VALUES (?,?,?,?,?,?,?)",
                     (moved_id, fo["order_id"], location_id, "OPEN", "UNSUBMITTED", now_iso, now_iso))
        for item, units in wanted:
            conn.execute("INSERT INTO fulfillment_order_line_items(id, fulfillment_order_id, line_item_id, total_quantity,"
                         " remaining_quantity) VALUES (?,?,?,?,?)",
                         (next_id("FulfillmentOrderLineItem"), moved_id, item["line_item_id"], units, units))
            conn.execute("UPDATE fulfillment_order_line_items SET total_quantity = total_quantity - ?,"
                         " remaining_quantity = remaining_quantity - ? WHERE id = ?", (units, units, item["id"]))
        conn.execute("DELETE FROM fulfillment_order_line_items WHERE fulfillment_order_id = ? AND total_quantity = 0",
                     (fo["id"],))
        left = conn.execute("SELECT coalesce(sum(remaining_quantity), 0) AS n FROM fulfillment_order_line_items"
                            " WHERE fulfillment_order_id = ?", (fo["id"],)).fetchone()["n"]
        conn.execute("UPDATE fulfillment_orders SET status = ?, updated_at = ? WHERE id = ?",
                     (fo["status"] if left else "CLOSED", now_iso, fo["id"]))

    events: list[Event] = []
    touched: set[tuple[int, int]] = set()
    for item, units in wanted:
        inv = conn.execute("SELECT inventory_item_id FROM line_items WHERE id = ?", (item["line_item_id"],)).fetchone()[0]
        apply_delta(conn, inv, fo["location_id"], "committed", -units, now_iso)
        apply_delta(conn, inv, fo["location_id"], "available", units, now_iso)
        apply_delta(conn, inv, location_id, "available", -units, now_iso)
        apply_delta(conn, inv, location_id, "committed", units, now_iso)
        touched |= {(inv, fo["location_id"]), (inv, location_id)}
    events += [inventory_level_event(conn, inv, loc, now_iso) for inv, loc in sorted(touched)]
    events.append(Event("fulfillment_orders/moved", _moved_body(conn, fo, moved_id, location_id, wanted), now_iso))
    return moved_id, fo["id"], [], events


def _moved_body(conn, original: sqlite3.Row, moved_id: int, destination_id: int,
                wanted: list[tuple[sqlite3.Row, int]]) -> dict:
    def ref(fo_id: int) -> dict:
        row = conn.execute("SELECT status, location_id FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone()
        return {"id": to_gid("FulfillmentOrder", fo_id), "status": row["status"].lower(),
                "assigned_location_id": to_gid("Location", row["location_id"])}

    return {"original_fulfillment_order": ref(original["id"]), "moved_fulfillment_order": ref(moved_id),
            "destination_location_id": to_gid("Location", destination_id),
            "fulfillment_order_line_items_requested": [
                {"id": to_gid("FulfillmentOrderLineItem", item["id"]), "quantity": units} for item, units in wanted],
            "source_location": {"id": to_gid("Location", original["location_id"])}}
