"""The maintained projection of what each channel may sell, updated by deltas.

Scanning every location of a SKU on every sale would cost 50 reads per unit sold. Instead
each channel keeps a *pool* per SKU (the sum of `location_atp` over the locations that ship
for it) and every changed position adds the difference between its new and old
contribution. `explain_channel_atp` recomputes the same number from scratch; the property
tests prove the two never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from omnihub.domain.atp import (
    DEFAULT_POLICY,
    ChannelAllocation,
    PolicyRule,
    allocate,
    location_atp,
    per_location_figures,
    per_location_quantity,
    resolve_policy,
)
from omnihub.domain.events import ChannelAvailabilityChanged
from omnihub.domain.ledger import Position

TOTAL = ""  # the location value of a channel's total row


@dataclass(frozen=True, slots=True)
class PositionChange:
    sku: str
    location: str
    old: Position
    new: Position

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, sku: str, location: str, old: Position, new: Position) -> None:
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "location", location)
        object.__setattr__(self, "old", old)
        object.__setattr__(self, "new", new)
    # -- end of the written-out code


def contribution(
    pos: Position, alloc: ChannelAllocation, rules: list[PolicyRule], sku: str, location: str, online: bool
) -> int:
    """What one position adds to a channel's shipping pool."""
    if not alloc.ships_from(location):
        return 0
    return location_atp(pos, resolve_policy(rules, alloc.channel, sku, location), online_selling=online)


def project(
    channels: list[ChannelAllocation],
    online: dict[str, bool],
    rules_by_sku: dict[str, list[PolicyRule]],
    changes: Iterable[PositionChange],
    pools: dict[tuple[str, str], int],
    queued: dict[str, int],
    shown: dict[tuple[str, str, str], int],
    touched_skus: Iterable[str],
    whole: dict[str, dict[str, Position]] | None = None,
    priority: dict[str, int] | None = None,
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str, str], int], list[ChannelAvailabilityChanged]]:
    """Apply position changes to the pools and work out what each channel now shows.

    `pools` maps (channel, sku) → pool and is updated in place; `shown` maps
    (channel, sku, location) → the quantity last published ('' = total). Returns the
    updated pools (only those that changed), the rows of `shown` to write, and one
    ChannelAvailabilityChanged per row whose value moved.

    `whole` holds every position of the SKUs whose per-location figures must be
    recomputed together (see `needs_whole_sku`; `shown` must then hold all their rows):
    there the queue, fixed allocation and buffer are spread over the locations.
    """
    changed_pools: dict[tuple[str, str], int] = {}
    writes: dict[tuple[str, str, str], int] = {}
    for ch in changes:
        rules = rules_by_sku.get(ch.sku)
        is_online = online.get(ch.location, True)
        if not rules:  # most SKUs have no policy rule: one value for every channel
            plain_new = location_atp(ch.new, DEFAULT_POLICY, online_selling=is_online)
            plain_old = location_atp(ch.old, DEFAULT_POLICY, online_selling=is_online)
        for alloc in channels:
            ships = alloc.ships_from(ch.location)
            if not ships and not alloc.per_location:
                continue
            if rules:
                pol = resolve_policy(rules, alloc.channel, ch.sku, ch.location)
                new_v = location_atp(ch.new, pol, online_selling=is_online)
                old_v = location_atp(ch.old, pol, online_selling=is_online)
            else:
                new_v, old_v = plain_new, plain_old
            if ships and old_v != new_v:
                pool = (alloc.channel, ch.sku)
                pools[pool] = pools.get(pool, 0) + new_v - old_v
                changed_pools[pool] = pools[pool]
            if alloc.per_location and alloc.feed_mode(ch.location) is not None:
                writes[(alloc.channel, ch.sku, ch.location)] = per_location_quantity(new_v, alloc)
    for sku in set(touched_skus):
        q = queued.get(sku, 0)
        for alloc in channels:
            writes[(alloc.channel, sku, TOTAL)] = allocate(pools.get((alloc.channel, sku), 0), q, alloc)
    for sku, by_loc in (whole or {}).items():
        rules = rules_by_sku.get(sku)
        for alloc in channels:
            if not alloc.per_location:
                continue
            values = {}
            for loc, pos in by_loc.items():
                if alloc.feed_mode(loc) is None:
                    continue
                pol = resolve_policy(rules, alloc.channel, sku, loc) if rules else DEFAULT_POLICY
                values[loc] = location_atp(pos, pol, online_selling=online.get(loc, True))
            total = writes.get((alloc.channel, sku, TOTAL))
            if total is None:
                total = allocate(pools.get((alloc.channel, sku), 0), queued.get(sku, 0), alloc)
            for loc, v in per_location_figures(values, alloc, total, priority or {}).items():
                writes[(alloc.channel, sku, loc)] = v
    events: list[ChannelAvailabilityChanged] = []
    rows: dict[tuple[str, str, str], int] = {}
    for key, new in writes.items():
        old = shown.get(key, 0)  # no row yet means the channel shows nothing
        if old == new:
            continue
        rows[key] = new
        events.append(ChannelAvailabilityChanged(channel=key[0], sku=key[1], location=key[2], old=old, new=new))
    return changed_pools, rows, events
