"""Direct Fulfillment Orders 2021-12-28: getOrders, getOrder, submitAcknowledgement.

A shopper's order is made at its ``orderDate`` and reaches the vendor a little later
(``release_seconds``): getOrders finds purchase orders by when they became available,
in the ``createdAfter``/``createdBefore`` window a client must always give, so a client
polls with windows that overlap and de-duplicates on ``purchaseOrderNumber`` (there is
no notification for vendor orders). Pages are sorted by orderDate (``sortOrder``) and
keyset-stable (:mod:`.paging`); an order released late may sort before a page already
read, which the next overlapping poll finds.

An order is NEW until the vendor's acknowledgement succeeds: ``00`` accepts it
(ACCEPTED), any other code rejects it (CANCELLED). Amazon's rules, enforced when the
acknowledgement's transaction is processed: every line of the order in one
acknowledgement, each accepted in full or the whole order rejected, never a quantity
above the ordered one, within 24 hours of the orderDate. An order nobody acknowledged in
time is cancelled when the window ends, and a late acknowledgement fails.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.clock import iso
from ..spapi.errors import invalid_input, invalid_request, not_found
from ..spapi.lwa import operation
from . import paging, query
from .bodies import AmazonDocument, DateTimeText, JsonInt, NonBlank, PartyIdentification, read_body
from .context import VendorContext
from .ship_to import shopper_address
from .transactions import Outcome, error, submit
from .usage_plans import DF_ORDERS

router = APIRouter()

BASE = "/vendor/directFulfillment/orders/2021-12-28"
STATUSES = ("NEW", "SHIPPED", "ACCEPTED", "CANCELLED")
PO_NUMBER = re.compile(r"^[A-Za-z0-9]{1,40}$")
ACCEPTED_CODE = "00"
ACK_CODE = re.compile(r"^\d{2}$")
DAY = 86_400.0


# -- making orders -------------------------------------------------------------------


def new_po_number(vendor: VendorContext, db: sqlite3.Connection, namespace: str = "df") -> str:
    """An 8-character purchase order number (Amazon's style), from the seed and a counter."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        n = vendor.store.next_sequence(f"po:{namespace}")
        digest = int(hashlib.sha256(f"{vendor.config.seed}:{namespace}:{n}".encode()).hexdigest(), 16)
        number = ""
        for _ in range(8):
            digest, index = divmod(digest, len(alphabet))
            number += alphabet[index]
        if (db.execute("SELECT 1 FROM df_orders WHERE po_number = ?", (number,)).fetchone() is None
                and db.execute("SELECT 1 FROM retail_pos WHERE po_number = ?", (number,)).fetchone() is None):
            return number


def _customer_order_number(seed: int, po_number: str) -> str:
    digits = str(int(hashlib.sha256(f"{seed}:customer:{po_number}".encode()).hexdigest(), 16))[:14]
    return f"11{digits[0]}-{digits[1:8]}-{digits[8:14].rjust(7, '0')}"


def create_order(vendor: VendorContext, db: sqlite3.Connection, *, warehouse: str, lines: list[tuple[sqlite3.Row, int]],
                 source: str, priority: bool = False, gift_message: str | None = None,
                 packing_slip: bool | None = None, released_at: float | None = None, at: float | None = None) -> str:
    """A purchase order for the shopper's lines from `warehouse`, made `at` (default now);
    returns its number. It reaches the vendor at `released_at` (default: after the release delay)."""
    now = vendor.now() if at is None else at
    po_number = new_po_number(vendor, db)
    rng = random.Random(f"amazon-vendor-order:{vendor.config.seed}:{po_number}")
    low, high = vendor.config.release_seconds
    available_at = released_at if released_at is not None else now + rng.uniform(low, high) * vendor.config.time_scale
    pslip = packing_slip if packing_slip is not None else (gift_message is not None or rng.random() < 0.3)
    ship_method = "UPS_NEXT" if priority else rng.choice(["UPS_GR_RES", "FEDEX_HOME", "USPS_PRIORITY"])
    db.execute(
        "INSERT INTO df_orders (po_number, customer_order_number, warehouse, status, order_date, available_at, "
        "updated_at, ship_method, required_ship_date, promised_delivery_date, is_priority, is_gift, gift_message, "
        "pslip_required, ship_to, source) VALUES (?, ?, ?, 'NEW', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (po_number, _customer_order_number(vendor.config.seed, po_number), warehouse, now, available_at, now,
         ship_method, now + (0.5 if priority else 1) * DAY, now + (1 if priority else 4) * DAY, int(priority),
         int(gift_message is not None), gift_message, int(pslip),
         json.dumps(shopper_address(vendor.config.seed, po_number)), source))
    for seq, (item, quantity) in enumerate(lines, start=1):
        db.execute("INSERT INTO df_order_items (po_number, seq, sku, asin, title, quantity, net_price_cents) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (po_number, seq, item["sku"], item["asin"], item["title"], quantity, item["list_price_cents"]))
    vendor.store.bump("df_orders_created")
    return po_number


# -- rendering -----------------------------------------------------------------------


def money(cents: int) -> dict[str, str]:
    return {"currencyCode": "USD", "amount": f"{cents / 100:.2f}"}


def sequence_text(seq: int) -> str:
    """Direct-fulfilment orders number their lines ``00001``, ``00002``..."""
    return f"{seq:05d}"


def order_items(db: sqlite3.Connection, po_number: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM df_order_items WHERE po_number = ? ORDER BY seq", (po_number,)).fetchall()


def render_order(vendor: VendorContext, row: sqlite3.Row, items: list[sqlite3.Row]) -> dict[str, Any]:
    """An ``Order`` with its ``orderDetails``, as the model draws it."""
    shipment: dict[str, Any] = {
        "isPriorityShipment": bool(row["is_priority"]), "isScheduledDeliveryShipment": False,
        "isPslipRequired": bool(row["pslip_required"]), "isGift": bool(row["is_gift"]),
        "shipMethod": row["ship_method"],
        "shipmentDates": {"requiredShipDate": iso(row["required_ship_date"]),
                          "promisedDeliveryDate": iso(row["promised_delivery_date"])},
        "messageToCustomer": "Thank you for shopping at Amazon.com",
    }
    rendered_items = []
    for item in items:
        line: dict[str, Any] = {
            "itemSequenceNumber": sequence_text(item["seq"]), "buyerProductIdentifier": item["asin"],
            "vendorProductIdentifier": item["sku"], "title": item["title"],
            "orderedQuantity": {"amount": item["quantity"], "unitOfMeasure": "Each"},
            "netPrice": money(item["net_price_cents"]),
            "totalPrice": money(item["net_price_cents"] * item["quantity"]),
        }
        if row["gift_message"]:
            line["giftDetails"] = {"giftMessage": row["gift_message"]}
        rendered_items.append(line)
    return {"purchaseOrderNumber": row["po_number"], "orderDetails": {
        "customerOrderNumber": row["customer_order_number"],
        "orderDate": iso(row["order_date"]),
        "orderStatus": row["status"],
        "shipmentDetails": shipment,
        "sellingParty": {"partyId": vendor.config.vendor_code},
        "shipFromParty": {"partyId": row["warehouse"]},
        "shipToParty": json.loads(row["ship_to"]),
        "billToParty": {"partyId": "AMAZON"},
        "hasCustomizableItems": False,
        "items": rendered_items,
    }}


# -- getOrders / getOrder ------------------------------------------------------------


@router.get(f"{BASE}/purchaseOrders")
def get_orders(request: Request, vendor: VendorContext = operation(f"{DF_ORDERS}:getOrders", restricted="required")) -> JSONResponse:
    window = query.window(request, "createdAfter", "createdBefore", required=True)
    assert window is not None
    token = request.query_params.get("nextToken")
    if token:
        wanted, cursor = paging.decode("df:getOrders", token)
    else:
        wanted = {"a": window[0], "b": window[1], "w": query.party_id(request, "shipFromPartyId"),
                  "s": query.choice(request, "status", STATUSES), "n": query.limit(request, 50),
                  "d": query.choice(request, "sortOrder", ("ASC", "DESC"), "ASC") == "DESC",
                  "x": query.flag(request, "includeDetails", True)}
        cursor = []
    after_cursor, order_by = paging.keyset_sql("order_date", "po_number", wanted["d"])
    where = ["available_at >= ?", "available_at < ?", "available_at <= ?"]
    args: list[Any] = [wanted["a"], wanted["b"], vendor.now()]
    if wanted["w"]:
        where.append("warehouse = ?")
        args.append(wanted["w"])
    if wanted["s"]:
        where.append("status = ?")
        args.append(wanted["s"])
    if cursor:
        where.append(after_cursor)
        args.extend(cursor)
    with vendor.store.tx() as db:
        rows = db.execute(f"SELECT * FROM df_orders WHERE {' AND '.join(where)} ORDER BY {order_by} LIMIT ?",  # noqa: S608
                          (*args, wanted["n"] + 1)).fetchall()
        page = rows[: wanted["n"]]
        orders = [render_order(vendor, r, order_items(db, r["po_number"])) if wanted["x"]
                  else {"purchaseOrderNumber": r["po_number"]} for r in page]
    body: dict[str, Any] = {"orders": orders}
    if len(rows) > wanted["n"]:
        body["pagination"] = {"nextToken": paging.encode("df:getOrders", wanted,
                                                         [page[-1]["order_date"], page[-1]["po_number"]])}
    return JSONResponse(body)


def released_order(vendor: VendorContext, db: sqlite3.Connection, po_number: str) -> sqlite3.Row:
    """The order the vendor can see (released to it), or 400/404 as Amazon answers."""
    if not PO_NUMBER.match(po_number):
        raise invalid_request("Request is missing or has invalid parameters",
                              f"purchaseOrderNumber {po_number} is not alphanumeric.")
    row: sqlite3.Row | None = db.execute("SELECT * FROM df_orders WHERE po_number = ? AND available_at <= ?",
                                         (po_number, vendor.now())).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No purchase order {po_number}.")
    return row


@router.get(f"{BASE}/purchaseOrders/{{po_number}}")
def get_order(po_number: str, vendor: VendorContext = operation(f"{DF_ORDERS}:getOrder", restricted="required")) -> JSONResponse:
    with vendor.store.tx() as db:
        row = released_order(vendor, db, po_number)
        return JSONResponse(render_order(vendor, row, order_items(db, po_number)))


# -- submitAcknowledgement -----------------------------------------------------------


class ItemQuantity(AmazonDocument):
    amount: JsonInt | None = None
    unitOfMeasure: Literal["Each"] | None = None


class OrderItemAcknowledgement(AmazonDocument):
    itemSequenceNumber: NonBlank
    buyerProductIdentifier: str | None = None
    vendorProductIdentifier: str | None = None
    acknowledgedQuantity: ItemQuantity


class AcknowledgementStatus(AmazonDocument):
    code: str | None = None
    description: str | None = None


class OrderAcknowledgementItem(AmazonDocument):
    purchaseOrderNumber: NonBlank
    vendorOrderNumber: NonBlank
    acknowledgementDate: DateTimeText
    acknowledgementStatus: AcknowledgementStatus
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    itemAcknowledgements: list[OrderItemAcknowledgement]


class SubmitAcknowledgementRequest(AmazonDocument):
    orderAcknowledgements: list[OrderAcknowledgementItem] | None = None


@router.post(f"{BASE}/acknowledgements", status_code=202)
async def submit_acknowledgement(request: Request, vendor: VendorContext = operation(
        f"{DF_ORDERS}:submitAcknowledgement")) -> JSONResponse:
    body = await read_body(request, SubmitAcknowledgementRequest)
    if not body.orderAcknowledgements:
        raise invalid_input("orderAcknowledgements must list at least one acknowledgement.")
    now = vendor.now()
    with vendor.store.tx() as db:
        for ack in body.orderAcknowledgements:  # in time: the 24-hour window no longer closes on it
            db.execute("UPDATE df_orders SET ack_submitted_at = ? WHERE po_number = ? AND status = 'NEW' "
                       "AND ack_submitted_at IS NULL AND order_date + ? >= ?",
                       (now, ack.purchaseOrderNumber, vendor.config.acknowledgement_window_seconds, now))
        transaction_id = submit(vendor, db, "df", "df_acknowledgement", body.model_dump(mode="json"))
    return JSONResponse({"transactionId": transaction_id}, status_code=202)


def _acknowledgement_errors(vendor: VendorContext, db: sqlite3.Connection, ack: OrderAcknowledgementItem,
                            submitted_at: float) -> tuple[list[dict[str, str]], sqlite3.Row | None]:
    po = ack.purchaseOrderNumber
    row = db.execute("SELECT * FROM df_orders WHERE po_number = ? AND available_at <= ?", (po, submitted_at)).fetchone()
    if row is None:
        return [error("InvalidInput", f"Purchase order {po} was not found.", "purchaseOrderNumber")], None
    problems = []
    if ack.sellingParty.partyId != vendor.config.vendor_code:
        problems.append(error("InvalidInput", f"sellingParty {ack.sellingParty.partyId} is not this vendor.",
                              f"{po}: sellingParty.partyId"))
    if ack.shipFromParty.partyId != row["warehouse"]:
        problems.append(error("InvalidInput", f"Purchase order {po} ships from {row['warehouse']}, "
                                              f"not {ack.shipFromParty.partyId}.", f"{po}: shipFromParty.partyId"))
    if row["status"] != "NEW":
        problems.append(error("InvalidInput", f"Purchase order {po} is {row['status']} and can no longer be "
                                              "acknowledged.", f"{po}: orderStatus"))
    deadline = row["order_date"] + vendor.config.acknowledgement_window_seconds
    if submitted_at > deadline:
        problems.append(error("InvalidInput", f"Purchase order {po} had to be acknowledged by {iso(deadline)}.",
                              f"{po}: acknowledgement window of 24 hours"))
    code = ack.acknowledgementStatus.code
    if code is None or not ACK_CODE.match(code):
        problems.append(error("InvalidInput", "acknowledgementStatus.code must be a two-digit code (00 accepts).",
                              f"{po}: acknowledgementStatus.code"))
    lines = {item["seq"]: item for item in order_items(db, po)}
    seen: set[int] = set()
    for given in ack.itemAcknowledgements:
        seq = int(given.itemSequenceNumber) if given.itemSequenceNumber.isdigit() else -1
        line = lines.get(seq)
        if line is None:
            problems.append(error("InvalidInput", f"Purchase order {po} has no item {given.itemSequenceNumber}.",
                                  f"{po}: itemSequenceNumber"))
            continue
        if seq in seen:
            problems.append(error("InvalidInput", f"Item {given.itemSequenceNumber} is acknowledged twice.",
                                  f"{po}: itemSequenceNumber"))
        seen.add(seq)
        amount = given.acknowledgedQuantity.amount
        if amount is None or amount < 0:
            problems.append(error("InvalidInput", f"Item {given.itemSequenceNumber} needs an acknowledgedQuantity.",
                                  f"{po}: acknowledgedQuantity.amount"))
        elif amount > line["quantity"]:
            problems.append(error("InvalidInput", f"Item {given.itemSequenceNumber} was ordered {line['quantity']} "
                                                  f"time(s); an acknowledgement cannot raise it to {amount}.",
                                  f"{po}: acknowledgedQuantity.amount"))
        elif code == ACCEPTED_CODE and amount != line["quantity"]:
            problems.append(error("InvalidInput", f"Item {given.itemSequenceNumber} is accepted for {amount} of "
                                                  f"{line['quantity']}: an order is accepted in full or rejected.",
                                  f"{po}: acknowledgedQuantity.amount"))
    missing = sorted(set(lines) - seen)
    if missing:
        problems.append(error("InvalidInput", f"The acknowledgement of {po} leaves out item(s) "
                                              f"{', '.join(sequence_text(s) for s in missing)}: every line is "
                                              "acknowledged at once.", f"{po}: itemAcknowledgements"))
    return problems, row


def process_acknowledgement(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                            at: float) -> Outcome:
    """Apply each order's acknowledgement that keeps the rules; report the others."""
    body = SubmitAcknowledgementRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for ack in body.orderAcknowledgements or []:
        found, row = _acknowledgement_errors(vendor, db, ack, submitted_at)
        if found:
            problems.extend(found)
            if row is not None and row["status"] == "NEW":  # the window closes on it again
                db.execute("UPDATE df_orders SET ack_submitted_at = NULL WHERE po_number = ?", (row["po_number"],))
            vendor.store.bump("df_acknowledgements_failed")
            continue
        accepted = ack.acknowledgementStatus.code == ACCEPTED_CODE
        db.execute("UPDATE df_orders SET status = ?, acknowledged_at = ?, ack_code = ?, vendor_order_number = ?, "
                   "updated_at = ?, cancelled_at = ?, cancel_reason = ? WHERE po_number = ?",
                   ("ACCEPTED" if accepted else "CANCELLED", at, ack.acknowledgementStatus.code,
                    ack.vendorOrderNumber, at, None if accepted else at, None if accepted else "rejected by vendor",
                    ack.purchaseOrderNumber))
        vendor.store.bump("df_orders_accepted" if accepted else "df_orders_rejected")
    return Outcome(problems)


def cancel_unacknowledged(vendor: VendorContext) -> int:
    """Orders nobody acknowledged within the window are cancelled when it ends."""
    window = vendor.config.acknowledgement_window_seconds
    now = vendor.now()
    with vendor.store.tx() as db:
        due = db.execute("SELECT po_number, order_date FROM df_orders WHERE status = 'NEW' AND order_date + ? <= ? "
                         "AND ack_submitted_at IS NULL", (window, now)).fetchall()
        for row in due:
            db.execute("UPDATE df_orders SET status = 'CANCELLED', cancelled_at = ?, updated_at = ?, "
                       "cancel_reason = 'not acknowledged within 24 hours' WHERE po_number = ?",
                       (row["order_date"] + window, now, row["po_number"]))
        if due:
            vendor.store.bump("df_orders_cancelled_unacknowledged", len(due))
    return len(due)


def order_for_document(vendor: VendorContext, db: sqlite3.Connection, po_number: str, selling_party: str,
                       ship_from: str, at: float) -> tuple[sqlite3.Row | None, list[dict[str, str]]]:
    """The order a shipping document names, and what is wrong with the parties it gives."""
    row = db.execute("SELECT * FROM df_orders WHERE po_number = ? AND available_at <= ?", (po_number, at)).fetchone()
    if row is None:
        return None, [error("InvalidInput", f"Purchase order {po_number} was not found.", "purchaseOrderNumber")]
    problems = []
    if selling_party != vendor.config.vendor_code:
        problems.append(error("InvalidInput", f"sellingParty {selling_party} is not this vendor.",
                              f"{po_number}: sellingParty.partyId"))
    if ship_from != row["warehouse"]:
        problems.append(error("InvalidInput", f"Purchase order {po_number} ships from {row['warehouse']}, "
                                              f"not {ship_from}.", f"{po_number}: shipFromParty.partyId"))
    return row, problems
