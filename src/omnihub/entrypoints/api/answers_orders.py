"""What the order routes answer: an order with its assignments and routing, a page of
orders, what an order action did, the routing rules, Store Mode.

An order's `document` is the stored order as the channel gave it; for a reader who may
not see the buyer its personal members are `[masked]` text (domain/personal_data.py),
so the document's buyer members take either the value or that text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.answers import Answer, Instant, Number, OpenAnswer, row_answer

if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    AssignmentOut = Answer
    QueuedOut = Answer
    RoutingDecisionOut = Answer
else:
    AssignmentOut = row_answer("AssignmentOut", t.order_assignments, doc="Units of one line at one location.")
    QueuedOut = row_answer("QueuedOut", t.brokering_queue, doc="The order's place in the brokering queue.")
    RoutingDecisionOut = row_answer(
        "RoutingDecisionOut", t.routing_decisions, doc="One routing decision with its explanation.",
        explanation=(dict[str, Any], Field(description="the rules tried, the locations ranked and rejected, and why "
                                                       "(domain/routing.py expand_record)")))


class OrderDocument(OpenAnswer):
    """The stored order (domain/orders.py), buyer members masked for some readers."""

    channel: str
    external_id: str
    state: str
    currency: str
    customer: dict[str, Any]
    shipping_address: dict[str, Any] | None
    lines: list[dict[str, Any]]
    notes: str


class OrderOut(Answer):
    id: int
    channel: str
    external_id: str
    state: str
    holds: list[str]
    order_value_minor: int
    currency: str
    customer_id: int | None
    placed_at: Instant
    updated_at: Instant
    document: OrderDocument
    assignments: list[AssignmentOut]
    routing: list[RoutingDecisionOut]
    brokering_queue: QueuedOut | None
    personal_data: str | None = Field(None, description="`masked` when the buyer is withheld from this reader")


class PlannedAssignment(Answer):
    line_id: str
    sku: str
    location: str
    quantity: int


class _Outcome(Answer):
    """What the pipeline or an order action did (services/order_pipeline.py OrderResult)."""

    order_id: int
    verdict: str
    state: str
    outcome: str | None
    holds: list[str]
    alternatives: list[dict[str, Any]]


class OrderOutcome(_Outcome):
    assignments: list[PlannedAssignment] = Field(description="what routing placed where (empty: nothing routed)")


class ParcelLeft(Answer):
    location: str
    units: int
    shipment_id: str


class OrderShipped(_Outcome):
    assignments: list[ParcelLeft] = Field(description="the parcel that left")


class ParcelDelivered(Answer):
    shipment_id: str | None = Field(description="None: every parcel on its way")
    units: int


class OrderDelivered(_Outcome):
    assignments: list[ParcelDelivered]


class OrderTakenIn(OrderOutcome):
    order: OrderOut


class OrderSummary(Answer):
    id: int
    channel: str
    external_id: str
    state: str
    order_value_minor: int
    currency: str
    customer_id: int | None
    placed_at: Instant


class OrderPage(Answer):
    items: list[OrderSummary]
    next_after_id: int | None


class RetryFailed(Answer):
    error: str


class QueueRetried(Answer):
    retried: int
    results: list[OrderOutcome | RetryFailed]


class OrderFilterOut(Answer):
    channels: list[str]
    delivery_methods: list[str]
    tags_all: list[str]
    tags_none: list[str]
    min_order_value_minor: int | None
    max_order_value_minor: int | None


class LocationFilterOut(Answer):
    kinds: list[str]
    capabilities: list[str]
    groups: list[str]
    exclude_groups: list[str]
    max_distance_km: Number | None
    min_capacity_left: int | None
    min_stock_left: int


class SplitOut(Answer):
    mode: str
    max_shipments: int | None
    min_order_value_minor: int | None


class RuleOut(Answer):
    name: str
    enabled: bool
    order_filter: OrderFilterOut
    location_filter: LocationFilterOut
    sort: list[str]
    split: SplitOut
    fallback: str


class RoutingRulesOut(Answer):
    """The rules in force (domain/routing_rules.py RoutingRuleSet.to_dict)."""

    version: int
    final_fallback: str
    rules: list[RuleOut]


class RulesVersionOut(Answer):
    version: int
    comment: str | None
    created_by: str | None
    created_at: Instant


class GeoOut(Answer):
    lat: Number
    lng: Number


class StoreNearby(Answer):
    location: str
    name: str
    distance_km: Number
    available: dict[str, int]
    can_fulfil_basket: bool
    pickup_ready_at: Instant | None
    curbside: bool


class ExpressOut(Answer):
    location: str
    distance_km: Number | None
    ready_at: Instant
    earliest_delivery: Instant | None
    latest_delivery: Instant | None


class StoreModeOut(Answer):
    point: GeoOut
    basket: dict[str, int]
    stores: list[StoreNearby]
    express: ExpressOut | None
    express_possible: bool
