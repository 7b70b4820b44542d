"""One order model for every channel, and what a newer channel version of it means.

Shopify, its POS, Amazon, Walmart and TikTok all describe an order differently; the channel
adapters map each of them onto this single model so that routing, fraud checks, reservations
and reporting are written once.

Two kinds of fields live on an order:

* channel-owned: everything the channel tells us (lines, address, delivery method, tags,
  cancellation...). A newer channel version replaces them wholesale.
* hub-owned: what the hub decided (its id, state, holds, unified customer id and the
  per-line fulfilment assignments). A newer channel version never overwrites them; it may
  only shrink assignments when units are cancelled.

Versioning uses the channel's own `channel_updated_at`, not arrival time: webhooks arrive
late, twice and out of order, and the channel's clock is the only one that orders its
edits. `apply_newer_version` is a pure function so that "the same order ingested N times in
any order ends as its newest version" can be proven by property tests.

Money is integer minor units (cents) with an ISO currency on the order: floats lose cents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.order_states import LineUnits, OrderState, after_cancellation

# Channels are open-ended (a new marketplace adapter adds a name), so they are strings;
# these are the names the bundled adapters use.
SHOPIFY = "shopify"
SHOPIFY_POS = "shopify_pos"
AMAZON_SELLER = "amazon_seller"
AMAZON_VENDOR = "amazon_vendor"
WALMART = "walmart"
TIKTOK_SHOP = "tiktok_shop"
MANUAL = "manual"
POS_CHANNELS: frozenset[str] = frozenset({SHOPIFY_POS})


class DeliveryMethod(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"
    PICKUP_IN_STORE = "pickup_in_store"
    CURBSIDE = "curbside"
    SHIP_TO_STORE = "ship_to_store"

    @property
    def is_pickup(self) -> bool:
        """Customer collects at the fulfilling store itself (BOPIS, curbside)."""
        return self in (DeliveryMethod.PICKUP_IN_STORE, DeliveryMethod.CURBSIDE)

    @property
    def is_shipped(self) -> bool:
        return not self.is_pickup


class RiskLevel(StrEnum):
    """The channel's own fraud assessment of an order (Shopify order risk, marketplaces)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_RANK[self]


_RISK_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class AssignmentState(StrEnum):
    RESERVED = "reserved"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    RETURNED = "returned"
    REJECTED = "rejected"  # the store refused it (ship-from-store); the units go back to brokering
    CANCELLED = "cancelled"


#: Assignment states whose units still hold a reservation that a cancellation can release.
RELEASABLE_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.RESERVED, AssignmentState.PICKED, AssignmentState.PACKED}
)
#: Assignment states that no longer hold units for the line.
INACTIVE_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.REJECTED, AssignmentState.CANCELLED, AssignmentState.RETURNED}
)
#: Assignment states whose units left the building: no cancellation brings them back.
GONE_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.SHIPPED, AssignmentState.PICKED_UP, AssignmentState.DELIVERED}
)


