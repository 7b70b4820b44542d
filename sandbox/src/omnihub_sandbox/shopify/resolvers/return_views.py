"""Returns, refunds and an order's payments as GraphQL objects (Return, ReturnLineItem,
ReverseFulfillmentOrder and its line items and dispositions, Refund, RefundLineItem,
OrderTransaction), and the order fields that reach them.

A refund is kept as its REST body (refunds.py writes it, refunds/create sends it), so its
lines and transactions are read from that body. An order has one SALE transaction (what the
customer paid) and one REFUND transaction per refund that gave money back.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from ..clock import iso_api
from ..gid import to_gid
from ..refunds import paid, sale_transaction_id
from ..returns import return_status_of_order
from ..search_syntax import date_rule, id_rule, text_rule
from .connections import list_connection, sql_connection
from .views import _money_bag, _one, _row, fulfillment_line_item, load_fulfillment_line_item, load_line_item, \
    load_location, load_order

RETURN_RULES = {"status": text_rule("status"), "id": id_rule("id"), "created_at": date_rule("created_at"),
                "updated_at": date_rule("updated_at")}


def _ts(rest_stamp: str | None) -> str | None:
    """A REST timestamp (``...+00:00``) as the API's (``...Z``)."""
    return rest_stamp.replace("+00:00", "Z") if rest_stamp else None


# -- payments -------------------------------------------------------------------------------

def transaction(tx: dict, currency: str) -> dict:
    parent = tx.get("parent_id")
    return {"__typename": "OrderTransaction", "id": to_gid("OrderTransaction", tx["id"]), "kind": tx["kind"].upper(),
            "status": tx["status"].upper(), "gateway": tx["gateway"], "test": False,
            "amountSet": _money_bag(Decimal(tx["amount"]), currency),
            "createdAt": _ts(tx["created_at"]), "processedAt": _ts(tx["created_at"]),
            "parentTransaction": (lambda info: _sale(info, parent)) if parent else None}


def _sale_tx(order: sqlite3.Row, amount: Decimal) -> dict:
    return {"id": sale_transaction_id(order["id"]), "kind": "sale", "status": "success",
            "gateway": "cash" if order["source_name"] == "pos" else "bogus", "amount": f"{amount:.2f}",
            "created_at": iso_api(order["processed_at"])}


def _sale(info, order_id: int) -> dict | None:
    order = _one(info, "SELECT * FROM orders WHERE id = ?", (order_id,))
    if order is None:
        return None
    with info.context.store.read() as conn:
        amount = paid(conn, order_id)
    return transaction(_sale_tx(order, amount), order["currency"])


def _refund_transactions(body: dict) -> list[dict]:
    # refunds written before transactions carried ids: the refund's own id names its one transaction
    return [dict(tx, id=tx.get("id") or body["id"], parent_id=tx.get("parent_id"), created_at=tx.get("created_at")
                 or body["created_at"], gateway=tx.get("gateway") or "bogus")
            for tx in body["transactions"] if tx.get("kind") == "refund"]


def order_transactions(info, order: sqlite3.Row, first: int | None) -> list[dict]:
    out = [_sale(info, order["id"])]
    for refund_row in info.context.store.all("SELECT body FROM refunds WHERE order_id = ? ORDER BY id", (order["id"],)):
        out += [transaction(tx, order["currency"]) for tx in _refund_transactions(json.loads(refund_row["body"]))]
    return [t for t in out if t][:first] if first else [t for t in out if t]


# -- refunds --------------------------------------------------------------------------------

def refund_line_item(line: dict, currency: str) -> dict:
    quantity = line["quantity"]
    subtotal = Decimal(line["subtotal"])
    return {"__typename": "RefundLineItem", "id": to_gid("RefundLineItem", line["id"]) if line.get("id") else None,
            "quantity": quantity, "restockType": line["restock_type"].upper(),
            "restocked": line["restock_type"] in ("return", "cancel", "legacy_restock"),
            "priceSet": _money_bag(subtotal / quantity if quantity else subtotal, currency),
            "subtotalSet": _money_bag(subtotal, currency), "totalTaxSet": _money_bag(Decimal(line.get("total_tax") or 0),
                                                                                      currency),
            "lineItem": lambda info: load_line_item(info, line["line_item_id"]),
            "location": lambda info: load_location(info, line.get("location_id"))}


def refund(row: sqlite3.Row) -> dict:
    body = json.loads(row["body"])
    order_id = row["order_id"]

    def currency(info) -> str:
        return _row(info, "SELECT currency FROM orders WHERE id = ?", (order_id,))["currency"]

    def total(info) -> dict:
        amount = sum((Decimal(tx["amount"]) for tx in _refund_transactions(body)), Decimal(0))
        return _money_bag(amount, currency(info))

    linked = body.get("return") or {}
    return {
        "__typename": "Refund", "id": to_gid("Refund", row["id"]), "legacyResourceId": str(row["id"]),
        "note": body.get("note"), "createdAt": _ts(body["created_at"]), "updatedAt": _ts(body["created_at"]),
        "order": lambda info: load_order(info, order_id),
        "return": lambda info: load_return(info, linked.get("id")) if linked else None,
        "totalRefundedSet": total,
        "refundLineItems": lambda info, **args: list_connection(
            info, body["refund_line_items"], args, lambda line: refund_line_item(line, currency(info))),
        "transactions": lambda info, **args: list_connection(
            info, _refund_transactions(body), args, lambda tx: transaction(tx, currency(info))),
    }


