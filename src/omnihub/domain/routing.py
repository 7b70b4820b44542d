"""Order routing (brokering): choose the location(s) that fulfil each line of an order.

`route_order` applies the rules of a `RoutingRuleSet` in order. For the first rule whose
order filter matches, every location goes through the location filters; the survivors are
ranked by the rule's sort criteria; a selection honouring the split policy is made; if it
cannot cover the order the rule's fall-back decides (try the next rule, leave the order in
the brokering queue, backorder it, reject it).

Why it is shaped like this:

* Pure and cheap. The router is on the hot path of order ingest (thousands of orders a
  second), so it takes plain mappings (stock per (SKU, location), orders already assigned
  per location today), computes each location's distance and stock once per order and
  reuses them for every rule: O(rules x locations x SKUs) plus sorting, no copies of the
  inputs. Reserving the chosen stock is the caller's job, in the same transaction that
  records the decision; the stock passed in is the ATP per location, already net of
  safety stock and excluded facilities.
* Explainable. Every decision carries a trace: which rules were skipped and why, every
  location considered, the filter that rejected it with the values compared, or its rank
  and sort keys. Operators ask "why did this ship from Denver?"; the decision answers.
* Safe by construction. Each location's usable stock per SKU is `ATP - min_stock_left`
  and selection draws it down as it assigns, so no location is ever assigned more than it
  has, however many lines share a SKU; every demanded unit ends either in an assignment or
  in `unassigned` with a reason.

Delivery methods add implicit filters that no rule can switch off: a location must have
the capability the method needs (express → EXPRESS, same-day → SAME_DAY, pickup →
PICKUP, curbside → CURBSIDE, standard and ship-to-store → SHIP), and for pickup and
curbside it must be the store the customer chose (when one was chosen). Pickup orders are
never split: the customer collects in one place. When the chosen store cannot serve a
pickup order the decision lists the nearest stores that could (`alternatives`), for the
service to offer to the customer.

Only units not yet assigned are routed (`OrderLine.unassigned_quantity`), so the same
function re-routes a queue remainder or the units a store rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations
from typing import Any

from omnihub.domain.catalog import Capability, GeoPoint, Location
from omnihub.domain.orders import DeliveryMethod, Order
from omnihub.domain.routing_rules import (
    Fallback,
    LocationFilter,
    RoutingRule,
    RoutingRuleSet,
    SortKey,
)

StockByLocation = Mapping[tuple[str, int], int]
"""ATP units per (sku, location_id); missing keys mean 0."""

REQUIRED_CAPABILITY: Mapping[DeliveryMethod, Capability] = {
    DeliveryMethod.STANDARD: Capability.SHIP,
    DeliveryMethod.EXPRESS: Capability.EXPRESS,
    DeliveryMethod.SAME_DAY: Capability.SAME_DAY,
    DeliveryMethod.PICKUP_IN_STORE: Capability.PICKUP,
    DeliveryMethod.CURBSIDE: Capability.CURBSIDE,
    DeliveryMethod.SHIP_TO_STORE: Capability.SHIP,
}

_REQUIRED = dict(REQUIRED_CAPABILITY)

#: How many location combinations the exact fewest-shipments search may try before it
#: settles for greedy set cover (which is within a log factor of optimal).
EXACT_COVER_BUDGET = 4000
#: How many alternative pickup stores a decision lists.
PICKUP_ALTERNATIVES = 5


class RoutingOutcome(StrEnum):
    ALLOCATED = "allocated"  # every unit assigned
    PARTIALLY_ALLOCATED = "partially_allocated"  # some assigned, the rest queued or backordered
    QUEUED = "queued"  # nothing assigned; stays in the brokering queue for a retry
    BACKORDERED = "backordered"  # nothing assigned; waits for replenishment
    REJECTED = "rejected"  # nothing assigned; the order cannot be fulfilled under the rules


class Disposition(StrEnum):
    """What happens to units that were not assigned."""

    QUEUED = "queued"
    BACKORDERED = "backordered"
    REJECTED = "rejected"


_DISPOSITION = {
    Fallback.QUEUE: Disposition.QUEUED,
    Fallback.BACKORDER: Disposition.BACKORDERED,
    Fallback.REJECT: Disposition.REJECTED,
}


@dataclass(frozen=True, slots=True)
class Assignment:
    line_id: str
    sku: str
    location_id: int
    quantity: int

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, line_id: str, sku: str, location_id: int, quantity: int) -> None:
        object.__setattr__(self, "line_id", line_id)
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "location_id", location_id)
        object.__setattr__(self, "quantity", quantity)
    # -- end of the written-out code


@dataclass(frozen=True, slots=True)
class Unassigned:
    line_id: str
    sku: str
    quantity: int
    disposition: Disposition
    reason: str

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, line_id: str, sku: str, quantity: int, disposition: Disposition, reason: str) -> None:
        object.__setattr__(self, "line_id", line_id)
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "disposition", disposition)
        object.__setattr__(self, "reason", reason)
    # -- end of the written-out code


@dataclass(frozen=True, slots=True)
class Mismatch:
    """An order filter that did not match: `filter` expected `expected`, the order had `actual`."""

    filter: str
    expected: Any
    actual: Any

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, filter: str, expected: Any, actual: Any) -> None:
        object.__setattr__(self, "filter", filter)
        object.__setattr__(self, "expected", expected)
        object.__setattr__(self, "actual", actual)
    # -- end of the written-out code


@dataclass(frozen=True, slots=True)
class LocationRejection:
    location_id: int
    filter: str
    expected: Any
    actual: Any

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, location_id: int, filter: str, expected: Any, actual: Any) -> None:
        object.__setattr__(self, "location_id", location_id)
        object.__setattr__(self, "filter", filter)
        object.__setattr__(self, "expected", expected)
        object.__setattr__(self, "actual", actual)
    # -- end of the written-out code


@dataclass(frozen=True, slots=True)
class RankedLocation:
    location_id: int
    rank: int  # 1 = best
    sort_keys: tuple[tuple[str, Any], ...]
    distance_km: float | None
    usable: tuple[tuple[str, int], ...]  # (sku, units usable after min_stock_left)


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """What one rule made of the order.

    The ranking is captured as raw facts (location, sort key, distance, usable units) and
    turned into `RankedLocation`s only when someone reads `ranked`: routing runs thousands
    of times a second, explanations are read far less often.
    """

    rule: str
    matched: bool
    mismatches: tuple[Mismatch, ...] = ()
    rejected: tuple[LocationRejection, ...] = ()
    ranked_facts: tuple[tuple[int, tuple, float | None, list[int]], ...] = ()
    skus: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    selected: tuple[int, ...] = ()
    max_shipments: int | None = None
    result: str = ""

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        rule: str,
        matched: bool,
        mismatches: tuple[Mismatch, ...] = (),
        rejected: tuple[LocationRejection, ...] = (),
        ranked_facts: tuple[tuple[int, tuple, float | None, list[int]], ...] = (),
        skus: tuple[str, ...] = (),
        sort: tuple[SortKey, ...] = (),
        selected: tuple[int, ...] = (),
        max_shipments: int | None = None,
        result: str = "",
    ) -> None:
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "matched", matched)
        object.__setattr__(self, "mismatches", mismatches)
        object.__setattr__(self, "rejected", rejected)
        object.__setattr__(self, "ranked_facts", ranked_facts)
        object.__setattr__(self, "skus", skus)
        object.__setattr__(self, "sort", sort)
        object.__setattr__(self, "selected", selected)
        object.__setattr__(self, "max_shipments", max_shipments)
        object.__setattr__(self, "result", result)
    # -- end of the written-out code

    @property
    def ranked(self) -> tuple[RankedLocation, ...]:
        return tuple(
            RankedLocation(
                loc_id, i + 1, _trace_keys(key, self.sort),
                None if dist is None else round(dist, 3), tuple(zip(self.skus, usable)),
            )
            for i, (loc_id, key, dist, usable) in enumerate(self.ranked_facts)
        )


@dataclass(frozen=True, slots=True)
class PickupAlternative:
    """A store that could serve the whole pickup order instead of the chosen one."""

    location_id: int
    distance_km: float | None  # from the chosen store (or the customer when no store was chosen)
    available: tuple[tuple[str, int], ...]

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(self, location_id: int, distance_km: float | None, available: tuple[tuple[str, int], ...]) -> None:
        object.__setattr__(self, "location_id", location_id)
        object.__setattr__(self, "distance_km", distance_km)
        object.__setattr__(self, "available", available)
    # -- end of the written-out code


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    order_key: tuple[str, str]
    rules_version: int
    outcome: RoutingOutcome
    rule: str | None  # the rule whose result was taken (None: final fall-back)
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    trace: tuple[RuleTrace, ...]
    alternatives: tuple[PickupAlternative, ...] = ()

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        order_key: tuple[str, str],
        rules_version: int,
        outcome: RoutingOutcome,
        rule: str | None,
        assignments: tuple[Assignment, ...],
        unassigned: tuple[Unassigned, ...],
        trace: tuple[RuleTrace, ...],
        alternatives: tuple[PickupAlternative, ...] = (),
    ) -> None:
        object.__setattr__(self, "order_key", order_key)
        object.__setattr__(self, "rules_version", rules_version)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "assignments", assignments)
        object.__setattr__(self, "unassigned", unassigned)
        object.__setattr__(self, "trace", trace)
        object.__setattr__(self, "alternatives", alternatives)
    # -- end of the written-out code

    @property
    def locations(self) -> tuple[int, ...]:
        """Distinct fulfilling locations, in the order they were chosen."""
        return tuple(dict.fromkeys(a.location_id for a in self.assignments))

    @property
    def shipments(self) -> int:
        return len(self.locations)

    def units_by_location(self) -> dict[tuple[str, int], int]:
        """Units to reserve per (sku, location_id)."""
        out: dict[tuple[str, int], int] = {}
        for a in self.assignments:
            k = (a.sku, a.location_id)
            out[k] = out.get(k, 0) + a.quantity
        return out

    def to_dict(self, *, ranking: bool = True, rejections: bool = True) -> dict[str, Any]:
        """JSON-ready record of the decision and its full explanation."""
        return {
            "order": {"channel": self.order_key[0], "external_id": self.order_key[1]},
            "rules_version": self.rules_version,
            "outcome": self.outcome.value,
            "rule": self.rule,
            "assignments": [
                {"line_id": a.line_id, "sku": a.sku, "location_id": a.location_id, "quantity": a.quantity}
                for a in self.assignments
            ],
            "unassigned": [
                {"line_id": u.line_id, "sku": u.sku, "quantity": u.quantity,
                 "disposition": u.disposition.value, "reason": u.reason}
                for u in self.unassigned
            ],
            "alternatives": [
                {"location_id": a.location_id, "distance_km": a.distance_km, "available": dict(a.available)}
                for a in self.alternatives
            ],
            "trace": [
                {
                    "rule": t.rule,
                    "matched": t.matched,
                    "mismatches": [_jsonable(m.filter, m.expected, m.actual) for m in t.mismatches],
                    "rejected": [
                        {"location_id": r.location_id, **_jsonable(r.filter, r.expected, r.actual)}
                        for r in t.rejected
                    ] if rejections else None,
                    "ranked": [
                        {"location_id": r.location_id, "rank": r.rank, "sort_keys": dict(r.sort_keys),
                         "distance_km": r.distance_km, "usable": dict(r.usable)}
                        for r in t.ranked
                    ] if ranking else None,
                    "selected": list(t.selected),
                    "max_shipments": t.max_shipments,
                    "result": t.result,
                }
                for t in self.trace
            ],
        }

    def to_record(self) -> dict[str, Any]:
        """What is stored for the decision: `to_dict` with each rule's ranking kept as the
        raw facts (location, raw sort key, km, usable units per SKU) in one list. An order
        considers up to every location, and building an operator-readable entry for each
        at write time cost a tenth of the order pipeline; `expand_record` renders them
        when someone reads the order. Rejections likewise: one row per location, values
        left as they are (orjson writes dicts and tuples itself; only sets need sorting)."""
        out = self.to_dict(ranking=False, rejections=False)
        for entry, t in zip(out["trace"], self.trace):
            entry["rejected"] = {"rows": [[r.location_id, r.filter, _plain(r.expected), _plain(r.actual)]
                                          for r in t.rejected]}
            entry["ranked"] = {
                "sort": [k.value for k in t.sort], "skus": list(t.skus),
                "rows": [[loc_id, list(key[: len(t.sort)]), dist, usable] for loc_id, key, dist, usable in t.ranked_facts],
            }
        return out


def expand_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stored decision (`to_record`) in the shape of `to_dict`; records stored in that
    shape already pass through unchanged."""
    for entry in record.get("trace", ()):
        rejected = entry.get("rejected")
        if isinstance(rejected, dict):
            entry["rejected"] = [{"location_id": loc_id, **_jsonable(name, expected, actual)}
                                 for loc_id, name, expected, actual in rejected["rows"]]
        ranked = entry.get("ranked")
        if not isinstance(ranked, dict):
            continue
        keys = [SortKey(k) for k in ranked["sort"]]
        entry["ranked"] = [
            {"location_id": loc_id, "rank": i + 1,
             "sort_keys": dict(_trace_keys(tuple(_INF if v is None else v for v in key), keys)),
             "distance_km": None if dist is None else round(dist, 3), "usable": dict(zip(ranked["skus"], usable))}
            for i, (loc_id, key, dist, usable) in enumerate(ranked["rows"])
        ]
    return record


