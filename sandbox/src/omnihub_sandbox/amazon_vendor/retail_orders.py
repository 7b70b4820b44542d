"""Vendor Orders v1 (retail procurement): Amazon buying cartons for its fulfilment centres.

A purchase order (made through the control plane, as Amazon's buyers make them) is
New until the vendor acknowledges it: per line, how many units it accepts, backorders
(only where ``isBackOrderAllowed``) or rejects, never more than ordered; units left
unacknowledged count as rejected. It is then Acknowledged, and Closed once the
fulfilment centre has received every accepted unit (or nothing was accepted).
Acknowledgements answer 202 and settle through the Vendor Transaction Status API; a
PO may be acknowledged again until something has shipped against it.

Quantities are kept in eaches and shown in the line's unit (``Cases`` of ``unitSize``,
or ``Eaches``). getPurchaseOrders and getPurchaseOrdersStatus take windows of at most 7
days over the last 6 months, filters and keyset paging (:mod:`.paging`).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from ..spapi.clock import iso
from ..spapi.errors import invalid_input, invalid_request, not_found
from ..spapi.lwa import operation
from . import paging, query
from .bodies import AmazonDocument, DateTimeText, JsonInt, NonBlank, PartyIdentification, read_body
from .context import VendorContext
from .df_orders import PO_NUMBER, new_po_number
from .transactions import Outcome, error, submit
from .usage_plans import RETAIL_ORDERS

router = APIRouter()

BASE = "/vendor/orders/v1"
SIX_MONTHS = 183 * 86_400.0
CONFIRMATION = ("ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED", "UNCONFIRMED")
RECEIVING = ("NOT_RECEIVED", "PARTIALLY_RECEIVED", "RECEIVED")


# -- making purchase orders ------------------------------------------------------------


def create_purchase_order(vendor: VendorContext, db: sqlite3.Connection, *, ship_to: str,
                          lines: list[tuple[sqlite3.Row, int, str, int, bool]], po_type: str = "RegularOrder") -> str:
    """A New purchase order; `lines` are (item, amount, "Cases"|"Eaches", unit size, backorder allowed)."""
    now = vendor.now()
    po_number = new_po_number(vendor, db, namespace="retail")
    db.execute("INSERT INTO retail_pos (po_number, state, po_date, state_changed_at, updated_at, po_type, ship_to, "
               "ship_window_start, ship_window_end) VALUES (?, 'New', ?, ?, ?, ?, ?, ?, ?)",
               (po_number, now, now, now, po_type, ship_to, now + 2 * 86_400, now + 9 * 86_400))
    for seq, (item, amount, unit, size, backorder) in enumerate(lines, start=1):
        db.execute("INSERT INTO retail_po_items (po_number, seq, sku, asin, ordered, unit_of_measure, unit_size, "
                   "backorder_allowed, cost_cents, list_price_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (po_number, seq, item["sku"], item["asin"], amount * (size if unit == "Cases" else 1), unit,
                    size if unit == "Cases" else 1, int(backorder), item["cost_cents"], item["list_price_cents"]))
    vendor.store.bump("retail_pos_created")
    return po_number


def change_line(vendor: VendorContext, db: sqlite3.Connection, po_number: str, seq: int, eaches: int) -> None:
    """Amazon changes a line's quantity (0 cancels it), as its buyers do after ordering."""
    now = vendor.now()
    db.execute("UPDATE retail_po_items SET ordered = ?, ordered_changed_at = ?, cancelled = ? "
               "WHERE po_number = ? AND seq = ?", (eaches, now, int(eaches == 0), po_number, seq))
    db.execute("UPDATE retail_pos SET changed_at = ?, updated_at = ? WHERE po_number = ?", (now, now, po_number))


# -- rendering -----------------------------------------------------------------------


