"""Orders: create (manual, POS, endless aisle), read with the routing explanation, list,
cancel, hold/release, ship, hand over, store rejection, returns; routing rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.ledger import LedgerError
from omnihub.domain.orders import Address, CustomerRef, DeliveryMethod, Discount, Order, OrderLine, RiskLevel
from omnihub.domain.access import Principal
from omnihub.domain.personal_data import MASKED, masked_payload
from omnihub.entrypoints.api.access import CurrentPrincipal, sees_personal_data
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_orders import (
    OrderOut,
    OrderDelivered,
    OrderOutcome,
    OrderShipped,
    OrderPage,
    OrderTakenIn,
    QueueRetried,
    RoutingRulesOut,
    RulesVersionOut,
    StoreModeOut,
)
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.schemas_routing_rules import RoutingRulesIn
from omnihub.domain.limits import (
    CODE_LENGTH,
    LINE_ID_LENGTH,
    MAX_LINE_QUANTITY,
    MAX_ORDER_LINES,
    MAX_PRICE_MINOR,
    NOTE_LENGTH,
    REFERENCE_LENGTH,
    MAX_CATALOG_ID,
    NO_NUL_PATTERN,
    SKU_LENGTH,
)
from omnihub.entrypoints.api.schemas import (
    AfterId,
    Code,
    CodePath,
    CodeQuery,
    IdPath,
    Latitude,
    Longitude,
    Sku,
    Strict,
    text,
    Timestamp,
    whole,
)
from omnihub.hub import Hub
from omnihub.services import order_queries
from omnihub.services.catalog import NotFound

router = APIRouter(tags=["orders"])
HubDep = Annotated[Hub, Depends(get_hub)]


class LineIn(Strict):
    line_id: Annotated[str, text(LINE_ID_LENGTH, 1)] | None = None
    sku: Sku
    quantity: Annotated[int, whole(1, MAX_LINE_QUANTITY)]
    unit_price_minor: Annotated[int, whole(0, MAX_PRICE_MINOR)] = 0
    tax_minor: Annotated[int, whole(0, MAX_PRICE_MINOR)] = 0
    discount_minor: Annotated[int, whole(0, MAX_PRICE_MINOR)] = 0


class AddressIn(Strict):
    line1: Annotated[str, text()] = ""
    line2: Annotated[str, text()] = ""
    city: Annotated[str, text()] = ""
    region: Annotated[str, text()] = ""
    postal_code: Annotated[str, text(CODE_LENGTH)] = ""
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    lat: Latitude | None = None
    lng: Longitude | None = None


class CustomerIn(Strict):
    channel_customer_id: Annotated[str, text(REFERENCE_LENGTH)] | None = None
    email: Annotated[str, text(320)] | None = None
    phone: Annotated[str, text(40)] | None = None


class OrderIn(Strict):
    channel: Code = "manual"
    external_id: Annotated[str, text(REFERENCE_LENGTH, 1)] | None = None
    channel_updated_at: Timestamp | None = None
    placed_at: Timestamp | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    customer: CustomerIn = CustomerIn()
    shipping_address: AddressIn | None = None
    billing_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    delivery_method: DeliveryMethod = DeliveryMethod.STANDARD
    pickup_location: Code | None = None
    origin_location: Code | None = None
    tags: Annotated[list[Annotated[str, text(LINE_ID_LENGTH)]], Field(max_length=100)] = []
    notes: Annotated[str, text(NOTE_LENGTH)] = ""
    channel_risk: RiskLevel | None = None


def _location_id(hub: Hub, code: str | None, field: str) -> int | None:
    if code is None:
        return None
    try:
        return hub.catalog.get_location(code)["id"]
    except NotFound as exc:
        exc.field = field
        raise


def to_order(hub: Hub, body: OrderIn) -> Order:
    now = datetime.now(UTC)
    a = body.shipping_address
    address = None
    if a is not None:
        geo = GeoPoint(a.lat, a.lng) if a.lat is not None and a.lng is not None else None
        address = Address(a.line1, a.line2, a.city, a.region, a.postal_code, a.country, geo)
    updated = body.channel_updated_at or now
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    placed = body.placed_at.replace(tzinfo=body.placed_at.tzinfo or UTC) if body.placed_at else updated
    return Order(
        channel=body.channel,
        external_id=body.external_id or uuid.uuid4().hex,
        channel_updated_at=updated,
        placed_at=placed,
        currency=body.currency,
        customer=CustomerRef(body.customer.channel_customer_id, body.customer.email, body.customer.phone),
        shipping_address=address,
        billing_country=body.billing_country,
        delivery_method=body.delivery_method,
        pickup_location_id=_location_id(hub, body.pickup_location, "pickup_location"),
        origin_location_id=_location_id(hub, body.origin_location, "origin_location"),
        tags=frozenset(body.tags),
        notes=body.notes,
        channel_risk=body.channel_risk,
        lines=tuple(
            OrderLine(ln.line_id or str(i + 1), ln.sku, ln.quantity, ln.unit_price_minor, ln.tax_minor,
                      (Discount(ln.discount_minor),) if ln.discount_minor else ())
            for i, ln in enumerate(body.lines)
        ),
    )


@router.post("/orders", status_code=201, response_model=OrderTakenIn, response_model_exclude_unset=True,
             responses=problems(*SIGNED_BODY, 404, 409))
def create_order(body: OrderIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """Take in an order from any channel (or typed in, or rung up at a POS). The same
    (channel, external_id) again is the same order: a newer `channel_updated_at` updates
    it, an older one changes nothing."""
    order = to_order(hub, body)
    try:
        res = hub.orders.ingest(order, actor=principal.actor)
    except LedgerError as exc:
        exc.field = _body_field(exc.field, order)
        raise
    return {**res.as_dict(), "order": order_for(principal, read_order(res.order_id, hub))}


def _body_field(field: str | None, order: Order) -> str | None:
    """The pipeline names an order line by its `line_id` (`lines.<line_id>.sku`); the
    client sent a list, so the API points at the item: `lines[0].sku` (problems.py)."""
    if field is None:
        return None
    for i, line in enumerate(order.lines):
        prefix = f"lines.{line.line_id}"
        if field == prefix or field.startswith(prefix + "."):
            return f"lines[{i}]{field[len(prefix):]}"
    return field


@router.get("/orders/{order_id}", response_model=OrderOut, response_model_exclude_unset=True,
            responses=problems(*SIGNED, 404, 422))
def get_order(order_id: IdPath, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """The order, its assignments, and every routing decision with its explanation. The
    buyer (e-mail, phone, address, notes) is shown to admins and operators, and to a
    store associate of a location the order is assigned to; `[masked]` to others."""
    return order_for(principal, read_order(order_id, hub))


def order_for(principal: Principal, order: dict) -> dict:
    """The order as this principal may read it (see get_order)."""
    if sees_personal_data(principal, {a["location"] for a in order["assignments"]}):
        return order
    doc = masked_payload(order["document"])
    if isinstance(doc, dict) and doc.get("notes"):
        doc["notes"] = MASKED
    return {**order, "document": doc, "personal_data": "masked"}


def read_order(order_id: int, hub: Hub) -> dict:
    return order_queries.read_order(hub.read_engine, order_id)


@router.get("/orders", response_model=OrderPage, responses=problems(*SIGNED, 422))
def list_orders(
    hub: HubDep,
    principal: CurrentPrincipal,
    state: CodeQuery = None,
    channel: CodeQuery = None,
    customer_id: Annotated[int | None, Query(ge=0, le=MAX_CATALOG_ID)] = None,
    after_id: AfterId = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    items = order_queries.list_orders(hub.read_engine, state=state, channel=channel, customer_id=customer_id,
                                      at_locations=principal.locations, after_id=after_id, limit=limit)
    return {"items": items, "next_after_id": items[-1]["id"] if len(items) == limit else None}


class CancelIn(Strict):
    lines: Annotated[dict[Annotated[str, text(LINE_ID_LENGTH)], Annotated[int, whole(1, MAX_LINE_QUANTITY)]], Field(max_length=MAX_ORDER_LINES)] | None = None
    reason: Annotated[str, text()] = "cancelled"


@router.post("/orders/{order_id}/cancel", response_model=OrderOutcome, responses=problems(*SIGNED_BODY, 404, 409))
def cancel(order_id: IdPath, body: CancelIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """Cancel the whole order, or `lines: {line_id: units}`; exactly those units are released."""
    return hub.order_ops.cancel(order_id, body.lines, body.reason, actor=principal.actor).as_dict()


class HoldIn(Strict):
    reason: Annotated[str, text(500, 1)]


@router.post("/orders/{order_id}/hold", response_model=OrderOutcome, responses=problems(*SIGNED_BODY, 404, 409))
def hold(order_id: IdPath, body: HoldIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    return hub.order_ops.hold(order_id, body.reason, actor=principal.actor).as_dict()


@router.post("/orders/{order_id}/release", response_model=OrderOutcome, responses=problems(*SIGNED, 404, 409, 422))
def release(order_id: IdPath, hub: HubDep, principal: CurrentPrincipal) -> dict:
    return hub.order_ops.release(order_id, actor=principal.actor).as_dict()


@router.post("/orders/{order_id}/route", response_model=OrderOutcome, responses=problems(*SIGNED, 404, 409, 422))
def route_again(order_id: IdPath, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """Route again the order's units that have not left a shelf: its reservations are
    released and routed under the rules in force now, against the stock of now; the new
    routing decision (GET /orders/{order_id}) explains where they went and why. 409 for
    a held order (release it: that routes it) or one whose goods have left; 422
    (`nothing_to_route`) when every open unit is already picked, packed or on its way."""
    return hub.order_ops.route_again(order_id, actor=principal.actor).as_dict()


class ShipmentIn(Strict):
    location: Code
    carrier: Annotated[str, text(LINE_ID_LENGTH)] | None = None
    tracking_number: Annotated[str, text(REFERENCE_LENGTH)] | None = None


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=OrderShipped,
             responses=problems(*SIGNED_BODY, 404, 409))
def ship(order_id: IdPath, body: ShipmentIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    return hub.order_ops.ship(order_id, body.location, carrier=body.carrier, tracking=body.tracking_number,
                              actor=principal.actor).as_dict()


class PickupIn(Strict):
    code: Annotated[str, text(64)]


@router.post("/orders/{order_id}/pickup", response_model=OrderOutcome, responses=problems(*SIGNED_BODY, 404, 409))
def pickup(order_id: IdPath, body: PickupIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    """Hand a pickup order ready at its store (every unit picked: POST /orders/{order_id}/picks)
    over to its customer, who shows the pickup code: 422 `wrong_pickup_code` with the tries
    left, 409 `pickup_locked` after too many wrong codes (routes_store.py, services/pickup_desk.py)."""
    from omnihub.entrypoints.api.routes_store import ready_pickup

    ready = ready_pickup(hub, order_id)
    return hub.pickups.hand_over(order_id, ready["location"], body.code, actor=principal.actor).as_dict()


class DeliveryIn(Strict):
    shipment_id: Annotated[str, text(REFERENCE_LENGTH)] | None = None  # omit: every parcel on its way


@router.post("/orders/{order_id}/deliveries", response_model=OrderDelivered, responses=problems(*SIGNED_BODY, 404, 409))
def deliver(order_id: IdPath, hub: HubDep, principal: CurrentPrincipal,
            body: DeliveryIn = Body(default_factory=DeliveryIn)) -> dict:
    """The carrier confirmed delivery (of one parcel, or of all that left)."""
    return hub.order_ops.deliver(order_id, body.shipment_id, actor=principal.actor).as_dict()


class RejectIn(Strict):
    reason: Annotated[str, text()] = "store could not fulfil"


@router.post("/orders/{order_id}/assignments/{location}/reject", response_model=OrderOutcome,
             responses=problems(*SIGNED_BODY, 404, 409))
def reject(order_id: IdPath, location: CodePath, hub: HubDep, principal: CurrentPrincipal,
           body: RejectIn = Body(default_factory=RejectIn)) -> dict:
    return hub.order_ops.reject_assignment(order_id, location, body.reason, actor=principal.actor).as_dict()


class ReturnIn(Strict):
    location: Code
    lines: Annotated[dict[Annotated[str, text(LINE_ID_LENGTH)], Annotated[int, whole(1, MAX_LINE_QUANTITY)]], Field(max_length=MAX_ORDER_LINES)]
    to_state: Literal["on_hand", "damaged", "quality_control"] = "on_hand"


@router.post("/orders/{order_id}/returns", status_code=201, response_model=OrderOutcome,
             responses=problems(*SIGNED_BODY, 404, 409))
def receive_return(order_id: IdPath, body: ReturnIn, hub: HubDep, principal: CurrentPrincipal) -> dict:
    return hub.order_ops.receive_return(order_id, body.location, body.lines, body.to_state,
                                        actor=principal.actor).as_dict()


@router.post("/brokering-queue/retry", response_model=QueueRetried, responses=problems(*SIGNED, 422))
def retry_queue(hub: HubDep, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict:
    """Route again the queued orders whose retry time has come."""
    results = hub.orders.retry_queue(limit=limit, actor=principal.actor)
    return {"retried": len(results), "results": [r.as_dict() if not isinstance(r, Exception) else {"error": str(r)} for r in results]}


@router.get("/routing-rules", tags=["routing"], response_model=RoutingRulesOut, responses=problems(*SIGNED))
def get_rules(hub: HubDep) -> dict:
    return hub.rules.get()


@router.put("/routing-rules", tags=["routing"], response_model=RoutingRulesOut,
            responses=problems(*SIGNED_BODY, 409, why={422: "the body against its schema, or rules the domain refuses "
                                                           "(code invalid_rules, the field at fault)"}))
def put_rules(hub: HubDep, body: RoutingRulesIn, comment: Annotated[str | None, Query(max_length=500, pattern=NO_NUL_PATTERN)] = None) -> dict:
    """Replace the rules; stored as a new version (older versions stay for the record)."""
    return hub.rules.save(body.as_sent(), comment=comment)


@router.get("/routing-rules/history", tags=["routing"], response_model=list[RulesVersionOut], responses=problems(*SIGNED))
def rules_history(hub: HubDep) -> list[dict]:
    return hub.rules.history()



@router.get("/availability/stores", tags=["store mode"], response_model=StoreModeOut, responses=problems(*SIGNED, 422))
def stores_near(
    hub: HubDep,
    sku: Annotated[list[Annotated[str, Field(max_length=SKU_LENGTH + 12, pattern=NO_NUL_PATTERN)]],
                   Query(min_length=1, max_length=50, description="SKU, or SKU:units for a basket")],
    near: Annotated[str, Query(max_length=100, pattern=NO_NUL_PATTERN, description="US ZIP code, or 'lat,lng'")],
    radius_km: Annotated[float, Query(gt=0, le=1000)] = 50,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    only_available: bool = False,
) -> dict:
    """Store Mode: nearby stores with pickup-available units, distance and pickup-ready
    time, and whether express shipping is possible for the basket."""
    from omnihub.domain.ledger import LedgerError
    from omnihub.services.store_mode import store_mode

    basket: dict[str, int] = {}
    for item in sku:
        name, _, units = item.partition(":")
        try:
            n = int(units) if units else 1
        except ValueError:
            raise LedgerError(f"{item!r}: units must be a whole number", field="sku") from None
        if n <= 0 or n > MAX_LINE_QUANTITY:
            raise LedgerError(f"{item!r}: units must be between 1 and {MAX_LINE_QUANTITY}", field="sku")
        basket[name] = basket.get(name, 0) + n
    return store_mode(hub.read_engine, basket, near, radius_km=radius_km, limit=limit, only_available=only_available)