def _plain(v: Any) -> Any:
    """A filter's value as `_jsonable` shows it, built only where orjson cannot write it
    as it is: sets and tuples become sorted lists; dicts pass through untouched."""
    if isinstance(v, (frozenset, set, tuple)):
        return sorted(_plain(x) for x in v)
    return v


def _jsonable(name: str, expected: Any, actual: Any) -> dict[str, Any]:
    return {"filter": name, "expected": _jsonable_value(expected), "actual": _jsonable_value(actual)}


def _jsonable_value(v: Any) -> Any:
    """As `_plain`, and dicts with text keys. A module function, not a closure inside
    `_jsonable`: a recursive closure and its environment (compiled) or cell (CPython)
    refer to each other, a reference cycle per call that only the garbage collector
    frees (about two calls per order routed: 10,648 cyclic objects per 3,000 orders, and
    with them collections that paused every thread for up to 35 ms)."""
    if isinstance(v, dict):
        return {str(k): _jsonable_value(x) for k, x in v.items()}
    return _plain(v)


# --------------------------------------------------------------------------- order side


def order_mismatches(order: Order, rule: RoutingRule, order_value_minor: int) -> list[Mismatch]:
    """Why a rule's order filter does not match this order (empty list: it matches)."""
    f = rule.order_filter
    out: list[Mismatch] = []
    if f.channels and order.channel not in f.channels:
        out.append(Mismatch("channel", f.channels, order.channel))
    if f.delivery_methods and order.delivery_method not in f.delivery_methods:
        out.append(Mismatch("delivery_method", frozenset(m.value for m in f.delivery_methods),
                            order.delivery_method.value))
    if f.tags_all and not f.tags_all <= order.tags:
        out.append(Mismatch("tags_all", f.tags_all, order.tags))
    if f.tags_none and f.tags_none & order.tags:
        out.append(Mismatch("tags_none", f.tags_none, order.tags))
    if f.min_order_value_minor is not None and order_value_minor < f.min_order_value_minor:
        out.append(Mismatch("min_order_value", f.min_order_value_minor, order_value_minor))
    if f.max_order_value_minor is not None and order_value_minor > f.max_order_value_minor:
        out.append(Mismatch("max_order_value", f.max_order_value_minor, order_value_minor))
    return out


