"""The bodies of the ``returns/*`` webhooks, with the keys of Shopify's published samples
(shopify.dev/docs/api/webhooks):

- returns/request, returns/approve (and returns/process, for which Shopify publishes no
  sample: the same full shape): the return, its order, its line items and totals;
- returns/decline: the return, its order and the decline (reason, note);
- returns/close, returns/reopen, returns/cancel: the return's id, order id and status.

Shopify's samples show ``return_line_items`` empty; the sandbox lists the lines (id, the
fulfillment line item, quantity, reason), the part a hub needs to know what comes back.
"""

from __future__ import annotations

import sqlite3

from .gid import to_gid


def _row(conn: sqlite3.Connection, return_id: int) -> sqlite3.Row:
    return conn.execute("SELECT * FROM returns WHERE id = ?", (return_id,)).fetchone()


def _ref(type_name: str, number: int) -> dict:
    return {"id": number, "admin_graphql_api_id": to_gid(type_name, number)}


def full(conn: sqlite3.Connection, return_id: int) -> dict:
    row = _row(conn, return_id)
    lines = conn.execute("SELECT * FROM return_line_items WHERE return_id = ? ORDER BY id", (return_id,)).fetchall()
    return {
        **_ref("Return", return_id), "status": row["status"].lower(), "order": _ref("Order", row["order_id"]),
        "total_return_line_items": sum(line["quantity"] for line in lines), "name": row["name"],
        "return_line_items": [{**_ref("ReturnLineItem", line["id"]),
                               "fulfillment_line_item": {**_ref("FulfillmentLineItem", line["fulfillment_line_item_id"]),
                                                         "line_item": _ref("LineItem", line["line_item_id"])},
                               "quantity": line["quantity"], "return_reason": line["return_reason"].lower(),
                               "return_reason_note": line["return_reason_note"], "customer_note": line["customer_note"]}
                              for line in lines],
        "return_shipping_fees": [], "exchange_line_items": [], "total_exchange_line_items": 0,
    }


def declined(conn: sqlite3.Connection, return_id: int) -> dict:
    row = _row(conn, return_id)
    return {**_ref("Return", return_id), "status": row["status"].lower(), "order": _ref("Order", row["order_id"]),
            "decline": {"reason": (row["decline_reason"] or "other").lower(), "note": row["decline_note"]}}


def status(conn: sqlite3.Connection, return_id: int) -> dict:
    row = _row(conn, return_id)
    return {**_ref("Return", return_id), "order_id": row["order_id"], "status": row["status"].lower()}
