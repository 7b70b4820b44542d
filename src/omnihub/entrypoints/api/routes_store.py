"""A store's fulfilment: its pick list, picks and short picks, its orders waiting for
their customers, the pickup code's status and the customer's "I'm here" at the curb.

Each route acts at the store it names (the path, or the body's `location`), so a store
associate's token or session works at its own stores only (access_policy.py). The
hand-over itself is POST /orders/{order_id}/pickup (routes_orders.py), with the code.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from omnihub.domain.access import Permission, Principal
from omnihub.domain.limits import LINE_ID_LENGTH, MAX_LINE_QUANTITY, MAX_ORDER_LINES, TEXT_LENGTH
from omnihub.entrypoints.api.access import CurrentPrincipal
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_orders import OrderOutcome
from omnihub.entrypoints.api.answers_store import PickListOut, PickupOut, PickupsOut
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.schemas import Code, CodePath, IdPath, Strict, text, whole
from omnihub.hub import Hub
from omnihub.services import order_queries
from omnihub.services.catalog import NotFound
from omnihub.services.store_picking import StoreOrder

router = APIRouter(tags=["store fulfilment"])
HubDep = Annotated[Hub, Depends(get_hub)]


def _store(hub: Hub, location: str) -> None:
    try:
        hub.catalog.get_location(location)
    except NotFound as exc:
        exc.field = "location"
        raise


def _order(o: StoreOrder) -> dict:
    return {"order_id": o.order_id, "channel": o.channel, "external_id": o.external_id,
            "delivery_method": o.delivery_method, "placed_at": o.placed_at,
            "lines": [{"line_id": ln.line_id, "sku": ln.sku, "title": ln.title, "units": ln.units} for ln in o.lines]}


@router.get("/stores/{location}/pick-list", response_model=PickListOut, responses=problems(*SIGNED, 404, 422))
def pick_list(location: CodePath, hub: HubDep) -> dict:
    """What the store has to take off its shelves (ship-from-store and pickup orders
    routed to it), and its picked parcels waiting to leave."""
    _store(hub, location)
    found = hub.picking.pick_list(location)
    return {"location": location, "to_pick": [_order(o) for o in found.to_pick],
            "to_ship": [_order(o) for o in found.to_ship], "pickups_waiting": found.pickups_waiting}


class PickIn(Strict):
    location: Code
    lines: Annotated[dict[Annotated[str, text(LINE_ID_LENGTH)], Annotated[int, whole(0, MAX_LINE_QUANTITY)]],
                     Field(max_length=MAX_ORDER_LINES, description="units found per line; a line left out was found "
                                                               "whole, fewer than reserved is a short pick")] = {}
    reason: Annotated[str, text(TEXT_LENGTH)] = ""


@router.post("/orders/{order_id}/picks", response_model=OrderOutcome, responses=problems(*SIGNED_BODY, 404, 409))
def pick(order_id: IdPath, body: PickIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """The order's units at `location` are off the shelf. Units not found (a short pick)
    go to quality control and are routed again; the reason is in the order's history.
    A pickup order wholly picked is ready: its pickup code is issued."""
    return hub.picking.pick(order_id, body.location, body.lines, reason=body.reason, actor=principal.actor).as_dict()


@router.get("/stores/{location}/pickups", response_model=PickupsOut, responses=problems(*SIGNED, 404, 422))
def pickups_waiting(location: CodePath, hub: HubDep) -> dict:
    """BOPIS and curbside orders ready at the store, waiting for their customers."""
    _store(hub, location)
    return {"location": location, "items": [
        {"order_id": w.order_id, "channel": w.channel, "external_id": w.external_id, "curbside": w.curbside,
         "ready_at": w.ready_at, "customer_arrived_at": w.customer_arrived_at, "arrival_note": w.arrival_note,
         "locked_until": w.locked_until,
         "lines": [{"sku": ln.sku, "title": ln.title, "units": ln.units} for ln in w.lines]}
        for w in hub.pickups.waiting(location)]}


def _pickup_for(principal: Principal, row: dict) -> dict:
    shown = {k: row[k] for k in PickupOut.model_fields if k != "code"}
    if not principal.locations and principal.can(Permission.CUSTOMERS_READ_PERSONAL):
        shown["code"] = row["code"]
    return shown


def ready_pickup(hub: Hub, order_id: int) -> dict:
    """The order's pickup row; 404 for no order, 409 for one not ready for pickup."""
    row = hub.pickups.status(order_id)
    if row is None:
        order_queries.read_order(hub.read_engine, order_id)  # NotFound (404) when there is no such order
        from omnihub.services.catalog import Conflict

        raise Conflict(f"order {order_id} is not ready for pickup: its store picks it first "
                       f"(POST /api/v1/orders/{order_id}/picks)", field="order_id", code="not_ready")
    return row


@router.get("/orders/{order_id}/pickup", response_model=PickupOut, response_model_exclude_unset=True,
            responses=problems(*SIGNED, 404, 409, 422))
def pickup_status(order_id: IdPath, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """Whether the order is ready for pickup, since when, the wrong codes tried, the
    customer's arrival; and its pickup code for the messages that give it to the customer."""
    return _pickup_for(principal, ready_pickup(hub, order_id))


class ArrivalIn(Strict):
    channel: Code
    note: Annotated[str, text(TEXT_LENGTH)] = ""


@router.post("/orders/{order_id}/pickup/arrival", response_model=PickupOut, response_model_exclude_unset=True,
             responses=problems(*SIGNED_BODY, 404, 409))
def customer_arrived(order_id: IdPath, body: ArrivalIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """The customer of a ready order is here (curbside: at the car; `note` says which car
    or bay): the order goes to the top of the store's hand-over list. Sent by the
    channel's app, for an order of that channel."""
    return _pickup_for(principal, hub.pickups.arrived(order_id, body.channel, body.note or None))
