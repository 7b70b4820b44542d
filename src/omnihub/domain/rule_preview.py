"""The effect of a rule before it is saved: what each channel may sell of a few SKUs
before → after, and how recent orders would route under the edited rules, beside how
they did route and how the rules in force would route them today.

Pure, and built from the engine's own functions (atp.explain_channel_atp,
atp.location_atp, routing.route_order): a preview is the hub's decision under other
rules, never a model of it. Nothing here writes, so a preview is safe for anyone who may
read the rules.

The replay routes each order alone, afresh (every open unit, its assignments set aside),
against the stock of now with the units it holds itself given back, and without the
locations' daily capacity (the days those orders counted against are gone). "Under the
rules in force" is the same replay with the rules as they are: the difference between
it and the edited replay is the edit's own effect, while the difference from how the
order did route also holds what the stock did since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from omnihub.domain.atp import ChannelAllocation, PolicyRule, explain_channel_atp, location_atp, resolve_policy
from omnihub.domain.catalog import Location
from omnihub.domain.ledger import Position
from omnihub.domain.orders import INACTIVE_ASSIGNMENT_STATES, RELEASABLE_ASSIGNMENT_STATES, Order, copy_line, copy_order
from omnihub.domain.routing import route_order
from omnihub.domain.routing_rules import RoutingRuleSet


# --------------------------------------------------------------------------- the edits


def with_policy(rules: Sequence[PolicyRule], edit: PolicyRule) -> list[PolicyRule]:
    """The policy rules after saving `edit`: it replaces the rule of the same scope
    (channel, SKU, location); both of its numbers empty removes that rule (as
    CatalogService.set_policy does)."""
    scope = (edit.channel, edit.sku, edit.location)
    kept = [r for r in rules if (r.channel, r.sku, r.location) != scope]
    if edit.safety_stock is not None or edit.threshold is not None:
        kept.append(edit)
    return kept


def with_allocation(channels: Sequence[ChannelAllocation], code: str, *, share_pct: int, fixed: int | None,
                    buffer: int) -> list[ChannelAllocation]:
    """The channels' allocations with `code`'s share, fixed allocation and buffer edited."""
    return [replace(c, share_pct=share_pct, fixed=fixed, buffer=buffer) if c.channel == code else c for c in channels]


# --------------------------------------------------------------------------- ATP


@dataclass(frozen=True, slots=True)
class AtpChange:
    sku: str
    channel: str  # a channel's code, or "online" for every ship location
    before: int
    after: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


def atp_before_after(sku: str, positions: dict[str, Position], rules_before: list[PolicyRule],
                     rules_after: list[PolicyRule], online: dict[str, bool], queued: int,
                     channels_before: Sequence[ChannelAllocation], channels_after: Sequence[ChannelAllocation],
                     priority: dict[str, int] | None = None) -> list[AtpChange]:
    """The SKU's online ATP and each channel's, under the rules now and the edited ones
    (`channels_after` in the same order as `channels_before`)."""
    out = [AtpChange(sku, "online", explain_channel_atp(sku, positions, rules_before, online, queued, None).atp,
                     explain_channel_atp(sku, positions, rules_after, online, queued, None).atp)]
    for was, now in zip(channels_before, channels_after):
        out.append(AtpChange(
            sku, was.channel, explain_channel_atp(sku, positions, rules_before, online, queued, was, priority).atp,
            explain_channel_atp(sku, positions, rules_after, online, queued, now, priority).atp))
    return out


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an order's units go: (SKU, location id, units), sorted; and how it ended."""

    outcome: str
    rule: str | None
    units: tuple[tuple[str, int, int], ...]


def placed(order: Order) -> Placement:
    """How the order did route: its assignments that still hold units (any state but
    rejected, cancelled, returned)."""
    units: dict[tuple[str, int], int] = {}
    for line in order.lines:
        for a in line.assignments:
            if a.state not in INACTIVE_ASSIGNMENT_STATES:
                units[(line.sku, a.location_id)] = units.get((line.sku, a.location_id), 0) + a.quantity
    wanted = sum(line.open_quantity for line in order.lines)
    got = sum(units.values())
    outcome = "allocated" if got >= wanted and got else ("partially_allocated" if got else "not placed")
    return Placement(outcome, None, tuple(sorted((s, lid, n) for (s, lid), n in units.items())))


