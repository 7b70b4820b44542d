"""The store's pick list: the ship-from-store and pickup orders routed to this store, each
with its lines (SKU, title, units) and a form that says how many units were found, and
the parcels picked here that wait for their carrier and tracking number.

Confirming a pick with every unit found marks them picked; fewer found is a short pick,
which does what the hub does for a store that cannot fulfil (services/order_operations.py
`pick`): the missing units leave what the store may sell and are routed again, the
reason in the order's history. A pickup order wholly picked moves to the hand-over list
(hand_over.py). A parcel marked shipped with its carrier and tracking number reaches the
channel through the fulfilment job (services/fulfilment_sync.py).

Everything is at /console/store/{location}/...: the route's rule reads the store from
the path (a store associate's own only), and each action touches only that store's
units of the order.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import LINE_ID_LENGTH, MAX_ID, MAX_LINE_QUANTITY, REFERENCE_LENGTH
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.entrypoints.console.store import missing_store, store_of
from omnihub.services.audit_trail import note_change

router = APIRouter(include_in_schema=False)
DONE = {"picked": "Picked: the units are in the tote.",
        "short": "Short pick recorded: the missing units are routed again.",
        "shipped": "Shipped: the channel is told with the tracking number."}


async def _page(request: Request, store: dict, *, status_code: int = 200, error: str | None = None,
                errors_for: int | None = None, sent: dict[str, str] | None = None, done: str = "",
                order: str = "") -> Response:
    found = await run_in_threadpool(request.app.state.hub.picking.pick_list, store["code"])
    listed = {o.order_id for o in (*found.to_pick, *found.to_ship)}
    return render(request, "picks.html", {
        "title": f"Pick list {store['code']}", "store": store, "picks": found, "error": error, "errors_for": errors_for,
        "error_elsewhere": error if errors_for not in listed else None,  # an order no longer (or never) here
        "sent": sent or {}, "done": DONE.get(done), "done_order": order if done in DONE else ""},
        status_code=status_code)


@router.get("/console/store/{location}/picks")
async def pick_list(request: Request, location: str, principal: PagePrincipal, done: str = "",
                    order: str = "") -> Response:
    store = await run_in_threadpool(store_of, request.app.state.hub, location)
    if store is None:
        return missing_store(request, location)
    return await _page(request, store, done=done, order=order if order.isdigit() else "")


def _back(location: str, done: str, order_id: int) -> Response:
    return RedirectResponse(f"/console/store/{quote(location, safe='')}/picks?done={done}&order={order_id}",
                            status_code=303)


@router.post("/console/store/{location}/picks/{order_id}")
async def pick(request: Request, location: str, order_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    oid = whole_number(order_id, low=1, high=MAX_ID)
    if store is None or oid is None:
        return missing_store(request, location)
    form = await read_form(request)
    found: dict[str, int] = {}
    for name, value in form.items():
        if not name.startswith("found-"):
            continue
        line_id, units = name[len("found-"):][:LINE_ID_LENGTH], whole_number(value, low=0, high=MAX_LINE_QUANTITY)
        if units is None:
            return await _page(request, store, status_code=422, errors_for=oid, sent=form,
                               error=f"Line {line_id}: the units found, a whole number from 0 up.")
        found[line_id] = units
    reason = form.get("reason", "")[:REFERENCE_LENGTH]
    try:
        result = await run_in_threadpool(lambda: hub.picking.pick(oid, location, found, reason=reason,
                                                                  actor=principal.actor))
    except LedgerError as exc:  # nothing left to pick here, more found than reserved
        return await _page(request, store, status_code=409, errors_for=oid, sent=form, error=str(exc))
    short = result.verdict == "short_picked"
    note_change(action="orders.short_pick" if short else "orders.pick", target=f"order_id={oid} location={location}",
                door="console", fields={"found": found, "reason": reason} if short else {"found": found})
    return _back(location, "short" if short else "picked", oid)


@router.post("/console/store/{location}/shipments/{order_id}")
async def ship(request: Request, location: str, order_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    oid = whole_number(order_id, low=1, high=MAX_ID)
    if store is None or oid is None:
        return missing_store(request, location)
    form = await read_form(request)
    carrier, tracking = form.get("carrier", "")[:LINE_ID_LENGTH], form.get("tracking", "")[:REFERENCE_LENGTH]
    if not carrier or not tracking:
        return await _page(request, store, status_code=422, errors_for=oid, sent=form,
                           error="Say which carrier takes the parcel and its tracking number: the channel tells "
                                 "the customer with them.")
    try:
        await run_in_threadpool(lambda: hub.picking.ship(oid, location, carrier=carrier, tracking=tracking,
                                                         actor=principal.actor))
    except LedgerError as exc:
        return await _page(request, store, status_code=409, errors_for=oid, sent=form, error=str(exc))
    note_change(action="orders.ship", target=f"order_id={oid} location={location}", door="console",
                fields={"carrier": carrier})
    return _back(location, "shipped", oid)