def _check_currency(code: str) -> None:
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise ValueError(f"currency {code!r} must be a 3-letter ISO 4217 code such as 'USD'")


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, amount_minor: int, currency: str) -> None:
        object.__setattr__(self, "amount_minor", amount_minor)
        object.__setattr__(self, "currency", currency)
        self.__post_init__()
    # -- end of the written-out code

    def __post_init__(self) -> None:
        _check_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot subtract {other.currency} from {self.currency}")
        return Money(self.amount_minor - other.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class Discount:
    """A discount on a line as the channel states it (code or automatic title)."""

    amount_minor: int
    code: str = ""

    def __post_init__(self) -> None:
        if self.amount_minor < 0:
            raise ValueError(f"discount {self.code!r} must not be negative ({self.amount_minor})")


@dataclass(frozen=True, slots=True)
class FulfilmentAssignment:
    """Hub-owned: `quantity` units of a line to be fulfilled from `location_id`."""

    location_id: int
    quantity: int
    shipment_id: str | None = None
    state: AssignmentState = AssignmentState.RESERVED

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        location_id: int,
        quantity: int,
        shipment_id: str | None = None,
        state: AssignmentState = AssignmentState.RESERVED,
    ) -> None:
        object.__setattr__(self, "location_id", location_id)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "shipment_id", shipment_id)
        object.__setattr__(self, "state", state)
        self.__post_init__()
    # -- end of the written-out code

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"assignment quantity must be positive, got {self.quantity}")

    @property
    def is_active(self) -> bool:
        return self.state not in INACTIVE_ASSIGNMENT_STATES


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A line as the channel now states it.

    `quantity` is the ordered quantity after the channel's edits and `cancelled_quantity`
    the part of it the channel reports cancelled (channels express reductions either way;
    adapters map both). `tax_minor` and `discounts` are the channel's totals for the line.
    """

    line_id: str
    sku: str
    quantity: int
    unit_price_minor: int = 0
    tax_minor: int = 0
    discounts: tuple[Discount, ...] = ()
    cancelled_quantity: int = 0
    assignments: tuple[FulfilmentAssignment, ...] = ()  # hub-owned

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        line_id: str,
        sku: str,
        quantity: int,
        unit_price_minor: int = 0,
        tax_minor: int = 0,
        discounts: tuple[Discount, ...] = (),
        cancelled_quantity: int = 0,
        assignments: tuple[FulfilmentAssignment, ...] = (),
    ) -> None:
        object.__setattr__(self, "line_id", line_id)
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "unit_price_minor", unit_price_minor)
        object.__setattr__(self, "tax_minor", tax_minor)
        object.__setattr__(self, "discounts", discounts)
        object.__setattr__(self, "cancelled_quantity", cancelled_quantity)
        object.__setattr__(self, "assignments", assignments)
        self.__post_init__()
    # -- end of the written-out code

    def __post_init__(self) -> None:
        if not self.line_id:
            raise ValueError("an order line needs a line_id")
        if not self.sku:
            raise ValueError(f"line {self.line_id!r} needs a SKU")
        if self.quantity < 0:
            raise ValueError(f"line {self.line_id!r}: quantity {self.quantity} is negative")
        if not 0 <= self.cancelled_quantity <= self.quantity:
            raise ValueError(
                f"line {self.line_id!r}: cancelled quantity {self.cancelled_quantity} "
                f"must be between 0 and the quantity {self.quantity}"
            )
        if self.unit_price_minor < 0 or self.tax_minor < 0:
            raise ValueError(f"line {self.line_id!r}: price and tax must not be negative")

    @property
    def open_quantity(self) -> int:
        """Units the customer still wants: what must be fulfilled (or already was)."""
        return self.quantity - self.cancelled_quantity

    @property
    def discount_minor(self) -> int:
        return sum(d.amount_minor for d in self.discounts)

    @property
    def value_minor(self) -> int:
        """Merchandise value of the open units after discounts, before tax."""
        return max(0, self.unit_price_minor * self.open_quantity - self.discount_minor)

    @property
    def assigned_quantity(self) -> int:
        return sum(a.quantity for a in self.assignments if a.is_active)

    @property
    def unassigned_quantity(self) -> int:
        """Open units not yet assigned to a location: they wait in the brokering queue."""
        return max(0, self.open_quantity - self.assigned_quantity)


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    geo: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """Who bought, as the channel knows them, plus the hub's unified customer id."""

    channel_customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
    customer_id: int | None = None  # hub-owned: see omnihub.domain.customers


NO_CUSTOMER = CustomerRef()  # immutable: one shared default for every order without one