# --------------------------------------------------------------------------- location side


class _Site:
    """A location as this order sees it, computed once per order. A plain class, not a
    dataclass: one is built per location per order, and a compiled core builds a plain
    class's instances natively where a dataclass's `__init__` stays interpreted."""

    __slots__ = ("loc", "distance", "raw", "capacity_left")

    def __init__(self, loc: Location, distance: float | None, raw: tuple[int, ...], capacity_left: int | None) -> None:
        self.loc = loc
        self.distance = distance
        self.raw = raw  # ATP per demanded SKU, in `skus` order
        self.capacity_left = capacity_left


def location_rejection(
    site: _Site, lf: LocationFilter, method: DeliveryMethod, pickup_location_id: int | None
) -> LocationRejection | None:
    """The first filter that excludes the location, or None. Stock is checked separately."""
    loc = site.loc
    need = _REQUIRED[method]
    if need not in loc.capabilities:
        return LocationRejection(loc.id, "delivery_method_capability", need.value,
                                 frozenset(c.value for c in loc.capabilities))
    if method.is_pickup and pickup_location_id is not None and loc.id != pickup_location_id:
        return LocationRejection(loc.id, "pickup_location", pickup_location_id, loc.id)
    if lf.kinds and loc.kind not in lf.kinds:
        return LocationRejection(loc.id, "kind", frozenset(k.value for k in lf.kinds), loc.kind.value)
    if lf.capabilities and not lf.capabilities <= loc.capabilities:
        return LocationRejection(loc.id, "capability", frozenset(c.value for c in lf.capabilities),
                                 frozenset(c.value for c in loc.capabilities))
    if lf.groups and not lf.groups & loc.groups:
        return LocationRejection(loc.id, "group", lf.groups, loc.groups)
    if lf.exclude_groups and lf.exclude_groups & loc.groups:
        return LocationRejection(loc.id, "exclude_group", lf.exclude_groups, loc.groups)
    if lf.max_distance_km is not None and (site.distance is None or site.distance > lf.max_distance_km):
        return LocationRejection(
            loc.id, "max_distance_km", lf.max_distance_km,
            None if site.distance is None else round(site.distance, 1),
        )
    if (
        lf.min_capacity_left is not None
        and site.capacity_left is not None
        and site.capacity_left < lf.min_capacity_left
    ):
        return LocationRejection(loc.id, "daily_capacity_left", lf.min_capacity_left, site.capacity_left)
    return None


