"""Available to promise: what may be sold, per location and per channel, and why.

The formula of the seeds, per SKU and location:

    ATP = on_hand − reserved − damaged − quality_control − safety_stock − threshold

floored at zero, and zero at a location excluded from online selling. Per channel, the
locations that feed it (mode "ship") are summed into a *pool*; the units of orders still
waiting in the brokering queue come off the pool; then the channel's allocation applies (a
percentage share or a fixed allocation) and its buffer. "Pickup only" feeds count for
Store Mode (pickup availability) but never for shipping.

Everything here is pure; the database keeps `pool` as a maintained projection updated by
`location_contribution` deltas, and tests prove it equals `channel_quantity` recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from omnihub.domain.ledger import Position


class FeedMode(StrEnum):
    SHIP = "ship"
    PICKUP_ONLY = "pickup_only"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A safety stock and/or threshold setting, scoped by any of channel, SKU, location.

    A field left None means "any". The most specific rule that sets a value wins; see
    `resolve_policy`.
    """

    channel: str | None = None
    sku: str | None = None
    location: str | None = None
    safety_stock: int | None = None
    threshold: int | None = None

    def matches(self, channel: str | None, sku: str, location: str) -> bool:
        return (
            (self.channel is None or self.channel == channel)
            and (self.sku is None or self.sku == sku)
            and (self.location is None or self.location == location)
        )

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """More fields set is more specific; ties go SKU, then channel, then location: a
        rule a merchant wrote for one channel ("Amazon: threshold 7") beats a general
        location setting, and anything said about one SKU beats both."""
        n = (self.channel is not None) + (self.sku is not None) + (self.location is not None)
        return (n, self.sku is not None, self.channel is not None, self.location is not None)

    def scope(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (("channel", self.channel), ("sku", self.sku), ("location", self.location))
            if v is not None
        ]
        return ", ".join(parts) or "default"


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    safety_stock: int = 0
    threshold: int = 0
    safety_stock_from: str = "default"
    threshold_from: str = "default"


DEFAULT_POLICY = ResolvedPolicy()  # no rule: no safety stock, no threshold (immutable, shared)


def resolve_policy(
    rules: list[PolicyRule], channel: str | None, sku: str, location: str
) -> ResolvedPolicy:
    """Pick, for safety stock and threshold separately, the most specific matching rule."""
    if not rules:  # most SKUs have none: routing asks this for every line and location
        return DEFAULT_POLICY
    best: dict[str, tuple[tuple[int, int, int, int], PolicyRule]] = {}
    for rule in rules:
        if not rule.matches(channel, sku, location):
            continue
        for name in ("safety_stock", "threshold"):
            if getattr(rule, name) is None:
                continue
            cur = best.get(name)
            if cur is None or rule.specificity > cur[0]:
                best[name] = (rule.specificity, rule)
    ss = best.get("safety_stock")
    th = best.get("threshold")
    return ResolvedPolicy(
        safety_stock=ss[1].safety_stock if ss else 0,  # type: ignore[arg-type]
        threshold=th[1].threshold if th else 0,  # type: ignore[arg-type]
        safety_stock_from=ss[1].scope() if ss else "default",
        threshold_from=th[1].scope() if th else "default",
    )


def location_atp(pos: Position, policy: ResolvedPolicy, *, online_selling: bool = True) -> int:
    """ATP of one position: the seeds' formula, floored at zero."""
    if not online_selling:
        return 0
    return max(0, pos.free - policy.safety_stock - policy.threshold)


@dataclass(frozen=True, slots=True)
class ChannelAllocation:
    """How much of its pool a channel may sell, and which locations feed it.

    `feeds` maps location code → FeedMode. An empty `feeds` means every location that
    sells online feeds the channel for shipping (the sensible default for a new channel).
    """

    channel: str
    feeds: dict[str, FeedMode] = field(default_factory=dict)
    share_pct: int = 100
    fixed: int | None = None
    buffer: int = 0
    per_location: bool = False

    def feed_mode(self, location: str) -> FeedMode | None:
        if not self.feeds:
            return FeedMode.SHIP
        return self.feeds.get(location)

    def ships_from(self, location: str) -> bool:
        return self.feed_mode(location) is FeedMode.SHIP


def allocate(pool: int, queued: int, alloc: ChannelAllocation) -> int:
    """Channel quantity from the pool of its shipping locations: queue off, then share or
    fixed allocation, then buffer; never negative, never above the pool."""
    after_queue = max(0, pool - queued)
    if alloc.fixed is not None:
        allotted = min(alloc.fixed, after_queue)
    else:
        allotted = after_queue * alloc.share_pct // 100
    return max(0, allotted - alloc.buffer)


def per_location_quantity(location_value: int, alloc: ChannelAllocation) -> int:
    """What a per-location channel (Shopify) shows at one location before the channel's
    aggregate terms: that location's ATP under the channel's share. See
    `per_location_figures` for the queue, fixed allocation and buffer."""
    return location_value * alloc.share_pct // 100


