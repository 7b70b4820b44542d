"""fulfillmentOrderHold and fulfillmentOrderReleaseHold, as Shopify documents them.

- A hold stops a fulfillment order from being fulfilled or moved (status ON_HOLD) while
  its units stay committed where they are. Holding some line items only splits the order:
  the held units stay on it, the rest go to a new OPEN fulfillment order at the same
  location (``remainingFulfillmentOrder``).
- Several holds may stack, up to 10 per app, each with its own ``handle``
  (``DUPLICATE_FULFILLMENT_HOLD_HANDLE`` for one already in use, an absent handle counting
  as one); an order already on hold cannot be split again (``FULFILLMENT_ORDER_NOT_SPLITTABLE``).
- Release takes the named holds off (all of them when none is named; ids of other orders'
  holds are ignored, as Shopify says); with no hold left the order is OPEN again.

Webhooks: fulfillment_orders/placed_on_hold (the order with its holds, the remaining order,
the held line items and the hold created) and fulfillment_orders/hold_released.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .events import Event
from .gid import number_of, to_gid

NextId = Callable[[str], int]
HOLDABLE = ("OPEN", "IN_PROGRESS", "ON_HOLD")
MAX_HOLDS = 10
APP_ID = 5_902_000_001  # the app the sandbox's access tokens belong to (held_by_app)


def _error(field: list[str], message: str, code: str | None) -> dict:
    return {"field": field, "message": message, "code": code}


def active_holds(conn: sqlite3.Connection, fo_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM fulfillment_holds WHERE fulfillment_order_id = ? AND released_at IS NULL"
                        " ORDER BY id", (fo_id,)).fetchall()


def display_reason(reason: str) -> str:
    return reason.replace("_", " ").capitalize()


def _hold_body(row: sqlite3.Row) -> dict:
    return {"id": to_gid("FulfillmentHold", row["id"]), "reason": row["reason"].lower(),
            "reason_notes": row["reason_notes"], "held_by_requesting_app": True, "handle": row["handle"],
            "held_by_app": {"id": to_gid("App", APP_ID)}}


def _fo_ref(conn, fo_id: int) -> dict:
    status = conn.execute("SELECT status FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone()["status"]
    return {"id": to_gid("FulfillmentOrder", fo_id), "status": status.lower()}


def _held_units(conn, fo: sqlite3.Row, requested: list[dict] | None) -> tuple[dict[int, int], list[dict]]:
    """FulfillmentOrderLineItem id -> units to hold (every remaining unit when none is named)."""
    items = {i["id"]: i for i in conn.execute(
        "SELECT * FROM fulfillment_order_line_items WHERE fulfillment_order_id = ?", (fo["id"],))}
    if requested is None:
        return {i: row["remaining_quantity"] for i, row in items.items() if row["remaining_quantity"] > 0}, []
    held: dict[int, int] = {}
    errors: list[dict] = []
    for n, line in enumerate(requested):
        path = ["fulfillmentHold", "fulfillmentOrderLineItems", str(n)]
        line_id = number_of(line["id"], "FulfillmentOrderLineItem")
        if line_id is None or line_id not in items:
            errors.append(_error(path + ["id"], "The fulfillment order line item does not belong to the fulfillment "
                                                "order.", "INVALID_LINE_ITEM_QUANTITY"))
        elif line_id in held:
            errors.append(_error(path + ["id"], "The fulfillment order line items are not unique.",
                                 "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS"))
        elif line["quantity"] <= 0:
            errors.append(_error(path + ["quantity"], "The fulfillment order line item quantity must be greater than 0.",
                                 "GREATER_THAN_ZERO"))
        elif line["quantity"] > items[line_id]["remaining_quantity"]:
            errors.append(_error(path + ["quantity"], "The fulfillment order line item quantity is invalid.",
                                 "INVALID_LINE_ITEM_QUANTITY"))
        else:
            held[line_id] = line["quantity"]
    return held, errors


def _split_off_the_rest(conn, next_id: NextId, fo: sqlite3.Row, held: dict[int, int], now_iso: str) -> int | None:
    """Units not held move to a new fulfillment order at the same location; its id, or None
    when every remaining unit is held."""
    rest = [(row, row["remaining_quantity"] - held.get(row["id"], 0)) for row in conn.execute(
        "SELECT * FROM fulfillment_order_line_items WHERE fulfillment_order_id = ? ORDER BY id", (fo["id"],))]
    rest = [(row, units) for row, units in rest if units > 0]
    if not rest:
        return None
    remaining_id = next_id("FulfillmentOrder")
    conn.execute("INSERT INTO fulfillment_orders(id, order_id, location_id, status, request_status, created_at,"
                 " updated_at) VALUES (?,?,?,?,?,?,?)",
                 (remaining_id, fo["order_id"], fo["location_id"], "OPEN", "UNSUBMITTED", now_iso, now_iso))
    for row, units in rest:
        conn.execute("INSERT INTO fulfillment_order_line_items(id, fulfillment_order_id, line_item_id, total_quantity,"
                     " remaining_quantity) VALUES (?,?,?,?,?)",
                     (next_id("FulfillmentOrderLineItem"), remaining_id, row["line_item_id"], units, units))
        conn.execute("UPDATE fulfillment_order_line_items SET total_quantity = total_quantity - ?,"
                     " remaining_quantity = remaining_quantity - ? WHERE id = ?", (units, units, row["id"]))
    conn.execute("DELETE FROM fulfillment_order_line_items WHERE fulfillment_order_id = ? AND total_quantity = 0",
                 (fo["id"],))
    return remaining_id


def place_hold(conn: sqlite3.Connection, next_id: NextId, fo_gid: str, hold: dict, now_iso: str
               ) -> tuple[int | None, int | None, int | None, list[dict], list[Event]]:
    """Returns (hold id, fulfillment order id, remaining fulfillment order id, user errors, events)."""
    fo_id = number_of(fo_gid, "FulfillmentOrder")
    fo = conn.execute("SELECT * FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone() if fo_id else None
    if fo is None:
        return None, None, None, [_error(["id"], "The fulfillment order could not be found.",
                                         "FULFILLMENT_ORDER_NOT_FOUND")], []
    if fo["status"] not in HOLDABLE:
        return None, fo["id"], None, [_error(["id"], f"A {fo['status'].lower()} fulfillment order can't be put on hold.",
                                             None)], []
    holds = active_holds(conn, fo["id"])
    if len(holds) >= MAX_HOLDS:
        return None, fo["id"], None, [_error(["id"], "The maximum number of fulfillment holds for this fulfillment order "
                                                     "has been reached for this app.",
                                             "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED")], []
    if any(h["handle"] == hold.get("handle") for h in holds):
        return None, fo["id"], None, [_error(["fulfillmentHold", "handle"], "The handle provided for the fulfillment hold "
                                             "is already in use by this app for another hold on this fulfillment order.",
                                             "DUPLICATE_FULFILLMENT_HOLD_HANDLE")], []
    requested = hold.get("fulfillmentOrderLineItems")
    if requested is not None and fo["status"] == "ON_HOLD":
        return None, fo["id"], None, [_error(["fulfillmentHold", "fulfillmentOrderLineItems"],
                                             "The fulfillment order is not in a splittable state.",
                                             "FULFILLMENT_ORDER_NOT_SPLITTABLE")], []
    held, errors = _held_units(conn, fo, requested)
    if not errors and not held:
        errors.append(_error(["id"], "The fulfillment order has no units left to hold.", None))
    if errors:
        return None, fo["id"], None, errors, []
    remaining_id = _split_off_the_rest(conn, next_id, fo, held, now_iso) if requested is not None else None
    hold_id = next_id("FulfillmentHold")
    conn.execute("INSERT INTO fulfillment_holds(id, fulfillment_order_id, reason, reason_notes, handle, external_id,"
                 " created_at) VALUES (?,?,?,?,?,?,?)",
                 (hold_id, fo["id"], hold["reason"], hold.get("reasonNotes"), hold.get("handle"), hold.get("externalId"),
                  now_iso))
    conn.execute("UPDATE fulfillment_orders SET status = 'ON_HOLD', updated_at = ? WHERE id = ?", (now_iso, fo["id"]))
    holds = active_holds(conn, fo["id"])
    body = {"fulfillment_order": dict(_fo_ref(conn, fo["id"]), fulfillment_holds=[_hold_body(h) for h in holds]),
            "remaining_fulfillment_order": _fo_ref(conn, remaining_id) if remaining_id else None,
            "held_fulfillment_order_line_items": [{"id": to_gid("FulfillmentOrderLineItem", i), "quantity": q}
                                                  for i, q in held.items()],
            "created_fulfillment_hold": _hold_body(next(h for h in holds if h["id"] == hold_id))}
    return hold_id, fo["id"], remaining_id, [], [Event("fulfillment_orders/placed_on_hold", body, now_iso)]


def release_holds(conn: sqlite3.Connection, fo_gid: str, hold_gids: list[str] | None, now_iso: str
                  ) -> tuple[int | None, list[dict], list[Event]]:
    fo_id = number_of(fo_gid, "FulfillmentOrder")
    fo = conn.execute("SELECT * FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone() if fo_id else None
    if fo is None:
        return None, [_error(["id"], "The fulfillment order wasn't found.", "FULFILLMENT_ORDER_NOT_FOUND")], []
    holds = active_holds(conn, fo["id"])
    if hold_gids is not None:
        wanted = {number_of(g, "FulfillmentHold") for g in hold_gids}
        holds = [h for h in holds if h["id"] in wanted]  # others' holds are ignored, as Shopify says
    if not holds:
        return fo["id"], [], []
    conn.executemany("UPDATE fulfillment_holds SET released_at = ? WHERE id = ?", [(now_iso, h["id"]) for h in holds])
    if not active_holds(conn, fo["id"]) and fo["status"] == "ON_HOLD":
        conn.execute("UPDATE fulfillment_orders SET status = 'OPEN', updated_at = ? WHERE id = ?", (now_iso, fo["id"]))
    return fo["id"], [], [Event("fulfillment_orders/hold_released", {"fulfillment_order": _fo_ref(conn, fo["id"])},
                                now_iso)]