def reference_point(order: Order, locations: Mapping[int, Location]) -> GeoPoint | None:
    """Where distances are measured from: the chosen store for pickup and ship-to-store
    (the customer picked that neighbourhood), else the shipping address."""
    if order.delivery_method in (
        DeliveryMethod.PICKUP_IN_STORE, DeliveryMethod.CURBSIDE, DeliveryMethod.SHIP_TO_STORE
    ) and order.pickup_location_id is not None:
        store = locations.get(order.pickup_location_id)
        if store is not None and store.geo is not None:
            return store.geo
    return order.destination


# --------------------------------------------------------------------------- the router


def route_order(
    order: Order,
    rules: RoutingRuleSet | Sequence[RoutingRule],
    locations: Iterable[Location] | Mapping[int, Location],
    stock: StockByLocation,
    capacity_used: Mapping[int, int] | None = None,
) -> RoutingDecision:
    """Route the order's unassigned units. Pure: reserve what the decision assigns.

    The units to route (`_demand`) and each location as the order sees it (`_sites`);
    then rule by rule, the locations its filters let serve (`_rule_candidates`), ranked
    and drawn from (`_allocate_under`). The first rule that allocates every unit
    decides; otherwise its own fall-back, or the rule set's, concludes (`_conclude`)."""
    ruleset = rules if isinstance(rules, RoutingRuleSet) else RoutingRuleSet(tuple(rules))
    locs: Mapping[int, Location] = (
        locations if isinstance(locations, Mapping) else {loc.id: loc for loc in locations}
    )
    demand_lines, skus, sku_index, need = _demand(order)
    if not demand_lines:
        return RoutingDecision(order.key, ruleset.version, RoutingOutcome.ALLOCATED, None, (), (),
                               (RuleTrace("(none)", False, result="nothing to route"),))
    total_need = sum(need)
    skus_t = tuple(skus)
    sites = _sites(order, locs, stock, capacity_used or {}, skus)

    # Most locations hold none of an order's SKUs: their rejections share these (read-only)
    # maps instead of building two dicts each, per rule.
    needed = dict(zip(skus, need))
    nothing_held = dict.fromkeys(skus, 0)
    value = order.order_value.amount_minor
    method = order.delivery_method
    is_pickup = method.is_pickup
    traces: list[RuleTrace] = []
    held_partial: tuple[RoutingRule, list[Assignment], list[int]] | None = None
    first_matched: RoutingRule | None = None

    for rule in ruleset.rules:
        if not rule.enabled:
            traces.append(RuleTrace(rule.name, False, result="disabled"))
            continue
        mism = order_mismatches(order, rule, value)
        if mism:
            traces.append(RuleTrace(rule.name, False, tuple(mism), result="order filter did not match"))
            continue
        if first_matched is None:
            first_matched = rule
        candidates, rejected = _rule_candidates(sites, rule.location_filter, method, order.pickup_location_id,
                                                skus, needed, nothing_held)
        max_locs = 1 if is_pickup else rule.split.max_locations(value)
        keyed, ranked, assignments, selected = _allocate_under(rule, candidates, need, max_locs, demand_lines, sku_index)
        assigned = sum(a.quantity for a in assignments)
        ranked_facts = tuple((s.loc.id, key, s.distance, u) for key, s, u in keyed)

        if assigned == total_need:
            traces.append(RuleTrace(rule.name, True, (), tuple(rejected), ranked_facts, skus_t, rule.sort, selected,
                                    max_locs, "allocated"))
            return RoutingDecision(order.key, ruleset.version, RoutingOutcome.ALLOCATED, rule.name,
                                   tuple(assignments), (), tuple(traces))

        why = _shortfall_reason(rule, ranked, need, skus, max_locs)
        fb = rule.fallback
        if fb is Fallback.NEXT_RULE:
            traces.append(RuleTrace(rule.name, True, (), tuple(rejected), ranked_facts, skus_t, rule.sort, selected,
                                    max_locs, f"{why}; trying the next rule"))
            if assignments and held_partial is None:
                held_partial = (rule, assignments, need)
            continue
        traces.append(RuleTrace(rule.name, True, (), tuple(rejected), ranked_facts, skus_t, rule.sort, selected,
                                max_locs, f"{why}; fall-back {fb.value}"))
        return _conclude(order, ruleset, rule.name, fb, assignments if fb is not Fallback.REJECT else [],
                         demand_lines, why, traces, locs, sites, skus, need, first_matched)

    # No rule allocated everything: the rule set's final fall-back decides.
    fb = ruleset.final_fallback
    if held_partial is not None and fb is not Fallback.REJECT:
        rule, assignments, _ = held_partial
        why = "no rule could allocate every unit; keeping the first partial allocation"
        return _conclude(order, ruleset, rule.name, fb, assignments, demand_lines, why, traces,
                         locs, sites, skus, need, first_matched)
    why = "no rule matched the order" if first_matched is None else "no rule could allocate the order"
    return _conclude(order, ruleset, None, fb, [], demand_lines, why, traces, locs, sites, skus,
                     need, first_matched)


