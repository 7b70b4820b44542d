"""Orders API, acting: acknowledge, ship with tracking, cancel with a reason, refund.

The request bodies are Walmart's (``orderShipment``, ``orderCancellation``,
``orderRefund``, shaped like its request examples) and are checked against the subset
schema first; then every line and quantity is checked against the order before anything
changes, so a refused request leaves the order as it was. Each answers the whole order
as it now stands (``{"order": ...}``).

- acknowledge: every Created unit becomes Acknowledged (again is harmless); the sandbox
  counts acknowledgements inside and outside ``acknowledge_window_seconds``.
- ship: Acknowledged units become Shipped with their tracking (carrier from Walmart's
  list, or ``otherCarrier`` with a ``trackingURL``); they leave the node's stock.
- cancel: Created or Acknowledged units become Cancelled with the reason; Walmart may
  sell them again and they are back on the seller's shelf.
- refund: shipped (or delivered) lines only, for no more than was charged.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .clock import epoch_ms, parse_query_date
from .context import SandboxContext
from .contract import require
from .errors import ORDERS, WalmartError, bad_content
from .gateway import api
from .order_lines import OPEN, move, quantity_in
from .orders import released_order
from .orders_render import render_order
from .shelf import put_back
from .stock import release, ship_out

router = APIRouter()


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise WalmartError("MALFORMED_REQUEST_CONTENT", "The request body is not valid JSON.", service=ORDERS) from None


def _line(db: sqlite3.Connection, po: str, number: Any) -> sqlite3.Row:
    row = db.execute("SELECT * FROM order_lines WHERE purchase_order_id = ? AND line_number = ?",
                     (po, int(number))).fetchone()
    if row is None:
        raise bad_content(f"Line {number} is not part of purchase order {po}.", field="lineNumber", service=ORDERS)
    return row


def _answer(sandbox: SandboxContext, db: sqlite3.Connection, po: str) -> JSONResponse:
    return JSONResponse({"order": render_order(db, released_order(db, po), sandbox.config)})


def _touch(db: sqlite3.Connection, po: str, now: float) -> None:
    db.execute("UPDATE orders SET last_modified = ? WHERE purchase_order_id = ?", (now, po))


@router.post("/v3/orders/{purchase_order_id}/acknowledge")
def acknowledge(purchase_order_id: str, sandbox: SandboxContext = api("order_acknowledge")) -> JSONResponse:
    now = sandbox.now()
    with sandbox.store.tx() as db:
        order = released_order(db, purchase_order_id)
        lines = db.execute("SELECT line_number FROM order_lines WHERE purchase_order_id = ?", (purchase_order_id,)).fetchall()
        if not any(quantity_in(db, purchase_order_id, r["line_number"], OPEN) for r in lines):
            raise bad_content(f"Purchase order {purchase_order_id} has no line left to acknowledge.", service=ORDERS)
        for row in lines:
            created = quantity_in(db, purchase_order_id, row["line_number"], ("Created",))
            if created:
                move(db, purchase_order_id, row["line_number"], ("Created",), "Acknowledged", created, now)
        if order["acknowledged_at"] is None:
            db.execute("UPDATE orders SET acknowledged_at = ? WHERE purchase_order_id = ?", (now, purchase_order_id))
            on_time = now - order["release_at"] <= sandbox.config.acknowledge_window_seconds
            sandbox.store.bump("acknowledged_on_time" if on_time else "acknowledged_late")
        _touch(db, purchase_order_id, now)
        return _answer(sandbox, db, purchase_order_id)


def _units(entry: dict[str, Any]) -> int:
    return int(entry["statusQuantity"]["amount"])


def _ship_time(raw: Any) -> float:
    if isinstance(raw, int):
        return raw / 1000
    try:
        return parse_query_date(str(raw))
    except ValueError:
        raise bad_content("trackingInfo.shipDateTime must be epoch milliseconds or an ISO 8601 date-time.",
                          field="shipDateTime", service=ORDERS) from None


def _tracking(info: dict[str, Any]) -> dict[str, Any]:
    carrier = info["carrierName"]
    if "otherCarrier" in carrier and not info.get("trackingURL"):
        raise bad_content("A shipment with otherCarrier needs its trackingURL.", field="trackingURL", service=ORDERS)
    tracking: dict[str, Any] = {"shipDateTime": epoch_ms(_ship_time(info["shipDateTime"])),
                                "carrierName": {k: carrier[k] for k in ("otherCarrier", "carrier") if k in carrier},
                                "methodCode": info["methodCode"], "trackingNumber": info["trackingNumber"]}
    if info.get("trackingURL"):
        tracking["trackingURL"] = info["trackingURL"]
    return tracking


def _wanted(db: sqlite3.Connection, po: str, lines: list[dict[str, Any]], source: tuple[str, ...],
            verb: str) -> dict[int, int]:
    """Units asked per line, checked against what the line holds in `source`."""
    wanted: dict[int, int] = {}
    for line in lines:
        number = int(_line(db, po, line["lineNumber"])["line_number"])
        wanted[number] = wanted.get(number, 0) + sum(_units(e) for e in line["orderLineStatuses"]["orderLineStatus"])
    for number, units in wanted.items():
        held = quantity_in(db, po, number, source)
        if units > held:
            raise bad_content(f"Line {number} of purchase order {po} has {held} unit(s) that can be {verb}, "
                              f"not {units}.", field="statusQuantity", service=ORDERS)
    return wanted


@router.post("/v3/orders/{purchase_order_id}/shipping")
async def ship(purchase_order_id: str, request: Request, sandbox: SandboxContext = api("order_ship")) -> JSONResponse:
    body = await _json(request)
    require("OrderShipment", body, ORDERS)
    lines = body["orderShipment"]["orderLines"]["orderLine"]
    trackings = [[_tracking(e["trackingInfo"]) for e in line["orderLineStatuses"]["orderLineStatus"]] for line in lines]
    now = sandbox.now()
    with sandbox.store.tx() as db:
        order = released_order(db, purchase_order_id)
        _wanted(db, purchase_order_id, lines, ("Acknowledged",), "shipped (acknowledged and not yet shipped)")
        for line, line_trackings in zip(lines, trackings):
            number = int(line["lineNumber"])
            sku = _line(db, purchase_order_id, number)["sku"]
            for entry, tracking in zip(line["orderLineStatuses"]["orderLineStatus"], line_trackings):
                units = _units(entry)
                move(db, purchase_order_id, number, ("Acknowledged",), "Shipped", units, now, tracking=tracking)
                ship_out(db, sku, order["ship_node"], units, now)
        sandbox.store.bump("shipments")
        _touch(db, purchase_order_id, now)
        return _answer(sandbox, db, purchase_order_id)


@router.post("/v3/orders/{purchase_order_id}/cancel")
async def cancel(purchase_order_id: str, request: Request, sandbox: SandboxContext = api("order_cancel")) -> JSONResponse:
    body = await _json(request)
    require("OrderCancellation", body, ORDERS)
    lines = body["orderCancellation"]["orderLines"]["orderLine"]
    now = sandbox.now()
    with sandbox.store.tx() as db:
        order = released_order(db, purchase_order_id)
        _wanted(db, purchase_order_id, lines, OPEN, "cancelled (not yet shipped or cancelled)")
        for line in lines:
            number = int(line["lineNumber"])
            sku = _line(db, purchase_order_id, number)["sku"]
            for entry in line["orderLineStatuses"]["orderLineStatus"]:
                units = _units(entry)
                move(db, purchase_order_id, number, OPEN, "Cancelled", units, now, reason=entry["cancellationReason"])
                release(db, sku, order["ship_node"], units, now)
                put_back(db, sku, order["ship_node"], units)
        sandbox.store.bump("cancellations")
        _touch(db, purchase_order_id, now)
        return _answer(sandbox, db, purchase_order_id)


def _cents(amount: Any, field: str) -> int:
    try:
        return int((Decimal(str(amount)) * 100).to_integral_value())
    except InvalidOperation:
        raise bad_content(f"{field} is not an amount.", field=field, service=ORDERS) from None


@router.post("/v3/orders/{purchase_order_id}/refund")
async def refund(purchase_order_id: str, request: Request, sandbox: SandboxContext = api("order_refund")) -> JSONResponse:
    body = await _json(request)
    require("OrderRefund", body, ORDERS)
    refund_body = body["orderRefund"]
    if refund_body.get("purchaseOrderId") not in (None, purchase_order_id):
        raise bad_content("orderRefund.purchaseOrderId differs from the purchase order in the path.",
                          field="purchaseOrderId", service=ORDERS)
    now = sandbox.now()
    with sandbox.store.tx() as db:
        released_order(db, purchase_order_id)
        planned: list[tuple[sqlite3.Row, list[dict[str, Any]]]] = []
        for line in refund_body["orderLines"]["orderLine"]:
            row = _line(db, purchase_order_id, line["lineNumber"])
            if not quantity_in(db, purchase_order_id, row["line_number"], ("Shipped", "Delivered")):
                raise bad_content(f"Line {row['line_number']} has not shipped: cancel it instead of refunding.",
                                  field="lineNumber", service=ORDERS)
            refunds = json.loads(row["refunds"])
            already = {kind: -sum(c["amount_cents"] for r in refunds for c in r["charges"] if c["chargeType"] == kind)
                       for kind in ("PRODUCT", "SHIPPING")}
            charged = {"PRODUCT": row["unit_price_cents"] * row["quantity"], "SHIPPING": row["shipping_cents"]}
            new = []
            for refund_entry in line["refunds"]["refund"]:
                charges = []
                for charge in refund_entry["refundCharges"]["refundCharge"]:
                    c = charge["charge"]
                    amount = _cents(c["chargeAmount"]["amount"], "chargeAmount.amount")
                    tax = c.get("tax")
                    already[c["chargeType"]] += -amount
                    if already[c["chargeType"]] > charged[c["chargeType"]]:
                        raise bad_content(f"Line {row['line_number']}: refunds of {c['chargeType']} would exceed the "
                                          f"{charged[c['chargeType']] / 100:.2f} charged.", field="chargeAmount",
                                          service=ORDERS)
                    charges.append({"refundReason": charge["refundReason"], "chargeType": c["chargeType"],
                                    "chargeName": c["chargeName"], "amount_cents": amount,
                                    "tax_name": tax["taxName"] if tax else None,
                                    "tax_cents": _cents(tax["taxAmount"]["amount"], "taxAmount.amount") if tax else None})
                number = sandbox.store.next_sequence("refund")
                new.append({"refundId": f"{int(purchase_order_id) % 10**9:09d}{number:06d}",
                            "refundComments": refund_entry.get("refundComments"), "charges": charges})
            planned.append((row, refunds + new))
        for row, refunds in planned:
            db.execute("UPDATE order_lines SET refunds = ?, status_date = ? WHERE purchase_order_id = ? AND line_number = ?",
                       (json.dumps(refunds), now, purchase_order_id, row["line_number"]))
        sandbox.store.bump("refunds")
        _touch(db, purchase_order_id, now)
        return _answer(sandbox, db, purchase_order_id)