def lines_of(db: sqlite3.Connection, po_number: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM retail_po_items WHERE po_number = ? ORDER BY seq", (po_number,)).fetchall()


def quantity(eaches: int, line: sqlite3.Row) -> dict[str, Any]:
    """Eaches in the line's unit (whole cases), else in eaches."""
    size = line["unit_size"]
    if line["unit_of_measure"] == "Cases" and eaches % size == 0:
        return {"amount": eaches // size, "unitOfMeasure": "Cases", "unitSize": size}
    return {"amount": eaches, "unitOfMeasure": "Eaches", "unitSize": 1}


def _money(cents: int) -> dict[str, str]:
    return {"currencyCode": "USD", "amount": f"{cents / 100:.2f}"}


def render_purchase_order(vendor: VendorContext, db: sqlite3.Connection, po: sqlite3.Row,
                          details: bool = True) -> dict[str, Any]:
    order: dict[str, Any] = {"purchaseOrderNumber": po["po_number"], "purchaseOrderState": po["state"]}
    if not details:
        return order
    order_details: dict[str, Any] = {
        "purchaseOrderDate": iso(po["po_date"]),
        "purchaseOrderStateChangedDate": iso(po["state_changed_at"]),
        "purchaseOrderType": po["po_type"],
        "paymentMethod": "Invoice",
        "buyingParty": {"partyId": po["ship_to"]},
        "sellingParty": {"partyId": vendor.config.vendor_code},
        "shipToParty": {"partyId": po["ship_to"]},
        "billToParty": {"partyId": "AMAZON"},
        "shipWindow": f"{iso(po['ship_window_start'])}--{iso(po['ship_window_end'])}",
        "items": [{
            "itemSequenceNumber": str(line["seq"]), "amazonProductIdentifier": line["asin"],
            "vendorProductIdentifier": line["sku"], "orderedQuantity": quantity(line["ordered"], line),
            "isBackOrderAllowed": bool(line["backorder_allowed"]), "netCost": _money(line["cost_cents"]),
            "listPrice": _money(line["list_price_cents"]),
        } for line in lines_of(db, po["po_number"])],
    }
    if po["changed_at"] is not None:
        order_details["purchaseOrderChangedDate"] = iso(po["changed_at"])
    order["orderDetails"] = order_details
    return order


def confirmation_status(line: sqlite3.Row) -> str:
    if line["acknowledged_at"] is None:
        return "UNCONFIRMED"
    accepted = line["accepted"] + line["backordered"]
    if accepted >= line["ordered"]:
        return "ACCEPTED"
    return "REJECTED" if accepted == 0 else "PARTIALLY_ACCEPTED"


def receive_status(line: sqlite3.Row) -> str:
    if line["received"] == 0:
        return "NOT_RECEIVED"
    accepted = (line["accepted"] or 0) + (line["backordered"] or 0)
    return "RECEIVED" if line["received"] >= accepted else "PARTIALLY_RECEIVED"


def render_status(vendor: VendorContext, db: sqlite3.Connection, po: sqlite3.Row) -> dict[str, Any]:
    items = []
    for line in lines_of(db, po["po_number"]):
        acknowledgement: dict[str, Any] = {"confirmationStatus": confirmation_status(line)}
        accepted = (line["accepted"] or 0) + (line["backordered"] or 0)
        acknowledgement["acceptedQuantity"] = quantity(accepted, line)
        acknowledgement["rejectedQuantity"] = quantity(line["rejected"] or 0, line)
        if line["acknowledged_at"] is not None:
            acknowledgement["acknowledgementStatusDetails"] = [{
                "acknowledgementDate": iso(line["acknowledged_at"]), "acceptedQuantity": quantity(accepted, line),
                "rejectedQuantity": quantity(line["rejected"], line)}]
        ordered_details = {"updatedDate": iso(line["ordered_changed_at"] or po["po_date"]),
                           "orderedQuantity": quantity(line["ordered"], line)}
        receiving: dict[str, Any] = {"receiveStatus": receive_status(line),
                                     "receivedQuantity": quantity(line["received"], line)}
        if line["last_received_at"] is not None:
            receiving["lastReceiveDate"] = iso(line["last_received_at"])
        items.append({
            "itemSequenceNumber": str(line["seq"]), "buyerProductIdentifier": line["asin"],
            "vendorProductIdentifier": line["sku"], "netCost": _money(line["cost_cents"]),
            "listPrice": _money(line["list_price_cents"]),
            "orderedQuantity": {"orderedQuantity": quantity(line["ordered"], line),
                                "orderedQuantityDetails": [ordered_details]},
            "acknowledgementStatus": acknowledgement, "receivingStatus": receiving,
        })
    return {"purchaseOrderNumber": po["po_number"], "purchaseOrderStatus": "CLOSED" if po["state"] == "Closed" else "OPEN",
            "purchaseOrderDate": iso(po["po_date"]), "lastUpdatedDate": iso(po["updated_at"]),
            "sellingParty": {"partyId": vendor.config.vendor_code}, "shipToParty": {"partyId": po["ship_to"]},
            "itemStatus": items}


# -- reading -------------------------------------------------------------------------


def _windows(request: Request, vendor: VendorContext, pairs: list[tuple[str, str, str]]) -> list[tuple[str, float, float]]:
    """Each given (after, before) pair as (column, start, end): at most 7 days, within 6 months."""
    found = []
    for after, before, column in pairs:
        window = query.window(request, after, before, required=False, max_days=7)
        if window is not None:
            if window[0] < vendor.now() - SIX_MONTHS:
                raise invalid_request("The request is invalid.", f"{after} must be within the past 6 months.")
            found.append((column, *window))
    return found


def _page(db: sqlite3.Connection, operation_name: str, request: Request, wanted: dict[str, Any], cursor: list[Any],
          where: list[str], args: list[Any]) -> tuple[list[sqlite3.Row], str | None]:
    after_cursor, order_by = paging.keyset_sql("po_date", "po_number", wanted["d"])
    for column, start, end in wanted["windows"]:
        where.append(f"{column} >= ? AND {column} < ?")
        args.extend([start, end])
    if cursor:
        where.append(after_cursor)
        args.extend(cursor)
    sql = f"SELECT * FROM retail_pos WHERE {' AND '.join(where) or '1'} ORDER BY {order_by} LIMIT ?"  # noqa: S608
    rows = db.execute(sql, (*args, wanted["n"] + 1)).fetchall()
    page = rows[: wanted["n"]]
    token = paging.encode(operation_name, wanted, [page[-1]["po_date"], page[-1]["po_number"]]) \
        if len(rows) > wanted["n"] else None
    return page, token


def _vendor_code_matches(vendor: VendorContext, request: Request) -> bool:
    code = query.party_id(request, "orderingVendorCode")
    return code is None or code == vendor.config.vendor_code


@router.get(f"{BASE}/purchaseOrders")
def get_purchase_orders(request: Request, vendor: VendorContext = operation(
        f"{RETAIL_ORDERS}:getPurchaseOrders")) -> JSONResponse:
    token = request.query_params.get("nextToken")
    if token:
        wanted, cursor = paging.decode("retail:getPurchaseOrders", token)
    else:
        windows = _windows(request, vendor, [("createdAfter", "createdBefore", "po_date"),
                                             ("changedAfter", "changedBefore", "changed_at")])
        if not windows:  # neither window: the last 7 days' purchase orders
            windows = [("po_date", vendor.now() - 7 * 86_400, vendor.now() + 1)]
        wanted = {"windows": windows, "n": query.limit(request, 100),
                  "d": query.choice(request, "sortOrder", ("ASC", "DESC"), "ASC") == "DESC",
                  "x": query.flag(request, "includeDetails", True),
                  "st": query.choice(request, "purchaseOrderState", ("New", "Acknowledged", "Closed")),
                  "ch": query.flag(request, "isPOChanged", False),
                  "ci": query.choice(request, "poItemState", ("Cancelled",)) is not None,
                  "v": _vendor_code_matches(vendor, request)}
        cursor = []
    where: list[str] = [] if wanted["v"] else ["0"]
    args: list[Any] = []
    if wanted["st"]:
        where.append("state = ?")
        args.append(wanted["st"])
    if wanted["ch"]:
        where.append("changed_at IS NOT NULL")
    if wanted["ci"]:
        where.append("EXISTS (SELECT 1 FROM retail_po_items i WHERE i.po_number = retail_pos.po_number "
                     "AND i.cancelled = 1)")
    with vendor.store.tx() as db:
        rows, next_token = _page(db, "retail:getPurchaseOrders", request, wanted, cursor, where, args)
        orders = [render_purchase_order(vendor, db, r, wanted["x"]) for r in rows]
    payload: dict[str, Any] = {"orders": orders}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return JSONResponse({"payload": payload})


def purchase_order(db: sqlite3.Connection, po_number: str) -> sqlite3.Row:
    if po_number.lower() == "null" or not PO_NUMBER.match(po_number):
        raise invalid_request("Request is missing or has invalid parameters", "purchaseOrderNumber cannot be null")
    row: sqlite3.Row | None = db.execute("SELECT * FROM retail_pos WHERE po_number = ?", (po_number,)).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No purchase order {po_number}.")
    return row


@router.get(f"{BASE}/purchaseOrders/{{po_number}}")
def get_purchase_order(po_number: str, vendor: VendorContext = operation(
        f"{RETAIL_ORDERS}:getPurchaseOrder")) -> JSONResponse:
    with vendor.store.tx() as db:
        return JSONResponse({"payload": render_purchase_order(vendor, db, purchase_order(db, po_number))})


@router.get(f"{BASE}/purchaseOrdersStatus")
def get_purchase_orders_status(request: Request, vendor: VendorContext = operation(
        f"{RETAIL_ORDERS}:getPurchaseOrdersStatus")) -> JSONResponse:
    token = request.query_params.get("nextToken")
    if token:
        wanted, cursor = paging.decode("retail:getPurchaseOrdersStatus", token)
    else:
        number = request.query_params.get("purchaseOrderNumber")
        windows = _windows(request, vendor, [("createdAfter", "createdBefore", "po_date"),
                                             ("updatedAfter", "updatedBefore", "updated_at")])
        if not windows and not number:
            windows = [("po_date", vendor.now() - 7 * 86_400, vendor.now() + 1)]
        wanted = {"windows": windows, "n": query.limit(request, 100), "po": number,
                  "d": query.choice(request, "sortOrder", ("ASC", "DESC"), "ASC") == "DESC",
                  "st": query.choice(request, "purchaseOrderStatus", ("OPEN", "CLOSED")),
                  "ic": query.choice(request, "itemConfirmationStatus", CONFIRMATION),
                  "ir": query.choice(request, "itemReceiveStatus", RECEIVING),
                  "to": query.party_id(request, "shipToPartyId"), "v": _vendor_code_matches(vendor, request)}
        cursor = []
    where: list[str] = [] if wanted["v"] else ["0"]
    args: list[Any] = []
    if wanted["po"]:
        where.append("po_number = ?")
        args.append(wanted["po"])
    if wanted["st"]:
        where.append("state = 'Closed'" if wanted["st"] == "CLOSED" else "state != 'Closed'")
    if wanted["to"]:
        where.append("ship_to = ?")
        args.append(wanted["to"])
    with vendor.store.tx() as db:
        rows, next_token = _page(db, "retail:getPurchaseOrdersStatus", request, wanted, cursor, where, args)
        statuses = [render_status(vendor, db, r) for r in rows]
    if wanted["ic"]:
        statuses = [s for s in statuses if any(i["acknowledgementStatus"]["confirmationStatus"] == wanted["ic"]
                                               for i in s["itemStatus"])]
    if wanted["ir"]:
        statuses = [s for s in statuses if any(i["receivingStatus"]["receiveStatus"] == wanted["ir"]
                                               for i in s["itemStatus"])]
    payload: dict[str, Any] = {"ordersStatus": statuses}
    if next_token:
        payload["pagination"] = {"nextToken": next_token}
    return JSONResponse({"payload": payload})


# -- submitAcknowledgement -----------------------------------------------------------


class RetailQuantity(AmazonDocument):
    amount: JsonInt | None = None
    unitOfMeasure: Literal["Cases", "Eaches"] | None = None
    unitSize: JsonInt | None = None


class Money(AmazonDocument):
    currencyCode: str | None = Field(None, max_length=3)
    amount: str | None = None


class OrderItemAcknowledgement(AmazonDocument):
    acknowledgementCode: Literal["Accepted", "Backordered", "Rejected"]
    acknowledgedQuantity: RetailQuantity
    scheduledShipDate: DateTimeText | None = None
    scheduledDeliveryDate: DateTimeText | None = None
    rejectionReason: Literal["TemporarilyUnavailable", "InvalidProductIdentifier", "ObsoleteProduct"] | None = None


class OrderAcknowledgementItem(AmazonDocument):
    itemSequenceNumber: str | None = None
    amazonProductIdentifier: str | None = None
    vendorProductIdentifier: str | None = None
    orderedQuantity: RetailQuantity
    netCost: Money | None = None
    listPrice: Money | None = None
    discountMultiplier: str | None = None
    itemAcknowledgements: list[OrderItemAcknowledgement]


class OrderAcknowledgement(AmazonDocument):
    purchaseOrderNumber: NonBlank
    sellingParty: PartyIdentification
    acknowledgementDate: DateTimeText
    items: list[OrderAcknowledgementItem]


class SubmitAcknowledgementRequest(AmazonDocument):
    acknowledgements: list[OrderAcknowledgement] | None = None


@router.post(f"{BASE}/acknowledgements", status_code=202)
async def submit_acknowledgement(request: Request, vendor: VendorContext = operation(
        f"{RETAIL_ORDERS}:submitAcknowledgement")) -> JSONResponse:
    body = await read_body(request, SubmitAcknowledgementRequest)
    if not body.acknowledgements:
        raise invalid_input("acknowledgements must list at least one acknowledgement.")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "retail", "retail_acknowledgement", body.model_dump(mode="json"))
    return JSONResponse({"payload": {"transactionId": transaction_id}}, status_code=202)


def eaches(given: RetailQuantity, line: sqlite3.Row) -> int | None:
    """A quantity in eaches, read in the line's unit when the document names none."""
    if given.amount is None or given.amount < 0:
        return None
    unit = given.unitOfMeasure or line["unit_of_measure"]
    size = given.unitSize or (line["unit_size"] if unit == "Cases" else 1)
    return given.amount * (size if unit == "Cases" else 1)


def find_line(lines: list[sqlite3.Row], seq: str | None, vendor_sku: str | None, asin: str | None) -> sqlite3.Row | None:
    for line in lines:
        if seq is not None and seq.strip().isdigit() and int(seq) == line["seq"]:
            return line
    for line in lines:
        if (vendor_sku and line["sku"] == vendor_sku) or (asin and line["asin"] == asin):
            return line
    return None


def _acknowledge(vendor: VendorContext, db: sqlite3.Connection, ack: OrderAcknowledgement,
                 at: float) -> list[dict[str, str]]:
    po_number = ack.purchaseOrderNumber
    po = db.execute("SELECT * FROM retail_pos WHERE po_number = ?", (po_number,)).fetchone()
    if po is None:
        return [error("InvalidInput", f"Purchase order {po_number} was not found.", "purchaseOrderNumber")]
    problems = []
    if ack.sellingParty.partyId != vendor.config.vendor_code:
        problems.append(error("InvalidInput", f"sellingParty {ack.sellingParty.partyId} is not this vendor.",
                              f"{po_number}: sellingParty.partyId"))
    lines = lines_of(db, po_number)
    if po["state"] == "Closed" or any(line["shipped"] for line in lines):
        problems.append(error("InvalidInput", f"Purchase order {po_number} is {po['state']} and has shipped: it can "
                                              "no longer be acknowledged.", f"{po_number}: purchaseOrderState"))
    decided: dict[int, tuple[int, int]] = {}
    for n, given in enumerate(ack.items):
        where = f"{po_number}: items[{n}]"
        line = find_line(lines, given.itemSequenceNumber, given.vendorProductIdentifier, given.amazonProductIdentifier)
        if line is None:
            problems.append(error("InvalidInput", f"The item does not match a line of {po_number}.", where))
            continue
        if line["seq"] in decided:
            problems.append(error("InvalidInput", f"Line {line['seq']} is acknowledged twice.", where))
            continue
        if eaches(given.orderedQuantity, line) != line["ordered"]:
            problems.append(error("InvalidInput", f"orderedQuantity of line {line['seq']} is not the ordered "
                                                  f"{quantity(line['ordered'], line)['amount']}.", where))
        accepted = backordered = 0
        for answer in given.itemAcknowledgements:
            units = eaches(answer.acknowledgedQuantity, line)
            if units is None:
                problems.append(error("InvalidInput", "acknowledgedQuantity.amount must be 0 or more.", where))
                continue
            if answer.acknowledgementCode == "Accepted":
                accepted += units
            elif answer.acknowledgementCode == "Backordered":
                if not line["backorder_allowed"]:
                    problems.append(error("InvalidInput", f"Line {line['seq']} does not allow backorders.", where))
                backordered += units
        if accepted + backordered > line["ordered"]:
            problems.append(error("InvalidInput", f"Line {line['seq']} accepts {accepted + backordered} of "
                                                  f"{line['ordered']} ordered unit(s): never more than ordered.", where))
        decided[line["seq"]] = (accepted, backordered)
    missing = [line["seq"] for line in lines if line["seq"] not in decided and not line["cancelled"]]
    if missing:
        problems.append(error("InvalidInput", f"The acknowledgement of {po_number} leaves out line(s) "
                                              f"{', '.join(map(str, missing))}.", f"{po_number}: items"))
    if problems:
        return problems
    for line in lines:
        accepted, backordered = decided.get(line["seq"], (0, 0))
        db.execute("UPDATE retail_po_items SET accepted = ?, backordered = ?, rejected = ?, acknowledged_at = ? "
                   "WHERE po_number = ? AND seq = ?",
                   (accepted, backordered, line["ordered"] - accepted - backordered, at, po_number, line["seq"]))
    nothing_accepted = all(a + b == 0 for a, b in decided.values())
    state = "Closed" if nothing_accepted else "Acknowledged"
    db.execute("UPDATE retail_pos SET state = ?, state_changed_at = ?, updated_at = ? WHERE po_number = ?",
               (state, at, at, po_number))
    vendor.store.bump("retail_pos_acknowledged")
    return []


def process_acknowledgement(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                            at: float) -> Outcome:
    body = SubmitAcknowledgementRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for ack in body.acknowledgements or []:
        problems.extend(_acknowledge(vendor, db, ack, at))
    return Outcome(problems)