def _demand(order: Order) -> tuple[list[tuple[str, str, int]], list[str], dict[str, int], list[int]]:
    """What to route: the unassigned open units per line (line id, SKU, units), the
    SKUs in line order, each SKU's index in that list and its units."""
    demand_lines: list[tuple[str, str, int]] = []
    if not order.cancelled:
        for line in order.lines:
            q = line.unassigned_quantity
            if q > 0:
                demand_lines.append((line.line_id, line.sku, q))
    skus: list[str] = list(dict.fromkeys(sku for _, sku, _ in demand_lines))
    sku_index = {s: i for i, s in enumerate(skus)}
    need = [0] * len(skus)
    for _, sku, q in demand_lines:
        need[sku_index[sku]] += q
    return demand_lines, skus, sku_index, need


def _sites(order: Order, locs: Mapping[int, Location], stock: StockByLocation, capacity_used: Mapping[int, int],
           skus: list[str]) -> list[_Site]:
    """Every location as this order sees it: its distance, its ATP of each SKU, the
    orders its daily capacity still takes."""
    point = reference_point(order, locs)
    sites: list[_Site] = []
    get = stock.get
    for loc in locs.values():
        dist = point.distance_km(loc.geo) if point is not None and loc.geo is not None else None
        lid = loc.id
        raw = tuple([get((s, lid), 0) for s in skus])
        cap = (
            None if loc.daily_order_capacity is None
            else loc.daily_order_capacity - capacity_used.get(loc.id, 0)
        )
        sites.append(_Site(loc, dist, raw, cap))
    return sites


