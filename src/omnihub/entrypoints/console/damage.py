"""Marking units damaged at a store: type or scan the SKU, the units; they leave what may
be sold through Inventory.mark_damaged (as POST /api/v1/stock/damage), and the screen
shows the movement as the ledger holds it (the form: store_movement.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.store_movement import MovementScreen

router = APIRouter(include_in_schema=False)

DAMAGE = MovementScreen(
    name="damage", title="Damaged at", note_field="note", units_wanted="The damaged units", audit_action="stock.damage",
    record=lambda hub, sku, location, units, ctx: hub.inventory.mark_damaged(sku, location, units, ctx=ctx),
    default_note="damaged", refused_status=409, refused_field="quantity",
)


@router.get("/console/store/{location}/damage")
async def damage_page(request: Request, location: str, principal: PagePrincipal, sku: str = "",
                      movement: str = "") -> Response:
    return await DAMAGE.show(request, location, sku, movement)


@router.post("/console/store/{location}/damage")
async def mark_damaged(request: Request, location: str, principal: PagePrincipal) -> Response:
    return await DAMAGE.post(request, location, principal.actor)
