"""Vendor Shipments v1: SubmitShipmentConfirmations, the ASN of a retail shipment.

The vendor tells Amazon what left one of its warehouses for a fulfilment centre: each
shipped item names its purchase order (``itemDetails.purchaseOrderNumber``) and the line
(by product identifier, else by the PO's item number), never more than the line's
accepted and backordered units. ``Original`` is a new shipment identifier,
``Replace`` restates one already confirmed. The answer is 202 and a transaction; once
it succeeds the fulfilment centre receives the units ``retail_receive_seconds`` later,
and a purchase order whose every accepted unit has arrived is Closed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.errors import invalid_input
from ..spapi.lwa import operation
from .bodies import AmazonDocument, DateTimeText, JsonInt, NonBlank, PartyIdentification, read_body
from .context import VendorContext
from .retail_orders import lines_of
from .transactions import Outcome, error, submit
from .usage_plans import RETAIL_SHIPMENTS

router = APIRouter()


class ShippedQuantity(AmazonDocument):
    amount: JsonInt
    unitOfMeasure: Literal["Cases", "Eaches"]
    unitSize: JsonInt | None = None


class ItemDetails(AmazonDocument):
    purchaseOrderNumber: str | None = None


class ShippedItem(AmazonDocument):
    itemSequenceNumber: NonBlank
    amazonProductIdentifier: str | None = None
    vendorProductIdentifier: str | None = None
    shippedQuantity: ShippedQuantity
    itemDetails: ItemDetails | None = None


class ShipmentConfirmation(AmazonDocument):
    shipmentIdentifier: NonBlank
    shipmentConfirmationType: Literal["Original", "Replace"]
    shipmentType: Literal["TruckLoad", "LessThanTruckLoad", "SmallParcel"] | None = None
    shipmentConfirmationDate: DateTimeText
    shippedDate: DateTimeText | None = None
    estimatedDeliveryDate: DateTimeText | None = None
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    shipToParty: PartyIdentification
    shippedItems: list[ShippedItem]


class SubmitShipmentConfirmationsRequest(AmazonDocument):
    shipmentConfirmations: list[ShipmentConfirmation] | None = None


@router.post("/vendor/shipping/v1/shipmentConfirmations", status_code=202)
async def submit_shipment_confirmations(request: Request, vendor: VendorContext = operation(
        f"{RETAIL_SHIPMENTS}:SubmitShipmentConfirmations")) -> JSONResponse:
    body = await read_body(request, SubmitShipmentConfirmationsRequest)
    if not body.shipmentConfirmations:
        raise invalid_input("shipmentConfirmations must list at least one confirmation.")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "retail", "retail_shipment_confirmation", body.model_dump(mode="json"))
    return JSONResponse({"payload": {"transactionId": transaction_id}}, status_code=202)


def _line_for(lines: list[sqlite3.Row], item: ShippedItem) -> sqlite3.Row | None:
    for line in lines:
        if (item.vendorProductIdentifier and line["sku"] == item.vendorProductIdentifier) or \
                (item.amazonProductIdentifier and line["asin"] == item.amazonProductIdentifier):
            return line
    if item.vendorProductIdentifier or item.amazonProductIdentifier:
        return None
    seq = item.itemSequenceNumber.strip()
    return next((line for line in lines if seq.isdigit() and int(seq) == line["seq"]), None)


def _confirm(vendor: VendorContext, db: sqlite3.Connection, confirmation: ShipmentConfirmation,
             at: float) -> list[dict[str, str]]:
    sid = confirmation.shipmentIdentifier
    problems = []
    if confirmation.sellingParty.partyId != vendor.config.vendor_code:
        problems.append(error("InvalidInput", f"sellingParty {confirmation.sellingParty.partyId} is not this vendor.",
                              f"{sid}: sellingParty.partyId"))
    if confirmation.shipFromParty.partyId not in vendor.config.warehouses:
        problems.append(error("InvalidInput", f"shipFromParty {confirmation.shipFromParty.partyId} is not a "
                                              "warehouse of this vendor.", f"{sid}: shipFromParty.partyId"))
    earlier = db.execute("SELECT * FROM retail_shipments WHERE shipment_identifier = ?", (sid,)).fetchone()
    if confirmation.shipmentConfirmationType == "Original" and earlier is not None:
        problems.append(error("InvalidInput", f"Shipment {sid} was confirmed already: send Replace to restate it.",
                              f"{sid}: shipmentConfirmationType"))
    if confirmation.shipmentConfirmationType == "Replace" and earlier is None:
        problems.append(error("InvalidInput", f"Shipment {sid} was never confirmed: nothing to replace.",
                              f"{sid}: shipmentConfirmationType"))
    undone: dict[tuple[str, int], int] = {}
    if earlier is not None and confirmation.shipmentConfirmationType == "Replace":
        for po_number, seq, units in json.loads(earlier["lines"]):
            undone[(po_number, seq)] = undone.get((po_number, seq), 0) + units
    shipping: dict[tuple[str, int], int] = {}
    for n, item in enumerate(confirmation.shippedItems):
        where = f"{sid}: shippedItems[{n}]"
        po_number = item.itemDetails.purchaseOrderNumber if item.itemDetails else None
        po = db.execute("SELECT * FROM retail_pos WHERE po_number = ?", (po_number,)).fetchone() if po_number else None
        if po is None:
            problems.append(error("InvalidInput", f"itemDetails.purchaseOrderNumber {po_number} is not a purchase "
                                                  "order of this vendor.", where))
            continue
        if po["state"] != "Acknowledged":
            problems.append(error("InvalidInput", f"Purchase order {po_number} is {po['state']}: only an "
                                                  "acknowledged order ships.", where))
            continue
        if po["ship_to"] != confirmation.shipToParty.partyId:
            problems.append(error("InvalidInput", f"Purchase order {po_number} ships to {po['ship_to']}, not "
                                                  f"{confirmation.shipToParty.partyId}.", where))
            continue
        line = _line_for(lines_of(db, po["po_number"]), item)
        if line is None:
            problems.append(error("InvalidInput", f"The item does not match a line of {po_number}.", where))
            continue
        qty = item.shippedQuantity
        size = qty.unitSize or (line["unit_size"] if qty.unitOfMeasure == "Cases" else 1)
        units = qty.amount * (size if qty.unitOfMeasure == "Cases" else 1)
        if units < 1:
            problems.append(error("InvalidInput", "shippedQuantity.amount must be at least 1.", where))
            continue
        key = (po["po_number"], line["seq"])
        shipping[key] = shipping.get(key, 0) + units
        room = (line["accepted"] or 0) + (line["backordered"] or 0) - line["shipped"] + undone.get(key, 0)
        if shipping[key] > room:
            problems.append(error("InvalidInput", f"Line {line['seq']} of {po_number} has {room} accepted unit(s) "
                                                  f"left to ship, not {shipping[key]}.", where))
    if problems:
        return problems
    for (po_number, seq), units in undone.items():
        db.execute("UPDATE retail_po_items SET shipped = shipped - ? WHERE po_number = ? AND seq = ?",
                   (units, po_number, seq))
        db.execute("UPDATE retail_receipts SET units = 0 WHERE po_number = ? AND seq = ? AND done = 0",
                   (po_number, seq))
    arrival = at + vendor.config.retail_receive_seconds * vendor.config.time_scale
    for (po_number, seq), units in shipping.items():
        db.execute("UPDATE retail_po_items SET shipped = shipped + ? WHERE po_number = ? AND seq = ?",
                   (units, po_number, seq))
        db.execute("INSERT INTO retail_receipts (po_number, seq, units, due_at) VALUES (?, ?, ?, ?)",
                   (po_number, seq, units, arrival))
        db.execute("UPDATE retail_pos SET updated_at = ? WHERE po_number = ?", (at, po_number))
    lines = [[po_number, seq, units] for (po_number, seq), units in shipping.items()]
    db.execute("INSERT INTO retail_shipments (shipment_identifier, warehouse, ship_to, lines, confirmed_at) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT(shipment_identifier) DO UPDATE SET lines = excluded.lines, "
               "confirmed_at = excluded.confirmed_at",
               (sid, confirmation.shipFromParty.partyId, confirmation.shipToParty.partyId, json.dumps(lines), at))
    vendor.store.bump("retail_shipments_confirmed")
    return []


def process_shipment_confirmations(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                                   at: float) -> Outcome:
    body = SubmitShipmentConfirmationsRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for confirmation in body.shipmentConfirmations or []:
        problems.extend(_confirm(vendor, db, confirmation, at))
    return Outcome(problems)


def receive_due(vendor: VendorContext) -> int:
    """The fulfilment centres receive what arrived by now; a fully received PO is Closed."""
    with vendor.store.tx() as db:
        due = db.execute("SELECT * FROM retail_receipts WHERE done = 0 AND due_at <= ? ORDER BY due_at, id",
                         (vendor.now(),)).fetchall()
        for receipt in due:
            db.execute("UPDATE retail_receipts SET done = 1 WHERE id = ?", (receipt["id"],))
            if receipt["units"] == 0:
                continue
            db.execute("UPDATE retail_po_items SET received = received + ?, last_received_at = ? "
                       "WHERE po_number = ? AND seq = ?",
                       (receipt["units"], receipt["due_at"], receipt["po_number"], receipt["seq"]))
            lines = lines_of(db, receipt["po_number"])
            if all(line["received"] >= (line["accepted"] or 0) + (line["backordered"] or 0) for line in lines):
                db.execute("UPDATE retail_pos SET state = 'Closed', state_changed_at = ?, updated_at = ? "
                           "WHERE po_number = ?", (receipt["due_at"], receipt["due_at"], receipt["po_number"]))
            else:
                db.execute("UPDATE retail_pos SET updated_at = ? WHERE po_number = ?",
                           (receipt["due_at"], receipt["po_number"]))
            vendor.store.bump("retail_units_received", receipt["units"])
    return len(due)
