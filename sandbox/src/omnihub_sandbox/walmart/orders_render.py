"""A purchase order as Walmart's JSON API shows it.

Element names and order follow PurchaseOrderV3.3.xsd (today's JSON uses the XML's
names, lists under their singular wrapper: ``orderLines.orderLine[]``); date-times are
epoch milliseconds and line quantities strings, as the JSON API has them. Two fields are
today's and not the XSD's: the order's ``shipNode`` and the fulfilment's
``pickUpDateTime`` (marked x-beyond-xsd in the subset schema).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .clock import epoch_ms
from .config import WalmartSandboxConfig
from .order_lines import STATUSES, parts


def money(cents: int) -> dict[str, Any]:
    return {"currency": "USD", "amount": round(cents / 100, 2)}


def _quantity(units: int) -> dict[str, str]:
    return {"unitOfMeasurement": "EACH", "amount": str(units)}


def _status(row: sqlite3.Row) -> dict[str, Any]:
    rendered: dict[str, Any] = {"status": row["status"], "statusQuantity": _quantity(row["quantity"])}
    if row["cancellation_reason"]:
        rendered["cancellationReason"] = row["cancellation_reason"]
    if row["tracking"]:
        rendered["trackingInfo"] = json.loads(row["tracking"])
    return rendered


def _refund(refunds: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not refunds:
        return None
    charges = []
    for refund in refunds:
        for charge in refund["charges"]:
            rendered: dict[str, Any] = {"chargeType": charge["chargeType"], "chargeName": charge["chargeName"],
                                        "chargeAmount": money(charge["amount_cents"])}
            if charge.get("tax_cents") is not None:
                rendered["tax"] = {"taxName": charge["tax_name"], "taxAmount": money(charge["tax_cents"])}
            charges.append({"refundReason": charge["refundReason"], "charge": rendered})
    out: dict[str, Any] = {"refundId": refunds[-1]["refundId"]}
    comments = "; ".join(r["refundComments"] for r in refunds if r.get("refundComments"))
    if comments:
        out["refundComments"] = comments
    out["refundCharges"] = {"refundCharge": charges}
    return out


def render_line(db: sqlite3.Connection, order: sqlite3.Row, line: sqlite3.Row) -> dict[str, Any]:
    charge: dict[str, Any] = {"chargeType": "PRODUCT", "chargeName": "ItemPrice",
                              "chargeAmount": money(line["unit_price_cents"] * line["quantity"]),
                              "tax": {"taxName": "Tax1", "taxAmount": money(line["unit_tax_cents"] * line["quantity"])}}
    charges = [charge]
    if line["shipping_cents"]:
        charges.append({"chargeType": "SHIPPING", "chargeName": "Shipping", "chargeAmount": money(line["shipping_cents"])})
    statuses = sorted(parts(db, order["purchase_order_id"], line["line_number"]),
                      key=lambda r: (STATUSES.index(r["status"]), r["id"]))
    rendered: dict[str, Any] = {
        "lineNumber": str(line["line_number"]),
        "item": {"productName": line["product_name"], "sku": line["sku"]},
        "charges": {"charge": charges},
        "orderLineQuantity": _quantity(line["quantity"]),
        "statusDate": epoch_ms(line["status_date"]),
        "orderLineStatuses": {"orderLineStatus": [_status(r) for r in statuses]},
    }
    refund = _refund(json.loads(line["refunds"]))
    if refund:
        rendered["refund"] = refund
    rendered["fulfillment"] = {"fulfillmentOption": "S2H", "shipMethod": order["method_code"].upper(),
                               "pickUpDateTime": epoch_ms(order["estimated_ship"])}
    return rendered


def render_order(db: sqlite3.Connection, order: sqlite3.Row, config: WalmartSandboxConfig) -> dict[str, Any]:
    shipping = json.loads(order["shipping_info"])
    lines = db.execute("SELECT * FROM order_lines WHERE purchase_order_id = ? ORDER BY line_number",
                       (order["purchase_order_id"],)).fetchall()
    node = next((n for n in config.ship_nodes if n.id == order["ship_node"]), None)
    return {
        "purchaseOrderId": order["purchase_order_id"],
        "customerOrderId": order["customer_order_id"],
        "customerEmailId": order["customer_email"],
        "orderDate": epoch_ms(order["order_date"]),
        "shippingInfo": {
            "phone": shipping["phone"],
            "estimatedDeliveryDate": epoch_ms(order["estimated_delivery"]),
            "estimatedShipDate": epoch_ms(order["estimated_ship"]),
            "methodCode": order["method_code"],
            "postalAddress": shipping["postalAddress"],
        },
        "orderLines": {"orderLine": [render_line(db, order, line) for line in lines]},
        "shipNode": {"type": node.type if node else "SellerFulfilled", "name": node.name if node else order["ship_node"],
                     "id": order["ship_node"]},
    }
