"""Orders: the pipeline by state with its counts, a filtered list newest first, and an
order's page with its routing explanation (the rule that placed it, every location the
rule considered and ranked, and why each other one was passed over) and the actions an
operator takes on it: cancel units of a line, hold, release, route again (what has not
left a shelf, under the rules in force, with a new explanation). Each action is a form post
(with the session's CSRF token) through the order services the API uses
(services/order_operations.py), then a redirect back to the order.

A store associate sees only orders assigned to its locations (the list narrows itself;
an order elsewhere is refused by the route's rule), and customers' personal data is
masked for whoever may not read it, as the API does (routes_orders.order_for).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import Permission, Principal
from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import CODE_LENGTH, MAX_ID, MAX_LINE_QUANTITY
from omnihub.domain.order_states import GOODS_LEFT_STATES, OrderState, can_transition
from omnihub.entrypoints.api.routes_orders import order_for
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services import order_queries
from omnihub.services.catalog import NotFound

router = APIRouter(include_in_schema=False)
PAGE = 50
STATES = [s.value for s in OrderState]
PAST = {"cancel": "cancelled", "hold": "held", "release": "released", "route": "routed"}
DONE = {"cancelled": "Units cancelled: they are released.", "held": "The order is on hold.",
        "released": "The hold is released: the order goes back to routing.",
        "routed": "Routed again under the rules in force: the newest decision below says where and why."}


def _code(text: str | None, known: list[str]) -> str | None:
    return text if text in known else None


def _channel(text: str) -> str | None:
    """A channel's code as typed (orders may come from a channel that has no settings)."""
    return text if text and len(text) <= CODE_LENGTH and text.replace("_", "").replace("-", "").isalnum() else None


@router.get("/console/orders")
async def pipeline(request: Request, principal: PagePrincipal, state: str = "", channel: str = "",
                   before_id: str = "") -> Response:
    hub = request.app.state.hub
    channels = [c["code"] for c in await run_in_threadpool(hub.catalog.list_channels)]
    chosen_state, chosen_channel = _code(state, STATES), _channel(channel)
    before = whole_number(before_id, low=1, high=MAX_ID)

    def read() -> tuple[dict[str, int], list[dict]]:
        counts = order_queries.orders_by_state(hub.read_engine, channel=chosen_channel, at_locations=principal.locations)
        rows = order_queries.newest_orders(hub.read_engine, state=chosen_state, channel=chosen_channel,
                                           at_locations=principal.locations, before_id=before, limit=PAGE)
        return counts, rows

    counts, rows = await run_in_threadpool(read)
    return render(request, "orders.html", {
        "title": "Orders", "counts": counts, "states": [s for s in STATES if counts.get(s)], "rows": rows,
        "state": chosen_state or "", "channel": chosen_channel or "", "channels": sorted(set(channels) | {"manual"} | ({chosen_channel} if chosen_channel else set())),
        "total": sum(counts.values()), "next_before_id": rows[-1]["id"] if len(rows) == PAGE else None})


def order_view(hub, principal: Principal, order_id: int) -> dict:
    order = order_for(principal, order_queries.read_order(hub.read_engine, order_id))
    codes = {loc["id"]: loc["code"] for loc in hub.catalog.list_locations()}
    lines = order["document"].get("lines", []) if isinstance(order["document"], dict) else []
    state = OrderState(order["state"])
    return {"order": order, "codes": codes, "lines": lines,
            "may_act": principal.can(Permission.ORDERS_ACT), "held": bool(order["holds"]),
            "may_route": not order["holds"] and state is not OrderState.HELD and state not in GOODS_LEFT_STATES
            and state is not OrderState.CANCELLED and _routable(lines, order["assignments"]),
            "may_hold": can_transition(OrderState(order["state"]), OrderState.HELD),
            "closed": order["state"] in {"cancelled", "shipped", "delivered", "picked_up", "returned", "refunded"}}


