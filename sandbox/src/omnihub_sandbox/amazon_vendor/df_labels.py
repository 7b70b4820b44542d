"""Direct Fulfillment Shipping 2021-12-28: shipping labels.

Amazon buys the postage and hands the vendor a label per package: asynchronously
(``submitShippingLabelRequest``: 202, a transaction, then the labels appear in
``getShippingLabels``/``getShippingLabel``) or at once for one purchase order
(``createShippingLabels``: 200 with the label). An order gets labels once it is
accepted and until it ships; one label per container given, or one package when none
is. Asking again for an order that has labels returns the ones it has.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.errors import SpApiError, invalid_input, not_found
from ..spapi.lwa import operation
from . import paging
from .bodies import read_body
from .context import VendorContext
from .df_orders import PO_NUMBER, order_for_document, released_order
from .documents import SHIP_METHOD_NAMES, label_zpl, tracking_number
from .shipping_bodies import Container, CreateShippingLabelsRequest, SubmitShippingLabelsRequest
from .transactions import Outcome, error, submit
from .usage_plans import DF_SHIPPING

router = APIRouter()

BASE = "/vendor/directFulfillment/shipping/2021-12-28"


def _make_label(vendor: VendorContext, db: sqlite3.Connection, order: sqlite3.Row, containers: list[Container],
                at: float) -> None:
    packages = [c.containerIdentifier for c in containers] or ["PKG001"]
    ship_to = json.loads(order["ship_to"])
    labels = []
    for n, package in enumerate(packages, start=1):
        tracking = tracking_number(vendor.config.seed, order["po_number"], n)
        labels.append({"packageIdentifier": package, "trackingNumber": tracking, "shipMethod": order["ship_method"],
                       "shipMethodName": SHIP_METHOD_NAMES.get(order["ship_method"], order["ship_method"]),
                       "content": label_zpl(order["po_number"], tracking, order["ship_method"], order["warehouse"],
                                            ship_to)})
    db.execute("INSERT OR IGNORE INTO shipping_labels (po_number, warehouse, created_at, label_format, labels) "
               "VALUES (?, ?, ?, 'ZPL', ?)", (order["po_number"], order["warehouse"], at, json.dumps(labels)))
    vendor.store.bump("df_labels_created")


def _label_problems(order: sqlite3.Row | None, po_number: str) -> list[dict[str, str]]:
    if order is not None and order["status"] != "ACCEPTED":
        return [error("InvalidInput", f"Purchase order {po_number} is {order['status']}: labels are for accepted "
                                      "orders that have not shipped.", f"{po_number}: orderStatus")]
    return []


def render_label(vendor: VendorContext, row: sqlite3.Row) -> dict[str, Any]:
    return {"purchaseOrderNumber": row["po_number"], "sellingParty": {"partyId": vendor.config.vendor_code},
            "shipFromParty": {"partyId": row["warehouse"]}, "labelFormat": row["label_format"],
            "labelData": json.loads(row["labels"])}


@router.post(f"{BASE}/shippingLabels", status_code=202)
async def submit_shipping_label_request(request: Request, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:submitShippingLabelRequest")) -> JSONResponse:
    body = await read_body(request, SubmitShippingLabelsRequest)
    if not body.shippingLabelRequests:
        raise invalid_input("shippingLabelRequests must list at least one request.")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "df", "df_shipping_label", body.model_dump(mode="json"))
    return JSONResponse({"transactionId": transaction_id}, status_code=202)


def process_shipping_label_requests(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                                    at: float) -> Outcome:
    body = SubmitShippingLabelsRequest.model_validate(request)
    problems: list[dict[str, str]] = []
    for wanted in body.shippingLabelRequests or []:
        order, found = order_for_document(vendor, db, wanted.purchaseOrderNumber, wanted.sellingParty.partyId,
                                          wanted.shipFromParty.partyId, submitted_at)
        found += _label_problems(order, wanted.purchaseOrderNumber)
        if found:
            problems.extend(found)
            continue
        assert order is not None
        _make_label(vendor, db, order, wanted.containers or [], at)
    return Outcome(problems)


@router.post(f"{BASE}/shippingLabels/{{po_number}}")
async def create_shipping_labels(po_number: str, request: Request, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:createShippingLabels", restricted="required")) -> JSONResponse:
    body = await read_body(request, CreateShippingLabelsRequest)
    with vendor.store.tx() as db:
        released_order(vendor, db, po_number)  # 400 / 404 as Amazon answers them
        order, found = order_for_document(vendor, db, po_number, body.sellingParty.partyId, body.shipFromParty.partyId,
                                          vendor.now())
        found += _label_problems(order, po_number)
        if found:
            raise SpApiError(400, "InvalidInput", found[0]["message"], found[0]["details"])
        assert order is not None
        _make_label(vendor, db, order, body.containers or [], vendor.now())
        row = db.execute("SELECT * FROM shipping_labels WHERE po_number = ?", (po_number,)).fetchone()
        return JSONResponse(render_label(vendor, row))


@router.get(f"{BASE}/shippingLabels")
def get_shipping_labels(request: Request, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:getShippingLabels", restricted="required")) -> JSONResponse:
    with vendor.store.tx() as db:
        rows, next_token = paging.documents_page(db, request, "df:getShippingLabels", table="shipping_labels",
                                                 time_column="created_at", id_column="po_number",
                                                 warehouse_column="warehouse", now=vendor.now())
    body: dict[str, Any] = {"shippingLabels": [render_label(vendor, r) for r in rows]}
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return JSONResponse(body)


@router.get(f"{BASE}/shippingLabels/{{po_number}}")
def get_shipping_label(po_number: str, vendor: VendorContext = operation(
        f"{DF_SHIPPING}:getShippingLabel", restricted="required")) -> JSONResponse:
    with vendor.store.tx() as db:
        if not PO_NUMBER.match(po_number):
            released_order(vendor, db, po_number)  # the 400 for a malformed number
        row = db.execute("SELECT * FROM shipping_labels WHERE po_number = ?", (po_number,)).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No shipping label for purchase order {po_number}.")
    return JSONResponse(render_label(vendor, row))