def needs_whole_sku(alloc: ChannelAllocation, queued: int) -> bool:
    """Whether a per-location channel's figures for a SKU can add up to more than the
    channel's total, so that every location of the SKU must be recomputed (with no queue,
    no buffer and no fixed allocation the shares of the parts never exceed the whole)."""
    return alloc.per_location and (queued > 0 or alloc.buffer > 0 or alloc.fixed is not None)


def per_location_figures(values: dict[str, int], alloc: ChannelAllocation, total: int,
                         priority: dict[str, int]) -> dict[str, int]:
    """What a per-location channel shows at each location of one SKU.

    A channel like Shopify sells the sum of its locations, so the shipping locations must
    not add up to more than the channel's total (after the brokering queue, the fixed
    allocation and the buffer), or the channel would sell units that orders waiting in
    the queue, or the buffer, hold back. The excess is taken off the least preferred
    locations first (highest priority number, then code), so the stores and warehouses
    that routing prefers keep showing what they hold. Pickup-only locations keep their
    own figure: they serve pickup in store, not the shipping pool.

    `values` maps each location that feeds the channel to its location ATP.
    """
    shown = {loc: per_location_quantity(v, alloc) for loc, v in values.items()}
    shipping = [loc for loc in shown if alloc.ships_from(loc)]
    excess = sum(shown[loc] for loc in shipping) - total
    if excess > 0:
        for loc in sorted(shipping, key=lambda x: (-priority.get(x, 0), x)):
            cut = min(shown[loc], excess)
            shown[loc] -= cut
            excess -= cut
            if excess <= 0:
                break
    return shown


@dataclass(frozen=True, slots=True)
class LocationTerm:
    location: str
    on_hand: int
    reserved: int
    damaged: int
    quality_control: int
    safety_stock: int
    safety_stock_from: str
    threshold: int
    threshold_from: str
    online_selling: bool
    feed: str | None
    atp: int
    counted: int
    note: str
    #: what a per-location channel shows here, after its queue, allocation and buffer are
    #: spread over its locations (see `per_location_figures`); None for other channels
    shown: int | None = None


@dataclass(frozen=True, slots=True)
class AtpExplanation:
    """"Why is ATP N": every term, per location, then the channel's own terms."""

    sku: str
    channel: str | None
    locations: list[LocationTerm]
    pool: int
    brokering_queue: int
    allocation: str
    buffer: int
    atp: int

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def explain_channel_atp(
    sku: str,
    positions: dict[str, Position],
    rules: list[PolicyRule],
    online: dict[str, bool],
    queued: int,
    alloc: ChannelAllocation | None,
    priority: dict[str, int] | None = None,
) -> AtpExplanation:
    """Recompute a channel's (or, with alloc None, plain online) ATP from scratch, with
    every term. This is also the reference the maintained projection is tested against.
    `priority` (location → priority) orders the spreading of a per-location channel's
    aggregate terms over its locations."""
    channel = alloc.channel if alloc else None
    terms: list[LocationTerm] = []
    pool = 0
    for loc in sorted(positions):
        pos = positions[loc]
        pol = resolve_policy(rules, channel, sku, loc)
        is_online = online.get(loc, True)
        value = location_atp(pos, pol, online_selling=is_online)
        mode = alloc.feed_mode(loc) if alloc else FeedMode.SHIP
        counted = value if mode is FeedMode.SHIP else 0
        if not is_online:
            note = "excluded from online selling"
        elif mode is None:
            note = "does not feed this channel"
        elif mode is FeedMode.PICKUP_ONLY:
            note = "pickup only: counts for Store Mode, not shipping"
        else:
            note = "feeds shipping"
        pool += counted
        terms.append(
            LocationTerm(
                location=loc,
                on_hand=pos.on_hand,
                reserved=pos.reserved,
                damaged=pos.damaged,
                quality_control=pos.quality_control,
                safety_stock=pol.safety_stock,
                safety_stock_from=pol.safety_stock_from,
                threshold=pol.threshold,
                threshold_from=pol.threshold_from,
                online_selling=is_online,
                feed=mode.value if mode else None,
                atp=value,
                counted=counted,
                note=note,
            )
        )
    effective = alloc or ChannelAllocation(channel="online")
    if effective.fixed is not None:
        how = f"fixed allocation of {effective.fixed}"
    else:
        how = f"{effective.share_pct}% share"
    atp = allocate(pool, queued, effective)
    if alloc is not None and alloc.per_location:
        shown = per_location_figures({x.location: x.atp for x in terms if x.feed is not None}, alloc, atp, priority or {})
        terms = [replace(x, shown=shown.get(x.location)) for x in terms]
    return AtpExplanation(
        sku=sku,
        channel=channel,
        locations=terms,
        pool=pool,
        brokering_queue=queued,
        allocation=how,
        buffer=effective.buffer,
        atp=atp,
    )