def _own(order: Order) -> dict[tuple[str, int], int]:
    """Units the order holds on shelves (reserved, picked, packed), by (SKU, location id)."""
    own: dict[tuple[str, int], int] = {}
    for line in order.lines:
        for a in line.assignments:
            if a.state in RELEASABLE_ASSIGNMENT_STATES:
                own[(line.sku, a.location_id)] = own.get((line.sku, a.location_id), 0) + a.quantity
    return own


def _stock(order: Order, positions: Mapping[str, Mapping[int, Position]], policies: Mapping[str, list[PolicyRule]],
           code_of: Mapping[int, str], online: Mapping[str, bool]) -> dict[tuple[str, int], int]:
    """ATP per (SKU, location id) for the order's SKUs, with what it holds given back."""
    own = _own(order)
    stock: dict[tuple[str, int], int] = {}
    for sku in {line.sku for line in order.lines}:
        rules = policies.get(sku, [])
        for lid, pos in positions.get(sku, {}).items():
            code = code_of.get(lid)
            if code is None:
                continue
            back = own.get((sku, lid), 0)
            if back:
                pos = pos._replace(reserved=pos.reserved - back)
            stock[(sku, lid)] = location_atp(pos, resolve_policy(rules, None, sku, code),
                                             online_selling=online.get(code, True))
    return stock


def route_afresh(order: Order, rules: RoutingRuleSet, locations: Mapping[int, Location],
                 stock: Mapping[tuple[str, int], int]) -> Placement:
    """The order routed as if it came in now: every open unit, no assignment kept."""
    fresh = copy_order(order, lines=tuple(copy_line(line, ()) for line in order.lines))
    candidates = {lid for _, lid in stock}
    for lid in (order.pickup_location_id, order.origin_location_id):
        if lid is not None:
            candidates.add(lid)
    decision = route_order(fresh, rules, {lid: locations[lid] for lid in candidates if lid in locations}, stock)
    units = decision.units_by_location()
    return Placement(decision.outcome.value, decision.rule, tuple(sorted((s, lid, n) for (s, lid), n in units.items())))


@dataclass(frozen=True, slots=True)
class ReplayedOrder:
    order_id: int
    did: Placement
    now: Placement  # under the rules in force, today's stock
    edited: Placement  # under the edited rules, today's stock

    @property
    def changed_by_edit(self) -> bool:
        return (self.edited.units, self.edited.outcome) != (self.now.units, self.now.outcome)

    @property
    def differs_from_did(self) -> bool:
        return self.edited.units != self.did.units


@dataclass(frozen=True, slots=True)
class RoutingReplay:
    orders: list[ReplayedOrder]

    @property
    def changed_by_edit(self) -> int:
        return sum(o.changed_by_edit for o in self.orders)

    @property
    def differs_from_did(self) -> int:
        return sum(o.differs_from_did for o in self.orders)

    def examples(self, n: int = 10) -> list[ReplayedOrder]:
        """Orders the edit moves first, then those that would route otherwise than they did."""
        moved = [o for o in self.orders if o.changed_by_edit]
        other = [o for o in self.orders if o.differs_from_did and not o.changed_by_edit]
        return (moved + other)[:n]


def replay(orders: Sequence[Order], rules_now: RoutingRuleSet, rules_edited: RoutingRuleSet,
           locations: Mapping[int, Location], positions: Mapping[str, Mapping[int, Position]],
           policies_now: Mapping[str, list[PolicyRule]], policies_edited: Mapping[str, list[PolicyRule]],
           code_of: Mapping[int, str], online: Mapping[str, bool]) -> RoutingReplay:
    """Each order under the rules in force and under the edited ones (see the module's
    docstring). `positions` by SKU, then location id; `policies_*` the policy rules that
    can apply to each SKU."""
    out = []
    for order in orders:
        stock_now = _stock(order, positions, policies_now, code_of, online)
        now = route_afresh(order, rules_now, locations, stock_now)
        stock_edited = stock_now if policies_edited is policies_now else \
            _stock(order, positions, policies_edited, code_of, online)
        if rules_edited is rules_now and stock_edited == stock_now:
            edited = now  # the edit changes nothing this order sees: the router would say the same
        else:
            edited = route_afresh(order, rules_edited, locations, stock_edited)
        out.append(ReplayedOrder(order.id or 0, placed(order), now, edited))
    return RoutingReplay(out)