def _routable(lines: list[dict], assignments: list[dict]) -> bool:
    """Whether routing again has anything to move: a unit reserved (not yet picked) or
    one waiting for a location."""
    if any(a["state"] == "reserved" for a in assignments):
        return True
    placed = sum(a["quantity"] for a in assignments if a["state"] not in {"cancelled", "rejected", "returned"})
    return sum(ln.get("quantity", 0) - ln.get("cancelled_quantity", 0) for ln in lines) > placed


async def _order_page(request: Request, principal: Principal, order_id: int, *, error: str | None = None,
                      done: str | None = None, status_code: int = 200) -> Response:
    try:
        view = await run_in_threadpool(order_view, request.app.state.hub, principal, order_id)
    except NotFound:
        return render(request, "orders_missing.html", {"title": "No such order", "order_id": order_id}, status_code=404)
    return render(request, "order.html", {"title": f"Order {order_id}", **view, "error": error,
                                          "done": DONE.get(done or "")}, status_code=status_code)


def _order_id(text: str) -> int | None:
    return whole_number(text, low=1, high=MAX_ID)


@router.get("/console/orders/{order_id}")
async def order_page(request: Request, order_id: str, principal: PagePrincipal, done: str = "") -> Response:
    oid = _order_id(order_id)
    if oid is None:
        return render(request, "orders_missing.html", {"title": "No such order", "order_id": order_id}, status_code=404)
    return await _order_page(request, principal, oid, done=done)


async def _act(request: Request, principal: Principal, order_id: str, action: str, run) -> Response:
    oid = _order_id(order_id)
    if oid is None:
        return render(request, "orders_missing.html", {"title": "No such order", "order_id": order_id}, status_code=404)
    form = await read_form(request)
    try:
        problem = await run_in_threadpool(run, request.app.state.hub, oid, form)
    except NotFound:
        return render(request, "orders_missing.html", {"title": "No such order", "order_id": oid}, status_code=404)
    except LedgerError as exc:  # the order's rules refused it (a state it cannot leave, more units than left)
        return await _order_page(request, principal, oid, error=str(exc), status_code=409)
    if problem:
        return await _order_page(request, principal, oid, error=problem, status_code=422)
    from omnihub.services.audit_trail import note_change

    note_change(action=f"orders.{action}", target=f"order_id={oid}", door="console")
    return RedirectResponse(f"/console/orders/{oid}?done={PAST[action]}", status_code=303)


@router.post("/console/orders/{order_id}/cancel")
async def cancel(request: Request, order_id: str, principal: PagePrincipal) -> Response:
    def run(hub, oid: int, form: dict[str, str]) -> str | None:
        line, units = form.get("line_id", ""), whole_number(form.get("units"), low=1, high=MAX_LINE_QUANTITY)
        if not line or units is None:
            return "Choose a line and how many of its units to cancel (a whole number, 1 or more)."
        hub.order_ops.cancel(oid, {line: units}, form.get("reason") or "cancelled in the console", actor=principal.actor)
        return None

    return await _act(request, principal, order_id, "cancel", run)


@router.post("/console/orders/{order_id}/hold")
async def hold(request: Request, order_id: str, principal: PagePrincipal) -> Response:
    def run(hub, oid: int, form: dict[str, str]) -> str | None:
        reason = form.get("reason", "")[:500]
        if not reason:
            return "Say why the order is held: the reason is shown to whoever releases it."
        hub.order_ops.hold(oid, reason, actor=principal.actor)
        return None

    return await _act(request, principal, order_id, "hold", run)


@router.post("/console/orders/{order_id}/release")
async def release(request: Request, order_id: str, principal: PagePrincipal) -> Response:
    def run(hub, oid: int, form: dict[str, str]) -> str | None:
        hub.order_ops.release(oid, actor=principal.actor)
        return None

    return await _act(request, principal, order_id, "release", run)


@router.post("/console/orders/{order_id}/route")
async def route_again(request: Request, order_id: str, principal: PagePrincipal) -> Response:
    def run(hub, oid: int, form: dict[str, str]) -> str | None:
        hub.order_ops.route_again(oid, actor=principal.actor)
        return None

    return await _act(request, principal, order_id, "route", run)
