"""Direct Fulfillment Shipping 2021-12-28: packing slips.

An order whose ``isPslipRequired`` is true has a packing slip (a PDF) from the moment it
reaches the vendor: ``getPackingSlips`` lists them over a window of at most 7 days,
``getPackingSlip`` fetches one; an order that needs none has none (404).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.clock import iso
from ..spapi.errors import not_found
from ..spapi.lwa import operation
from . import paging
from .context import VendorContext
from .df_orders import order_items, released_order
from .documents import packing_slip_pdf
from .usage_plans import DF_SHIPPING

router = APIRouter()

BASE = "/vendor/directFulfillment/shipping/2021-12-28"


def render_packing_slip(db: sqlite3.Connection, order: sqlite3.Row) -> dict[str, Any]:
    lines = [f"Amazon.com order {order['customer_order_number']}  (PO {order['po_number']})",
             f"Ordered {iso(order['order_date'])}", ""]
    lines += [f"{item['quantity']} x {item['title']}  [{item['asin']}]" for item in order_items(db, order["po_number"])]
    if order["gift_message"]:
        lines += ["", f"Gift message: {order['gift_message']}"]
    return {"purchaseOrderNumber": order["po_number"], "content": packing_slip_pdf(lines),
            "contentType": "application/pdf"}


@router.get(f"{BASE}/packingSlips")
def get_packing_slips(request: Request, vendor: VendorContext = operation(f"{DF_SHIPPING}:getPackingSlips", restricted="required")) -> JSONResponse:
    with vendor.store.tx() as db:
        rows, next_token = paging.documents_page(db, request, "df:getPackingSlips", table="df_orders",
                                                 time_column="available_at", id_column="po_number",
                                                 warehouse_column="warehouse", extra_where="pslip_required = 1",
                                                 now=vendor.now())
        body: dict[str, Any] = {"packingSlips": [render_packing_slip(db, r) for r in rows]}
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return JSONResponse(body)


@router.get(f"{BASE}/packingSlips/{{po_number}}")
def get_packing_slip(po_number: str, vendor: VendorContext = operation(f"{DF_SHIPPING}:getPackingSlip", restricted="required")) -> JSONResponse:
    with vendor.store.tx() as db:
        order = released_order(vendor, db, po_number)
        if not order["pslip_required"]:
            raise not_found("The requested resource was not found.", f"Purchase order {po_number} needs no packing slip.")
        return JSONResponse(render_packing_slip(db, order))
