"""Direct Fulfillment Shipping 2021-12-28: shipment confirmations and status updates.

``submitShipmentConfirmations`` tells Amazon an accepted order left the warehouse
(``SHIPPED``, with its items and containers and their tracking numbers) or could not
(``FLOOR_DENIAL``: the vendor accepted it and then found no stock; Amazon cancels the
order). Lines may ship in several confirmations; the order is SHIPPED once every unit
has. ``submitShipmentStatusUpdates`` (vendors with their own carrier) reports a
shipped package's scans by tracking number. Both answer 202 and settle through a
transaction, checked when it is processed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.clock import parse_iso
from ..spapi.errors import invalid_input
from ..spapi.lwa import operation
from .bodies import read_body
from .context import VendorContext
from .df_orders import order_for_document, order_items
from .shipping_bodies import SubmitShipmentConfirmationsRequest, SubmitShipmentStatusUpdatesRequest
from .transactions import Outcome, error, submit
from .usage_plans import DF_SHIPPING

router = APIRouter()

BASE = "/vendor/directFulfillment/shipping/2021-12-28"


@router.post(f"{BASE}/shipmentConfirmations", status_code=202)
async def submit_shipment_confirmations(request: Request, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:submitShipmentConfirmations")) -> JSONResponse:
    body = await read_body(request, SubmitShipmentConfirmationsRequest)
    if not body.shipmentConfirmations:
        raise invalid_input("shipmentConfirmations must list at least one confirmation.")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "df", "df_shipment_confirmation", body.model_dump(mode="json"))
    return JSONResponse({"transactionId": transaction_id}, status_code=202)


def process_shipment_confirmations(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                                   at: float) -> Outcome:
    body = SubmitShipmentConfirmationsRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for confirmation in body.shipmentConfirmations or []:
        po = confirmation.purchaseOrderNumber
        row, found = order_for_document(vendor, db, po, confirmation.sellingParty.partyId,
                                        confirmation.shipFromParty.partyId, submitted_at)
        if row is not None and row["status"] != "ACCEPTED":
            found.append(error("InvalidInput", f"Purchase order {po} is {row['status']}: only an accepted order "
                                               "ships.", f"{po}: orderStatus"))
        lines = {item["seq"]: item for item in order_items(db, po)} if row is not None else {}
        shipping: dict[int, int] = {}
        for given in confirmation.items:
            line = lines.get(given.itemSequenceNumber)
            if line is None:
                if row is not None:
                    found.append(error("InvalidInput", f"Purchase order {po} has no item {given.itemSequenceNumber}.",
                                       f"{po}: items.itemSequenceNumber"))
                continue
            if given.shippedQuantity.amount < 1:
                found.append(error("InvalidInput", "shippedQuantity.amount must be at least 1.", f"{po}: items"))
                continue
            shipping[given.itemSequenceNumber] = shipping.get(given.itemSequenceNumber, 0) + given.shippedQuantity.amount
        shipped_status = confirmation.shipmentDetails.shipmentStatus
        for seq, units in shipping.items():
            line = lines[seq]
            if shipped_status == "SHIPPED" and line["shipped"] + units > line["quantity"]:
                found.append(error("InvalidInput", f"Item {seq} of {po} has {line['quantity'] - line['shipped']} "
                                                   f"unit(s) left to ship, not {units}.", f"{po}: shippedQuantity"))
        if found:
            problems.extend(found)
            continue
        assert row is not None
        containers = [c.model_dump(mode="json") for c in confirmation.containers or []]
        db.execute("INSERT INTO df_shipments (po_number, status, shipped_date, containers, confirmed_at) "
                   "VALUES (?, ?, ?, ?, ?)", (po, shipped_status, parse_iso(confirmation.shipmentDetails.shippedDate),
                                               json.dumps(containers), at))
        if shipped_status == "FLOOR_DENIAL":
            db.execute("UPDATE df_orders SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?, "
                       "cancel_reason = 'floor denial' WHERE po_number = ?", (at, at, po))
            vendor.store.bump("df_floor_denials")
            continue
        for seq, units in shipping.items():
            db.execute("UPDATE df_order_items SET shipped = shipped + ? WHERE po_number = ? AND seq = ?", (units, po, seq))
        left = db.execute("SELECT SUM(quantity - shipped) AS left FROM df_order_items WHERE po_number = ?",
                          (po,)).fetchone()["left"]
        if left == 0:
            db.execute("UPDATE df_orders SET status = 'SHIPPED', shipped_at = ?, updated_at = ? WHERE po_number = ?",
                       (at, at, po))
            vendor.store.bump("df_orders_shipped")
    return Outcome(problems)


def known_tracking_numbers(db: sqlite3.Connection, po_number: str) -> set[str]:
    numbers: set[str] = set()
    for row in db.execute("SELECT containers FROM df_shipments WHERE po_number = ? AND status = 'SHIPPED'", (po_number,)):
        numbers.update(c["trackingNumber"] for c in json.loads(row["containers"]) if c.get("trackingNumber"))
    label = db.execute("SELECT labels FROM shipping_labels WHERE po_number = ?", (po_number,)).fetchone()
    if label is not None:
        numbers.update(d["trackingNumber"] for d in json.loads(label["labels"]) if d.get("trackingNumber"))
    return numbers


@router.post(f"{BASE}/shipmentStatusUpdates", status_code=202)
async def submit_shipment_status_updates(request: Request, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:submitShipmentStatusUpdates")) -> JSONResponse:
    body = await read_body(request, SubmitShipmentStatusUpdatesRequest)
    if not body.shipmentStatusUpdates:
        raise invalid_input("shipmentStatusUpdates must list at least one update.")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "df", "df_shipment_status", body.model_dump(mode="json"))
    return JSONResponse({"transactionId": transaction_id}, status_code=202)


def process_shipment_status_updates(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                                    at: float) -> Outcome:
    body = SubmitShipmentStatusUpdatesRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for update in body.shipmentStatusUpdates or []:
        po = update.purchaseOrderNumber
        details = update.statusUpdateDetails
        row, found = order_for_document(vendor, db, po, update.sellingParty.partyId, update.shipFromParty.partyId,
                                        submitted_at)
        if row is not None and row["status"] != "SHIPPED":
            found.append(error("InvalidInput", f"Purchase order {po} is {row['status']}: status updates follow a "
                                               "shipment.", f"{po}: orderStatus"))
        elif row is not None and details.trackingNumber not in known_tracking_numbers(db, po):
            found.append(error("InvalidInput", f"Tracking number {details.trackingNumber} is not a package of {po}.",
                               f"{po}: statusUpdateDetails.trackingNumber"))
        if found:
            problems.extend(found)
            continue
        db.execute("INSERT INTO df_status_events (po_number, tracking_number, status_code, reason_code, status_at, "
                   "received_at) VALUES (?, ?, ?, ?, ?, ?)",
                   (po, details.trackingNumber, details.statusCode, details.reasonCode,
                    parse_iso(details.statusDateTime), at))
        vendor.store.bump("df_status_updates")
    return Outcome(problems)