@dataclass(frozen=True, slots=True)
class Order:
    channel: str
    external_id: str
    channel_updated_at: datetime
    lines: tuple[OrderLine, ...]
    currency: str = "USD"
    placed_at: datetime | None = None
    customer: CustomerRef = NO_CUSTOMER
    shipping_address: Address | None = None
    billing_country: str | None = None
    delivery_method: DeliveryMethod = DeliveryMethod.STANDARD
    pickup_location_id: int | None = None  # pickup in store, curbside, ship to store
    origin_location_id: int | None = None  # the store where a POS sale was rung up
    tags: frozenset[str] = frozenset()
    notes: str = ""
    cancelled: bool = False  # the channel cancelled the whole order
    channel_risk: RiskLevel | None = None
    # hub-owned
    id: int | None = None
    state: OrderState = OrderState.CREATED
    holds: tuple[str, ...] = ()

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        channel: str,
        external_id: str,
        channel_updated_at: datetime,
        lines: tuple[OrderLine, ...],
        currency: str = "USD",
        placed_at: datetime | None = None,
        customer: CustomerRef = NO_CUSTOMER,
        shipping_address: Address | None = None,
        billing_country: str | None = None,
        delivery_method: DeliveryMethod = DeliveryMethod.STANDARD,
        pickup_location_id: int | None = None,
        origin_location_id: int | None = None,
        tags: frozenset[str] = frozenset(),
        notes: str = "",
        cancelled: bool = False,
        channel_risk: RiskLevel | None = None,
        id: int | None = None,
        state: OrderState = OrderState.CREATED,
        holds: tuple[str, ...] = (),
    ) -> None:
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "external_id", external_id)
        object.__setattr__(self, "channel_updated_at", channel_updated_at)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "placed_at", placed_at)
        object.__setattr__(self, "customer", customer)
        object.__setattr__(self, "shipping_address", shipping_address)
        object.__setattr__(self, "billing_country", billing_country)
        object.__setattr__(self, "delivery_method", delivery_method)
        object.__setattr__(self, "pickup_location_id", pickup_location_id)
        object.__setattr__(self, "origin_location_id", origin_location_id)
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "cancelled", cancelled)
        object.__setattr__(self, "channel_risk", channel_risk)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "holds", holds)
        self.__post_init__()
    # -- end of the written-out code

    def __post_init__(self) -> None:
        if not self.channel or not self.external_id:
            raise ValueError("an order needs a channel and the channel's external id")
        if self.channel_updated_at.tzinfo is None:
            raise ValueError(f"order {self.external_id}: channel_updated_at must be timezone-aware")
        if self.placed_at is not None and self.placed_at.tzinfo is None:
            raise ValueError(f"order {self.external_id}: placed_at must be timezone-aware")
        _check_currency(self.currency)
        seen: set[str] = set()
        for line in self.lines:
            if line.line_id in seen:
                raise ValueError(f"order {self.external_id}: line id {line.line_id!r} repeats")
            seen.add(line.line_id)

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key: the same (channel, external id) is one order."""
        return (self.channel, self.external_id)

    @property
    def placed(self) -> datetime:
        return self.placed_at or self.channel_updated_at

    @property
    def shipping_country(self) -> str | None:
        return self.shipping_address.country if self.shipping_address else None

    @property
    def destination(self) -> GeoPoint | None:
        return self.shipping_address.geo if self.shipping_address else None

    @property
    def order_value(self) -> Money:
        """Merchandise value of the open units, after discounts, before tax and shipping.

        Cancelled orders are worth nothing: nothing will be fulfilled.
        """
        if self.cancelled:
            return Money(0, self.currency)
        return Money(sum(line.value_minor for line in self.lines), self.currency)

    @property
    def total_tax(self) -> Money:
        return Money(sum(line.tax_minor for line in self.lines), self.currency)

    @property
    def is_pos(self) -> bool:
        return self.channel in POS_CHANNELS

    def open_units(self) -> dict[str, int]:
        """Open units per line id (all zero when the channel cancelled the order)."""
        if self.cancelled:
            return {line.line_id: 0 for line in self.lines}
        return {line.line_id: line.open_quantity for line in self.lines}

    def units_by_sku(self) -> dict[str, int]:
        """Open units per SKU, summed over lines: what routing must find."""
        out: dict[str, int] = {}
        if self.cancelled:
            return out
        for line in self.lines:
            if line.open_quantity:
                out[line.sku] = out.get(line.sku, 0) + line.open_quantity
        return out

    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(f"order {self.external_id} has no line {line_id!r}")


# --------------------------------------------------------------------------- versions


#: Hold reason on a cancelled order whose newer channel version is not cancelled (see
#: `apply_newer_version`): it stays cancelled, an operator decides.
REOPENED_AFTER_CANCEL = "reopened_after_cancel"
#: Hold reason (followed by ": " and the rules' why) on an order the routing rules refuse
#: (fall-back `reject`): it leaves the brokering queue and waits for an operator, who
#: releases it (routed again under the rules then in force) or cancels it.
ROUTING_REJECTED = "routing_rejected"


class VersionVerdict(StrEnum):
    NEW = "new"  # first time the hub sees this (channel, external id)
    UPDATED = "updated"  # strictly newer channel version: applied
    UNCHANGED = "unchanged"  # strictly newer, yet saying what the hub already holds: only its version is kept
    DUPLICATE = "duplicate"  # same channel version again: nothing to do
    STALE = "stale"  # older channel version arriving late: ignored


@dataclass(frozen=True, slots=True)
class LineChange:
    """How one line's open units changed, and where released units come from.

    Released units are taken first from the brokering queue (units not yet routed), then
    from reservations at locations (the most recent assignment first), because releasing a
    queued unit costs nothing while a released reservation may undo a pick. Units already
    shipped or picked up cannot be released: they are `unreleasable` and need a return.
    """

    line_id: str
    sku: str
    open_before: int
    open_after: int
    added: int = 0
    released_from_queue: int = 0
    released_from_locations: tuple[tuple[int, int], ...] = ()  # (location_id, units)
    unreleasable: int = 0

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        line_id: str,
        sku: str,
        open_before: int,
        open_after: int,
        added: int = 0,
        released_from_queue: int = 0,
        released_from_locations: tuple[tuple[int, int], ...] = (),
        unreleasable: int = 0,
    ) -> None:
        object.__setattr__(self, "line_id", line_id)
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "open_before", open_before)
        object.__setattr__(self, "open_after", open_after)
        object.__setattr__(self, "added", added)
        object.__setattr__(self, "released_from_queue", released_from_queue)
        object.__setattr__(self, "released_from_locations", released_from_locations)
        object.__setattr__(self, "unreleasable", unreleasable)
    # -- end of the written-out code

    @property
    def released(self) -> int:
        return self.released_from_queue + sum(q for _, q in self.released_from_locations)


@dataclass(frozen=True, slots=True)
class OrderDiff:
    verdict: VersionVerdict
    line_changes: tuple[LineChange, ...] = ()
    address_changed: bool = False
    delivery_method_changed: bool = False
    pickup_location_changed: bool = False
    cancelled: bool = False  # this version cancels the whole order
    reopened_after_cancel: bool = False  # not cancelled, yet the hub's order is: kept cancelled

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        verdict: VersionVerdict,
        line_changes: tuple[LineChange, ...] = (),
        address_changed: bool = False,
        delivery_method_changed: bool = False,
        pickup_location_changed: bool = False,
        cancelled: bool = False,
        reopened_after_cancel: bool = False,
    ) -> None:
        object.__setattr__(self, "verdict", verdict)
        object.__setattr__(self, "line_changes", line_changes)
        object.__setattr__(self, "address_changed", address_changed)
        object.__setattr__(self, "delivery_method_changed", delivery_method_changed)
        object.__setattr__(self, "pickup_location_changed", pickup_location_changed)
        object.__setattr__(self, "cancelled", cancelled)
        object.__setattr__(self, "reopened_after_cancel", reopened_after_cancel)
    # -- end of the written-out code

    @property
    def changed(self) -> bool:
        return self.verdict in (VersionVerdict.NEW, VersionVerdict.UPDATED)

    @property
    def units_added(self) -> dict[str, int]:
        """Units per line id that join the brokering queue."""
        return {c.line_id: c.added for c in self.line_changes if c.added}

    @property
    def units_released(self) -> dict[str, int]:
        """Units per line id that leave the order (from the queue or a reservation)."""
        out: dict[str, int] = {}
        for c in self.line_changes:
            if c.released:
                out[c.line_id] = out.get(c.line_id, 0) + c.released
        return out

    @property
    def partly_cancelled(self) -> bool:
        """Some units left the order line by line (not the whole order); whether anything
        lives on is for `cancellation_path` to say."""
        return not self.cancelled and any(c.released or c.unreleasable for c in self.line_changes)

    @property
    def needs_rerouting(self) -> bool:
        """Where the goods go changed: unshipped assignments may no longer be the best."""
        return self.address_changed or self.delivery_method_changed or self.pickup_location_changed


@dataclass(frozen=True, slots=True)
class VersionOutcome:
    order: Order
    diff: OrderDiff

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, order: Order, diff: OrderDiff) -> None:
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "diff", diff)
    # -- end of the written-out code


def apply_newer_version(existing: Order | None, incoming: Order) -> VersionOutcome:
    """Decide what an incoming channel version of an order means.

    * no existing order: NEW, every open unit is added;
    * incoming not newer than existing (by `channel_updated_at`): DUPLICATE or STALE, the
      existing order is returned unchanged with an empty diff;
    * newer but saying exactly what the hub holds (the same order sent again, by a client
      that lets the hub stamp the version, or a channel touching its own timestamp):
      UNCHANGED, the existing order with only `channel_updated_at` moved on (so a late older
      version stays STALE) and an empty diff: nothing to route, announce or rewrite (a
      version of a cancelled order that is not cancelled is applied as below, never
      UNCHANGED);
    * newer: UPDATED; the result carries the incoming channel-owned fields and the existing
      hub-owned ones (id, state, holds, unified customer id, assignments trimmed by exactly
      the units released). The diff says, per line, units added to the brokering queue and
      units released from the queue or from which locations. `placed_at` is when the
      customer placed the order: the first version's stays (a client that leaves it out
      gets the arrival time of each version, which must not move the order's age).

    A cancelled order is final. Shopify and Amazon cannot un-cancel an order, so a newer
    version of a cancelled order that is not cancelled (an edit that raced the hub's own
    cancellation, an adapter slip, a marketplace re-open) does not bring it back: its
    channel-owned fields are recorded (so the same version again is a DUPLICATE), but it
    is applied as cancelled, so no unit re-enters the brokering queue or is reserved, and
    the order gets the hold reason `reopened_after_cancel` (`diff.reopened_after_cancel`)
    for an operator, who creates a new order if the customer really still wants the goods.
    Were the units brought back, the state machine (cancelled → refunded only) could never
    route them and they would be lost to every channel. So the hub ends as the newest
    version it has seen, cancelled if any version it applied was cancelled; an older
    version still changes nothing, even a cancelled one.

    The state machine is not moved here; the service reads `diff.cancelled` and
    `diff.partly_cancelled` and moves it along `cancellation_path`.
    """
    if existing is None:
        added = tuple(
            LineChange(line.line_id, line.sku, 0, n, added=n)
            for line in incoming.lines
            if (n := (0 if incoming.cancelled else line.open_quantity))
        )
        # A brand-new order never carries hub assignments from the channel.
        fresh = incoming
        if any(line.assignments for line in incoming.lines):
            fresh = replace(
                incoming, lines=tuple(replace(line, assignments=()) for line in incoming.lines)
            )
        return VersionOutcome(
            fresh, OrderDiff(VersionVerdict.NEW, added, cancelled=incoming.cancelled)
        )
    if existing.key != incoming.key:
        raise ValueError(f"versions of different orders: {existing.key} vs {incoming.key}")
    if incoming.channel_updated_at < existing.channel_updated_at:
        return VersionOutcome(existing, OrderDiff(VersionVerdict.STALE))
    if incoming.channel_updated_at == existing.channel_updated_at:
        return VersionOutcome(existing, OrderDiff(VersionVerdict.DUPLICATE))
    holds = existing.holds
    reopened = (existing.cancelled or existing.state is OrderState.CANCELLED) and not incoming.cancelled
    if not reopened and says_the_same(existing, incoming):
        return VersionOutcome(
            replace(existing, channel_updated_at=incoming.channel_updated_at), OrderDiff(VersionVerdict.UNCHANGED)
        )
    if reopened:
        # Cancelled in the hub by cancelling every unit leaves `cancelled` False: both count.
        reopened = any(line.open_quantity for line in incoming.lines)
        incoming = replace(incoming, cancelled=True)
        if reopened and REOPENED_AFTER_CANCEL not in holds:
            holds += (REOPENED_AFTER_CANCEL,)

    old_lines = {line.line_id: line for line in existing.lines}
    new_lines = {line.line_id: line for line in incoming.lines}
    changes: list[LineChange] = []
    kept_by_line: dict[str, tuple[FulfilmentAssignment, ...]] = {}

    def open_of(order: Order, line: OrderLine | None) -> int:
        return 0 if line is None or order.cancelled else line.open_quantity

    for line_id in list(old_lines) + [i for i in new_lines if i not in old_lines]:
        old = old_lines.get(line_id)
        new = new_lines.get(line_id)
        if old is not None and new is not None and old.sku != new.sku:
            # Same line id, different SKU: the old line went away and a new one came.
            change, kept_by_line[line_id] = _release(old, open_of(existing, old), 0)
            if change.released or change.unreleasable:
                changes.append(change)
            n = open_of(incoming, new)
            if n:
                changes.append(LineChange(line_id, new.sku, 0, n, added=n))
            kept_by_line[line_id] = ()  # what was shipped belongs to the SKU that went away
            continue
        before = open_of(existing, old)
        after = open_of(incoming, new)
        kept_by_line[line_id] = old.assignments if old is not None else ()
        if after > before:
            sku = new.sku if new is not None else old.sku  # type: ignore[union-attr]
            changes.append(LineChange(line_id, sku, before, after, added=after - before))
        elif after < before:
            assert old is not None
            change, kept_by_line[line_id] = _release(old, before, after)
            changes.append(change)

    # The channel's line order wins; each line keeps its (trimmed) hub assignments.
    merged = [
        line if line.assignments == kept_by_line[line.line_id]
        else replace(line, assignments=kept_by_line[line.line_id])
        for line in incoming.lines
    ]

    order = replace(
        incoming,
        lines=tuple(merged),
        placed_at=existing.placed_at or incoming.placed_at,
        id=existing.id,
        state=existing.state,
        holds=holds,
        customer=replace(incoming.customer, customer_id=existing.customer.customer_id),
    )
    diff = OrderDiff(
        VersionVerdict.UPDATED,
        tuple(changes),
        address_changed=existing.shipping_address != incoming.shipping_address,
        delivery_method_changed=existing.delivery_method != incoming.delivery_method,
        pickup_location_changed=existing.pickup_location_id != incoming.pickup_location_id,
        cancelled=incoming.cancelled and not existing.cancelled,
        reopened_after_cancel=reopened,
    )
    return VersionOutcome(order, diff)


def says_the_same(existing: Order, incoming: Order) -> bool:
    """Whether a channel version states every channel-owned field as the hub holds it.

    Hub-owned fields (id, state, holds, unified customer id, assignments) are not the
    channel's to state, `channel_updated_at` is the version itself and `placed_at` never
    moves after the first version (see `apply_newer_version`), so none of them counts."""
    if (
        len(existing.lines) != len(incoming.lines)
        or existing.cancelled != incoming.cancelled
        or existing.delivery_method != incoming.delivery_method
        or existing.pickup_location_id != incoming.pickup_location_id
        or existing.origin_location_id != incoming.origin_location_id
        or existing.shipping_address != incoming.shipping_address
        or existing.billing_country != incoming.billing_country
        or existing.currency != incoming.currency
        or existing.tags != incoming.tags
        or existing.notes != incoming.notes
        or existing.channel_risk != incoming.channel_risk
    ):
        return False
    mine, theirs = existing.customer, incoming.customer
    if (
        mine.channel_customer_id != theirs.channel_customer_id
        or mine.email != theirs.email
        or mine.phone != theirs.phone
    ):
        return False
    for a, b in zip(existing.lines, incoming.lines):
        if (
            a.line_id != b.line_id
            or a.sku != b.sku
            or a.quantity != b.quantity
            or a.cancelled_quantity != b.cancelled_quantity
            or a.unit_price_minor != b.unit_price_minor
            or a.tax_minor != b.tax_minor
            or a.discounts != b.discounts
        ):
            return False
    return True


def _release(
    line: OrderLine, before: int, after: int
) -> tuple[LineChange, tuple[FulfilmentAssignment, ...]]:
    """Release `before - after` open units of `line`: queue first, then newest reservation."""
    to_release = before - after
    queued = max(0, before - line.assigned_quantity)
    from_queue = min(to_release, queued)
    to_release -= from_queue
    released: list[tuple[int, int]] = []
    kept = list(line.assignments)
    for i in range(len(kept) - 1, -1, -1):
        if not to_release:
            break
        a = kept[i]
        if a.state not in RELEASABLE_ASSIGNMENT_STATES:
            continue
        take = min(a.quantity, to_release)
        released.append((a.location_id, take))
        to_release -= take
        if take == a.quantity:
            del kept[i]
        else:
            kept[i] = replace(a, quantity=a.quantity - take)
    change = LineChange(
        line.line_id,
        line.sku,
        before,
        after,
        released_from_queue=from_queue,
        released_from_locations=tuple(released),
        unreleasable=to_release,
    )
    return change, tuple(kept)


def cancellation_path(order: Order) -> tuple[OrderState, ...]:
    """The states `order` walks through now that some of its units were cancelled: its
    lines' units fed to `order_states.after_cancellation`, the one rule for both the
    channel's versions and the hub's own cancellations."""
    units, gone_as = [], set()
    for line in order.lines:
        gone = 0
        for a in line.assignments:
            if a.state in GONE_ASSIGNMENT_STATES:
                gone += a.quantity
                gone_as.add(a.state)
        units.append(LineUnits(line.quantity, line.cancelled_quantity, gone))
    fulfilled_as = OrderState.PICKED_UP if gone_as == {AssignmentState.PICKED_UP} else OrderState.SHIPPED
    return after_cancellation(order.state, units, whole_order=order.cancelled, fulfilled_as=fulfilled_as)


# --------------------------------------------------------------------------- assignments


class AssignmentLike(Protocol):
    """What routing produces (see omnihub.domain.routing.Assignment)."""

    @property
    def line_id(self) -> str: ...
    @property
    def location_id(self) -> int: ...
    @property
    def quantity(self) -> int: ...


def with_assignments(
    order: Order, assignments: Iterable[AssignmentLike], shipment_ids: dict[int, str] | None = None
) -> Order:
    """Record routed units on the order's lines (hub-owned), one assignment per location.

    Raises ValueError if a line would be assigned more than its open units: the caller
    is about to reserve stock the customer did not order.
    """
    by_line: dict[str, list[FulfilmentAssignment]] = {}
    for a in assignments:
        sid = shipment_ids.get(a.location_id) if shipment_ids else None
        by_line.setdefault(a.line_id, []).append(
            FulfilmentAssignment(a.location_id, a.quantity, shipment_id=sid)
        )
    lines = []
    for line in order.lines:
        extra = by_line.pop(line.line_id, None)
        if not extra:
            lines.append(line)
            continue
        new = copy_line(line, line.assignments + tuple(extra))
        if new.assigned_quantity > line.open_quantity:
            raise ValueError(
                f"order {order.external_id} line {line.line_id}: {new.assigned_quantity} units "
                f"assigned but only {line.open_quantity} open"
            )
        lines.append(new)
    if by_line:
        raise ValueError(f"order {order.external_id} has no lines {sorted(by_line)}")
    return copy_order(order, lines=tuple(lines))


# -- copies on the hot path -------------------------------------------------------------------
# `dataclasses.replace` finds the fields by introspection on every call (about 6 µs for an
# Order, five copies per order in the pipeline); these name every field, written out from
# the fields by omnihub.compiled_inits, and a compiled build calls the written-out __init__
# natively. A parameter of a copy replaces the field of its name.
def copy_order(o: Order, *, lines: tuple[OrderLine, ...] | None = None, state: OrderState | None = None,
               id: int | None = None, holds: tuple[str, ...] | None = None) -> Order:
    """`o` with the given fields replaced (None: kept)."""
    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    return Order(
        o.channel,
        o.external_id,
        o.channel_updated_at,
        o.lines if lines is None else lines,
        o.currency,
        o.placed_at,
        o.customer,
        o.shipping_address,
        o.billing_country,
        o.delivery_method,
        o.pickup_location_id,
        o.origin_location_id,
        o.tags,
        o.notes,
        o.cancelled,
        o.channel_risk,
        o.id if id is None else id,
        o.state if state is None else state,
        o.holds if holds is None else holds,
    )
    # -- end of the written-out code


def copy_line(line: OrderLine, assignments: tuple[FulfilmentAssignment, ...]) -> OrderLine:
    """`line` with other assignments."""
    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    return OrderLine(
        line.line_id,
        line.sku,
        line.quantity,
        line.unit_price_minor,
        line.tax_minor,
        line.discounts,
        line.cancelled_quantity,
        assignments,
    )
    # -- end of the written-out code
