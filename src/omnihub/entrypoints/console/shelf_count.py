"""Counting a shelf: type or scan the SKU, the units counted; the screen shows what the
ledger says is on the shelf and the variance (units found or lost) before anything is
recorded; Confirm records the count through Inventory.count (as POST /api/v1/stock/counts),
whose variance becomes found/lost movements.

The preview is a GET (it changes nothing). The confirmation carries the shelf figure the
associate saw: if the shelf moved since (a sale, a receipt), the count is not recorded and
the new variance is shown to confirm again, so nobody confirms a variance they did not see.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_QUANTITY
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.entrypoints.console.store import Found, find_here, missing_store, new_form_key, store_of
from omnihub.services.audit_trail import note_change
from omnihub.services.inventory import Context

router = APIRouter(include_in_schema=False)


def _page(request: Request, store: dict, *, status_code: int = 200, **ctx) -> Response:
    values = {"code": "", "counted": "", "errors": {}, "found": None, "preview": None, "done": None, "moved": False, **ctx}
    return render(request, "count.html", {"title": f"Count at {store['code']}", "store": store,
                                          "form_key": new_form_key(), **values}, status_code=status_code)


def _preview(found: Found, counted: int) -> dict:
    return {"sku": found.sku, "title": found.title, "shelf": found.shelf, "counted": counted,
            "variance": counted - found.shelf}


@router.get("/console/store/{location}/count")
async def count_page(request: Request, location: str, principal: PagePrincipal, code: str = "", counted: str = "",
                     done: str = "") -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    if store is None:
        return missing_store(request, location)
    if done:  # after a confirmed count: the shelf as the ledger has it now
        found = await run_in_threadpool(find_here, hub, done, location)
        return _page(request, store, done=found)
    if not code and not counted:
        return _page(request, store)
    found = await run_in_threadpool(find_here, hub, code, location) if code else None
    units = whole_number(counted, low=0, high=MAX_QUANTITY)
    errors = {}
    if found is None:
        errors["code"] = f"No SKU or barcode {code!r}." if code else "Type or scan a SKU or barcode."
    if units is None:
        errors["counted"] = f"The units on the shelf: a whole number from 0 to {MAX_QUANTITY:,}."
    if errors or found is None or units is None:
        return _page(request, store, status_code=422, code=code, counted=counted, errors=errors)
    return _page(request, store, code=code, counted=str(units), preview=_preview(found, units))


@router.post("/console/store/{location}/count")
async def confirm(request: Request, location: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    if store is None:
        return missing_store(request, location)
    form = await read_form(request)
    sku = form.get("sku", "")
    units = whole_number(form.get("counted"), low=0, high=MAX_QUANTITY)
    seen = whole_number(form.get("shelf_seen"), low=-MAX_QUANTITY * 2, high=MAX_QUANTITY * 2)
    found = await run_in_threadpool(find_here, hub, sku, location) if sku else None
    if found is None or units is None or seen is None:
        return _page(request, store, status_code=422, code=sku, counted=form.get("counted", ""),
                     errors={"code": "Count again: the form was incomplete."})
    if found.shelf != seen:
        return _page(request, store, status_code=409, code=sku, counted=str(units), moved=True,
                     preview=_preview(found, units))
    ctx = Context(actor=principal.actor, reference="shelf count",
                  idempotency_key=f"console-count:{form.get('form_key', '')[:64]}" if form.get("form_key") else None)
    try:
        await run_in_threadpool(lambda: hub.inventory.count(found.sku, location, units, ctx=ctx))
    except LedgerError as exc:
        return _page(request, store, status_code=422, code=sku, counted=str(units), errors={"counted": str(exc)})
    note_change(action="stock.count", target=f"sku={found.sku} location={location}", door="console",
                fields={"counted": units, "variance": units - seen})
    return RedirectResponse(f"/console/store/{quote(location, safe='')}/count?done={quote(found.sku)}", status_code=303)