def _rule_candidates(sites: list[_Site], lf: LocationFilter, method: DeliveryMethod, pickup_id: int | None,
                     skus: list[str], needed: dict[str, int], nothing_held: dict[str, int],
                     ) -> tuple[list[tuple[_Site, list[int]]], list[LocationRejection]]:
    """The locations a rule's filters let serve, with the units each can give of every
    SKU (above the rule's `min_stock_left`); and why each other location cannot."""
    rejected: list[LocationRejection] = []
    candidates: list[tuple[_Site, list[int]]] = []
    keep = lf.min_stock_left
    for site in sites:
        rej = location_rejection(site, lf, method, pickup_id)
        if rej is None:
            # every SKU in `skus` is demanded, so any usable unit is useful
            usable = [r - keep if r > keep else 0 for r in site.raw] if keep else list(site.raw)
            if not any(usable):
                held = dict(zip(skus, site.raw)) if any(site.raw) else nothing_held
                if keep and held is not nothing_held:
                    rej = LocationRejection(site.loc.id, "min_stock_left", lf.min_stock_left, held)
                else:
                    rej = LocationRejection(site.loc.id, "stock", needed, held)
            else:
                candidates.append((site, usable))
        if rej is not None:
            rejected.append(rej)
    return candidates, rejected


def _allocate_under(rule: RoutingRule, candidates: list[tuple[_Site, list[int]]], need: list[int], max_locs: int | None,
                    demand_lines: list[tuple[str, str, int]], sku_index: dict[str, int],
                    ) -> tuple[list[tuple[tuple, _Site, list[int]]], list[tuple[_Site, list[int]]],
                               list[Assignment], tuple[int, ...]]:
    """Under one rule: the candidates ranked by its sort (with their keys), at most
    `max_locs` of them chosen (its split policy), the units drawn from them line by
    line, and the locations that gave any."""
    keyed = sorted(
        ((_sort_key(site, usable, need, rule.sort), site, usable) for site, usable in candidates),
        key=_first,
    )
    ranked = [(site, usable) for _, site, usable in keyed]
    chosen = _select(ranked, need, max_locs, SortKey.FEWEST_SHIPMENTS in rule.sort)
    assignments = _assign(chosen, demand_lines, sku_index)
    used = {a.location_id for a in assignments}
    selected = tuple(s.loc.id for s, _ in chosen if s.loc.id in used)
    return keyed, ranked, assignments, selected


