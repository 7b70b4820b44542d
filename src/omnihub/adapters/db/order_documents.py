"""An order as one JSON document, and back.

The hot path reads and writes one row per order; lines and their assignments live inside
the document. Assignments are also kept as rows (`order_assignments`) because stores list
their work by location ("what must I pick today?"), which a document cannot index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.order_states import OrderState
from omnihub.domain.orders import (
    Address,
    AssignmentState,
    CustomerRef,
    DeliveryMethod,
    Discount,
    FulfilmentAssignment,
    Order,
    OrderLine,
    RiskLevel,
)


def _geo(g: GeoPoint | None) -> list[float] | None:
    return [g.lat, g.lng] if g else None


def order_to_doc(o: Order) -> dict[str, Any]:
    a = o.shipping_address
    return {
        "channel": o.channel,
        "external_id": o.external_id,
        "channel_updated_at": o.channel_updated_at.isoformat(),
        "placed_at": o.placed_at.isoformat() if o.placed_at else None,
        "currency": o.currency,
        "customer": {
            "channel_customer_id": o.customer.channel_customer_id,
            "email": o.customer.email,
            "phone": o.customer.phone,
            "customer_id": o.customer.customer_id,
        },
        "shipping_address": None if a is None else {
            "line1": a.line1, "line2": a.line2, "city": a.city, "region": a.region,
            "postal_code": a.postal_code, "country": a.country, "geo": _geo(a.geo),
        },
        "billing_country": o.billing_country,
        "delivery_method": o.delivery_method.value,
        "pickup_location_id": o.pickup_location_id,
        "origin_location_id": o.origin_location_id,
        "tags": sorted(o.tags),
        "notes": o.notes,
        "cancelled": o.cancelled,
        "channel_risk": o.channel_risk.value if o.channel_risk else None,
        "state": o.state.value,
        "holds": list(o.holds),
        "lines": [
            {
                "line_id": ln.line_id, "sku": ln.sku, "quantity": ln.quantity,
                "unit_price_minor": ln.unit_price_minor, "tax_minor": ln.tax_minor,
                "discounts": [{"amount_minor": d.amount_minor, "code": d.code} for d in ln.discounts],
                "cancelled_quantity": ln.cancelled_quantity,
                "assignments": [
                    {"location_id": x.location_id, "quantity": x.quantity, "shipment_id": x.shipment_id,
                     "state": x.state.value}
                    for x in ln.assignments
                ],
            }
            for ln in o.lines
        ],
    }


def order_from_doc(d: dict[str, Any], order_id: int | None = None) -> Order:
    a = d.get("shipping_address")
    c = d.get("customer") or {}
    return Order(
        channel=d["channel"],
        external_id=d["external_id"],
        channel_updated_at=datetime.fromisoformat(d["channel_updated_at"]),
        placed_at=datetime.fromisoformat(d["placed_at"]) if d.get("placed_at") else None,
        currency=d["currency"],
        customer=CustomerRef(c.get("channel_customer_id"), c.get("email"), c.get("phone"), c.get("customer_id")),
        shipping_address=None if a is None else Address(
            a["line1"], a["line2"], a["city"], a["region"], a["postal_code"], a["country"],
            GeoPoint(*a["geo"]) if a.get("geo") else None,
        ),
        billing_country=d.get("billing_country"),
        delivery_method=DeliveryMethod(d["delivery_method"]),
        pickup_location_id=d.get("pickup_location_id"),
        origin_location_id=d.get("origin_location_id"),
        tags=frozenset(d.get("tags", ())),
        notes=d.get("notes", ""),
        cancelled=d.get("cancelled", False),
        channel_risk=RiskLevel(d["channel_risk"]) if d.get("channel_risk") else None,
        id=order_id,
        state=OrderState(d.get("state", "created")),
        holds=tuple(d.get("holds", ())),
        lines=tuple(
            OrderLine(
                line_id=ln["line_id"], sku=ln["sku"], quantity=ln["quantity"],
                unit_price_minor=ln.get("unit_price_minor", 0), tax_minor=ln.get("tax_minor", 0),
                discounts=tuple(Discount(x["amount_minor"], x.get("code", "")) for x in ln.get("discounts", ())),
                cancelled_quantity=ln.get("cancelled_quantity", 0),
                assignments=tuple(
                    FulfilmentAssignment(x["location_id"], x["quantity"], x.get("shipment_id"), AssignmentState(x["state"]))
                    for x in ln.get("assignments", ())
                ),
            )
            for ln in d["lines"]
        ),
    )
