"""Receiving a shipment at a store: type or scan a SKU or barcode, the units, optionally
the delivery's reference (a purchase order, a transfer), then Receive. The units go on
hand through Inventory.receive, as POST /api/v1/stock/receive records them; the screen
then shows the receipt as the ledger holds it, and what is on hand now (the form:
store_movement.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.store_movement import MovementScreen

router = APIRouter(include_in_schema=False)

RECEIVE = MovementScreen(
    name="receive", title="Receive at", note_field="reference", units_wanted="The units received",
    audit_action="stock.receive",
    record=lambda hub, sku, location, units, ctx: hub.inventory.receive(sku, location, units, ctx=ctx),
)


@router.get("/console/store/{location}/receive")
async def receive_page(request: Request, location: str, principal: PagePrincipal, sku: str = "",
                       movement: str = "") -> Response:
    return await RECEIVE.show(request, location, sku, movement)


@router.post("/console/store/{location}/receive")
async def receive(request: Request, location: str, principal: PagePrincipal) -> Response:
    return await RECEIVE.post(request, location, principal.actor)