def load_refund(info, refund_id) -> dict | None:
    row = _one(info, "SELECT * FROM refunds WHERE id = ?", (refund_id,)) if refund_id is not None else None
    return refund(row) if row else None


def order_refunds(info, order_id: int, first: int | None) -> list[dict]:
    rows = info.context.store.all("SELECT * FROM refunds WHERE order_id = ? ORDER BY id"
                                  + (f" LIMIT {int(first)}" if first else ""), (order_id,))
    return [refund(r) for r in rows]


# -- returns --------------------------------------------------------------------------------

def disposition(row: sqlite3.Row) -> dict:
    return {"__typename": "ReverseFulfillmentOrderDisposition", "id": to_gid("ReverseFulfillmentOrderDisposition", row["id"]),
            "type": row["type"], "quantity": row["quantity"], "createdAt": iso_api(row["created_at"]),
            "location": lambda info: load_location(info, row["location_id"])}


def reverse_line_item(row: sqlite3.Row) -> dict:
    return {"__typename": "ReverseFulfillmentOrderLineItem",
            "id": to_gid("ReverseFulfillmentOrderLineItem", row["reverse_line_item_id"]), "totalQuantity": row["quantity"],
            "fulfillmentLineItem": lambda info: load_fulfillment_line_item(info, row["fulfillment_line_item_id"]),
            "dispositions": lambda info: [disposition(d) for d in info.context.store.all(
                "SELECT * FROM return_dispositions WHERE reverse_line_item_id = ? ORDER BY id",
                (row["reverse_line_item_id"],))]}


def reverse_fulfillment_order(row: sqlite3.Row) -> dict:
    return {"__typename": "ReverseFulfillmentOrder", "id": to_gid("ReverseFulfillmentOrder",
                                                                  row["reverse_fulfillment_order_id"]),
            "status": row["reverse_status"], "order": lambda info: load_order(info, row["order_id"]),
            "lineItems": lambda info, **args: sql_connection(
                info, source="return_line_items", where="return_id = ?", params=[row["id"]], args=args,
                sort_expr="reverse_line_item_id", id_expr="reverse_line_item_id", to_node=reverse_line_item)}


def return_line_item(row: sqlite3.Row) -> dict:
    unprocessed = row["quantity"] - row["processed_quantity"]
    return {"__typename": "ReturnLineItem", "id": to_gid("ReturnLineItem", row["id"]), "quantity": row["quantity"],
            "processedQuantity": row["processed_quantity"], "processableQuantity": unprocessed,
            "unprocessedQuantity": unprocessed, "refundedQuantity": row["refunded_quantity"],
            "refundableQuantity": row["quantity"] - row["refunded_quantity"], "returnReason": row["return_reason"],
            "returnReasonNote": row["return_reason_note"], "customerNote": row["customer_note"],
            "fulfillmentLineItem": lambda info: fulfillment_line_item(_row(
                info, "SELECT * FROM fulfillment_line_items WHERE id = ?", (row["fulfillment_line_item_id"],)))}


def return_(row: sqlite3.Row) -> dict:
    rid = row["id"]
    return {
        "__typename": "Return", "id": to_gid("Return", rid), "name": row["name"], "status": row["status"],
        "createdAt": iso_api(row["created_at"]), "closedAt": iso_api(row["closed_at"]),
        "requestApprovedAt": iso_api(row["request_approved_at"]),
        "decline": {"reason": row["decline_reason"], "note": row["decline_note"]} if row["decline_reason"] else None,
        "order": lambda info: load_order(info, row["order_id"]),
        "totalQuantity": lambda info: _row(info, "SELECT coalesce(sum(quantity), 0) AS n FROM return_line_items"
                                                 " WHERE return_id = ?", (rid,))["n"],
        "returnLineItems": lambda info, **args: sql_connection(
            info, source="return_line_items", where="return_id = ?", params=[rid], args=args, to_node=return_line_item),
        "reverseFulfillmentOrders": lambda info, **args: list_connection(info, [row], args, reverse_fulfillment_order),
        "refunds": lambda info, **args: sql_connection(
            info, source="refunds", where="json_extract(body, '$.return.id') = ?", params=[rid], args=args,
            to_node=refund),
    }


def load_return(info, return_id) -> dict | None:
    row = _one(info, "SELECT * FROM returns WHERE id = ?", (return_id,)) if return_id is not None else None
    return return_(row) if row else None


def load_reverse_fulfillment_order(info, rfo_id) -> dict | None:
    row = _one(info, "SELECT * FROM returns WHERE reverse_fulfillment_order_id = ?", (rfo_id,)) \
        if rfo_id is not None else None
    return reverse_fulfillment_order(row) if row else None


def order_returns(info, order_id: int, args: dict) -> dict:
    return sql_connection(info, source="returns", where="order_id = ?", params=[order_id], args=args, to_node=return_,
                          rules=RETURN_RULES)


def order_return_status(info, order_id: int) -> str:
    with info.context.store.read() as conn:
        return return_status_of_order(conn, order_id)
