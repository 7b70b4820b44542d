"""Receiving a shipment at a store: type or scan a SKU or barcode, the units, optionally
the delivery's reference (a purchase order, a transfer), then Receive. The units go on
hand through Inventory.receive, as POST /api/v1/stock/receive records them; the screen
then shows the receipt as the ledger holds it, and what is on hand now.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_ID, MAX_QUANTITY, REFERENCE_LENGTH
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.entrypoints.console.store import find_here, missing_store, movement_of, new_form_key, store_of
from omnihub.services.audit_trail import note_change
from omnihub.services.inventory import Context

router = APIRouter(include_in_schema=False)


def _page(request: Request, store: dict, *, status_code: int = 200, **ctx) -> Response:
    values = {"code": "", "quantity": "1", "reference": "", "errors": {}, "done": None, "found": None, **ctx}
    return render(request, "receive.html", {"title": f"Receive at {store['code']}", "store": store,
                                            "form_key": new_form_key(), **values}, status_code=status_code)


@router.get("/console/store/{location}/receive")
async def receive_page(request: Request, location: str, principal: PagePrincipal, sku: str = "",
                       movement: str = "") -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    if store is None:
        return missing_store(request, location)
    done = await run_in_threadpool(movement_of, hub, sku, whole_number(movement, low=1, high=MAX_ID), location)
    found = await run_in_threadpool(find_here, hub, sku, location) if done else None
    return _page(request, store, done=done, found=found)


@router.post("/console/store/{location}/receive")
async def receive(request: Request, location: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    if store is None:
        return missing_store(request, location)
    form = await read_form(request)
    code, reference = form.get("code", ""), form.get("reference", "")[:REFERENCE_LENGTH]
    quantity = whole_number(form.get("quantity"), low=1, high=MAX_QUANTITY)
    found = await run_in_threadpool(find_here, hub, code, location) if code else None
    errors = {}
    if found is None:
        errors["code"] = f"No SKU or barcode {code!r}." if code else "Type or scan a SKU or barcode."
    if quantity is None:
        errors["quantity"] = f"The units received: a whole number from 1 to {MAX_QUANTITY:,}."
    if errors or found is None or quantity is None:
        return _page(request, store, status_code=422, code=code, quantity=form.get("quantity", ""),
                     reference=reference, errors=errors)
    ctx = Context(actor=principal.actor, reference=reference or None,
                  idempotency_key=f"console-receive:{form.get('form_key', '')[:64]}" if form.get("form_key") else None)
    try:
        result = await run_in_threadpool(lambda: hub.inventory.receive(found.sku, location, quantity, ctx=ctx))
    except LedgerError as exc:
        return _page(request, store, status_code=422, code=code, quantity=str(quantity), reference=reference,
                     errors={exc.field or "code": str(exc)})
    note_change(action="stock.receive", target=f"sku={found.sku} location={location}", door="console",
                fields={"quantity": quantity})
    moved = result.movements[0]["id"] if result.movements else ""
    return RedirectResponse(f"/console/store/{quote(location, safe='')}/receive?sku={quote(found.sku)}&movement={moved}", status_code=303)