def _first(item: tuple) -> tuple:
    return item[0]


def _sort_key(site: _Site, usable: list[int], need: list[int], keys: Sequence[SortKey]) -> tuple:
    """Smaller is better, criterion by criterion; the location id breaks ties."""
    out: list[Any] = []
    for k in keys:
        if k is SortKey.DISTANCE:
            out.append(_INF if site.distance is None else site.distance)
        elif k is SortKey.FEWEST_SHIPMENTS:
            covered = 0
            for u, n in zip(usable, need):
                covered += u if u < n else n
            out.append(-covered)
        elif k is SortKey.PRIORITY:
            out.append(site.loc.priority)
        elif k is SortKey.STOCK_LEVEL:
            out.append(-sum(usable))
        else:  # SortKey.COST
            out.append(site.loc.cost_per_shipment_minor)
    out.append(site.loc.id)
    return tuple(out)


_INF = float("inf")


def _trace_keys(key: tuple, keys: Sequence[SortKey]) -> tuple[tuple[str, Any], ...]:
    """The sort key as an operator reads it: km, units covered, units held, priority, cost."""
    out = []
    for k, v in zip(keys, key):
        if k is SortKey.DISTANCE:
            v = None if v == _INF else round(v, 3)
        elif k in (SortKey.FEWEST_SHIPMENTS, SortKey.STOCK_LEVEL):
            v = -v
        out.append((k.value, v))
    return tuple(out)


def _covers(usables: Iterable[list[int]], need: list[int]) -> bool:
    tot = [0] * len(need)
    for u in usables:
        for i, x in enumerate(u):
            tot[i] += x
    return all(t >= n for t, n in zip(tot, need))


def _select(
    ranked: list[tuple[_Site, list[int]]],
    need: list[int],
    max_locs: int | None,
    fewest: bool,
) -> list[tuple[_Site, list[int]]]:
    """Pick the locations to draw from, best first, honouring the split limit.

    * one location allowed: the best-ranked one that holds everything, else none;
    * fewest shipments: the smallest set that covers the order (exact search over ranked
      combinations within a budget, the first found is the best-ranked; greedy cover
      after that), capped at `max_locs`;
    * otherwise: walk the ranking, taking every location that still adds units.
    """
    if not ranked:
        return []
    for site, usable in ranked:
        if all(u >= n for u, n in zip(usable, need)):
            return [(site, usable)]  # one location holds it all: never split needlessly
    if max_locs == 1:
        return []
    limit = len(ranked) if max_locs is None else min(max_locs, len(ranked))
    if fewest:
        budget = EXACT_COVER_BUDGET
        for k in range(2, limit + 1):
            for combo in combinations(range(len(ranked)), k):
                budget -= 1
                if budget < 0:
                    break
                if _covers((ranked[i][1] for i in combo), need):
                    return [ranked[i] for i in combo]
            if budget < 0:
                break
        return _greedy_cover(ranked, need, limit)
    chosen: list[tuple[_Site, list[int]]] = []
    remaining = list(need)
    for site, usable in ranked:
        if len(chosen) >= limit:
            break
        if any(r and u for r, u in zip(remaining, usable)):
            chosen.append((site, usable))
            remaining = [max(0, r - u) for r, u in zip(remaining, usable)]
            if not any(remaining):
                break
    return chosen


