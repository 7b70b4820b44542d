"""BOPIS and curbside hand-over at the store: the orders ready for their customers (those
who said they are here first, curbside ones marked), and for one order its lines and the
pickup code the customer shows, typed or scanned from their QR code.

The code is checked by the pickup desk (services/pickup_desk.py): a wrong one is refused
with the tries left, too many lock the order's hand-over for a while; the right one hands
the order over (stock sold, the order `picked_up`, its history) and the channel is told
by the fulfilment job. The associate's screens never show the code.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_ID
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.entrypoints.console.store import missing_store, store_of
from omnihub.services.audit_trail import note_change
from omnihub.services.pickup_desk import PickupLocked, WaitingPickup, WrongPickupCode

router = APIRouter(include_in_schema=False)


def _waiting(hub, location: str, order_id: int) -> WaitingPickup | None:
    return next((w for w in hub.pickups.waiting(location) if w.order_id == order_id), None)


@router.get("/console/store/{location}/pickups")
async def waiting(request: Request, location: str, principal: PagePrincipal, done: str = "") -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    if store is None:
        return missing_store(request, location)
    orders = await run_in_threadpool(hub.pickups.waiting, location)
    return render(request, "pickups.html", {"title": f"Hand over at {store['code']}", "store": store,
                                            "orders": orders, "done": done if done.isdigit() else ""})


async def _order_page(request: Request, store: dict, order_id: int, *, status_code: int = 200, code: str = "",
                      error: str | None = None) -> Response:
    found = await run_in_threadpool(_waiting, request.app.state.hub, store["code"], order_id)
    if found is None:
        return render(request, "refused.html", {"title": "Not waiting here", "detail":
                      f"Order {order_id} is not waiting for pickup at {store['code']}."}, status_code=404)
    return render(request, "pickup.html", {"title": f"Hand over {found.external_id}", "store": store, "order": found,
                                           "code": code, "errors": {"code": error} if error else {}},
                  status_code=status_code)


@router.get("/console/store/{location}/pickups/{order_id}")
async def pickup_page(request: Request, location: str, order_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    oid = whole_number(order_id, low=1, high=MAX_ID)
    if store is None or oid is None:
        return missing_store(request, location)
    return await _order_page(request, store, oid)


@router.post("/console/store/{location}/pickups/{order_id}")
async def hand_over(request: Request, location: str, order_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    store = await run_in_threadpool(store_of, hub, location)
    oid = whole_number(order_id, low=1, high=MAX_ID)
    if store is None or oid is None:
        return missing_store(request, location)
    typed = (await read_form(request)).get("code", "")[:64]
    try:
        await run_in_threadpool(hub.pickups.hand_over, oid, location, typed, principal.actor)
    except WrongPickupCode as exc:
        return await _order_page(request, store, oid, status_code=422, code=typed, error=str(exc))
    except PickupLocked as exc:
        return await _order_page(request, store, oid, status_code=409, code=typed, error=str(exc))
    except LedgerError as exc:  # no longer waiting (handed over meanwhile, cancelled)
        return render(request, "refused.html", {"title": "Not waiting here", "detail": str(exc)}, status_code=409)
    note_change(action="orders.pickup", target=f"order_id={oid} location={location}", door="console")
    return RedirectResponse(f"/console/store/{quote(location, safe='')}/pickups?done={oid}", status_code=303)
