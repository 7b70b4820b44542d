"""What the store's fulfilment routes answer: a store's pick list, its orders waiting for
their customers, and one order's pickup (services/store_picking.py, pickup_desk.py)."""

from __future__ import annotations

from pydantic import Field

from omnihub.entrypoints.api.answers import Answer, Instant


class PickLineOut(Answer):
    line_id: str
    sku: str
    title: str
    units: int = Field(description="units to take off the shelf (or picked, in `to_ship`)")


class StoreOrderOut(Answer):
    order_id: int
    channel: str
    external_id: str
    delivery_method: str
    placed_at: Instant
    lines: list[PickLineOut]


class PickListOut(Answer):
    location: str
    to_pick: list[StoreOrderOut] = Field(description="orders with units reserved here, oldest first")
    to_ship: list[StoreOrderOut] = Field(description="ship-from-store orders picked here, waiting for their parcel")
    pickups_waiting: int = Field(description="pickup orders picked here, waiting for their customer")


class WaitingLineOut(Answer):
    sku: str
    title: str
    units: int


class WaitingPickupOut(Answer):
    order_id: int
    channel: str
    external_id: str
    curbside: bool
    ready_at: Instant
    customer_arrived_at: Instant | None
    arrival_note: str | None
    locked_until: Instant | None = Field(description="set while too many wrong codes lock the hand-over")
    lines: list[WaitingLineOut]


class PickupsOut(Answer):
    location: str
    items: list[WaitingPickupOut] = Field(description="customers who said they are here first, then the longest waiting")


class PickupOut(Answer):
    order_id: int
    location: str
    ready_at: Instant
    wrong_codes: int = Field(description="wrong codes tried in a row")
    locked_until: Instant | None
    customer_arrived_at: Instant | None
    arrival_note: str | None
    handed_over_at: Instant | None
    handed_over_by: str | None
    code: str | None = Field(None, description="the pickup code, for the messages that give it to the customer: shown "
                                               "to readers of customers' personal data not bound to a store, never "
                                               "to the store's own staff, who check it")