def _greedy_cover(ranked, need: list[int], limit: int):
    remaining = list(need)
    picked: list[int] = []
    pool = list(range(len(ranked)))
    while pool and len(picked) < limit and any(remaining):
        best_i, best_gain = -1, 0
        for i in pool:  # pool is in rank order, so ties keep the better-ranked location
            gain = sum(min(r, u) for r, u in zip(remaining, ranked[i][1]))
            if gain > best_gain:
                best_i, best_gain = i, gain
        if best_gain == 0:
            break
        pool.remove(best_i)
        picked.append(best_i)
        remaining = [max(0, r - u) for r, u in zip(remaining, ranked[best_i][1])]
    return [ranked[i] for i in sorted(picked)]


def _assign(chosen, demand_lines: list[tuple[str, str, int]], sku_index: Mapping[str, int]) -> list[Assignment]:
    """Draw units line by line from the chosen locations, never beyond their usable stock."""
    if not chosen:
        return []
    left = [list(usable) for _, usable in chosen]
    out: list[Assignment] = []
    for line_id, sku, q in demand_lines:
        i = sku_index[sku]
        for (site, _), pool in zip(chosen, left):
            if q == 0:
                break
            take = pool[i] if pool[i] < q else q
            if take > 0:
                pool[i] -= take
                q -= take
                out.append(Assignment(line_id, sku, site.loc.id, take))
    return out


def _shortfall_reason(rule: RoutingRule, ranked, need: list[int], skus: list[str],
                      max_locs: int | None) -> str:
    if not ranked:
        return f"rule {rule.name!r}: no location passed the filters"
    totals = [sum(u[i] for _, u in ranked) for i in range(len(need))]
    short = [f"{s} needs {n}, eligible locations hold {t}" for s, n, t in zip(skus, need, totals) if t < n]
    if short:
        return f"rule {rule.name!r}: not enough stock ({'; '.join(short)})"
    if max_locs == 1:
        return f"rule {rule.name!r}: no single eligible location holds the whole order"
    return f"rule {rule.name!r}: the order cannot be covered within {max_locs} shipments"


def _conclude(order, ruleset, rule_name, fb: Fallback, assignments: list[Assignment], demand_lines,
              why: str, traces, locs, sites, skus, need, first_matched) -> RoutingDecision:
    disposition = _DISPOSITION[fb]
    got: dict[str, int] = {}
    for a in assignments:
        got[a.line_id] = got.get(a.line_id, 0) + a.quantity
    unassigned = tuple(
        Unassigned(line_id, sku, q - got.get(line_id, 0), disposition, why)
        for line_id, sku, q in demand_lines
        if q - got.get(line_id, 0) > 0
    )
    if assignments:
        outcome = RoutingOutcome.PARTIALLY_ALLOCATED
    else:
        outcome = {
            Disposition.QUEUED: RoutingOutcome.QUEUED,
            Disposition.BACKORDERED: RoutingOutcome.BACKORDERED,
            Disposition.REJECTED: RoutingOutcome.REJECTED,
        }[disposition]
    alternatives: tuple[PickupAlternative, ...] = ()
    if order.delivery_method.is_pickup:
        alternatives = pickup_alternatives(order, sites, skus, need, first_matched)
    return RoutingDecision(order.key, ruleset.version, outcome, rule_name, tuple(assignments),
                           unassigned, tuple(traces), alternatives)


def pickup_alternatives(order: Order, sites: list[_Site], skus: list[str], need: list[int],
                        rule: RoutingRule | None) -> tuple[PickupAlternative, ...]:
    """The nearest stores, other than the chosen one, that could serve the whole pickup order
    under the rule's location filters (or no filters when no rule matched)."""
    lf = rule.location_filter if rule is not None else LocationFilter()
    out = []
    for site in sites:
        if site.loc.id == order.pickup_location_id:
            continue
        if location_rejection(site, lf, order.delivery_method, None) is not None:
            continue
        usable = [r - lf.min_stock_left if r > lf.min_stock_left else 0 for r in site.raw]
        if all(u >= n for u, n in zip(usable, need)):
            out.append(PickupAlternative(
                site.loc.id, None if site.distance is None else round(site.distance, 3),
                tuple(zip(skus, usable)),
            ))
    out.sort(key=lambda a: (float("inf") if a.distance_km is None else a.distance_km, a.location_id))
    return tuple(out[:PICKUP_ALTERNATIVES])
