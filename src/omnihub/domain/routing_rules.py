"""Routing rules as data: what an operator edits, the API validates and the DB versions.

A rule set is an ordered list of rules. Each rule says which orders it is for (order
filter), which locations may fulfil them (location filter), how to rank the locations that
pass (sort criteria in priority order), how many shipments an order may be split into
(split policy) and what to do when no acceptable allocation exists (fall-back).

Rules are plain frozen dataclasses so the router can read them fast, with `to_dict` /
`from_dict` to store them as JSON. `from_dict` is strict: unknown keys and bad values
raise `RuleValidationError` with the path of the offending field ("rules[2].split.max_shipments"),
because a typo in a stored rule must never silently route orders somewhere unexpected.

An empty collection in a filter means "any": `channels=()` matches every channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from omnihub.domain.catalog import Capability, LocationKind
from omnihub.domain.orders import DeliveryMethod


class RuleValidationError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class SortKey(StrEnum):
    DISTANCE = "distance"  # nearest to the destination first
    FEWEST_SHIPMENTS = "fewest_shipments"  # locations covering more of the order first; split minimises locations
    PRIORITY = "priority"  # Location.priority, lower first
    STOCK_LEVEL = "stock_level"  # most stock of the ordered SKUs first (spreads depletion)
    COST = "cost"  # Location.cost_per_shipment_minor, cheaper first


class SplitMode(StrEnum):
    NO_SPLIT = "no_split"  # one location ships everything, or nothing is allocated
    SPLIT = "split"  # up to `max_shipments` locations (None = unlimited)
    SPLIT_ABOVE_VALUE = "split_above_value"  # split only when order value >= min_order_value_minor


class Fallback(StrEnum):
    NEXT_RULE = "next_rule"  # try the next matching rule
    QUEUE = "queue"  # leave it in the brokering queue; retry later (stock may arrive)
    BACKORDER = "backorder"  # accept it as backordered (waits for replenishment)
    REJECT = "reject"  # refuse the order (the service cancels it or asks an operator)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    channels: frozenset[str] = frozenset()
    delivery_methods: frozenset[DeliveryMethod] = frozenset()
    tags_all: frozenset[str] = frozenset()  # the order must carry every one of these
    tags_none: frozenset[str] = frozenset()  # ...and none of these
    min_order_value_minor: int | None = None
    max_order_value_minor: int | None = None


@dataclass(frozen=True, slots=True)
class LocationFilter:
    kinds: frozenset[LocationKind] = frozenset()
    capabilities: frozenset[Capability] = frozenset()  # all required
    groups: frozenset[str] = frozenset()  # member of at least one
    exclude_groups: frozenset[str] = frozenset()
    max_distance_km: float | None = None
    # Location must have at least this many orders of daily capacity left; None ignores capacity.
    min_capacity_left: int | None = 1
    # Units of each SKU that must stay at the location after allocation (walk-in customers).
    min_stock_left: int = 0


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    mode: SplitMode = SplitMode.NO_SPLIT
    max_shipments: int | None = None
    min_order_value_minor: int | None = None

    def max_locations(self, order_value_minor: int) -> int | None:
        """How many locations may ship this order (None = no limit)."""
        if self.mode is SplitMode.NO_SPLIT:
            return 1
        if self.mode is SplitMode.SPLIT_ABOVE_VALUE and order_value_minor < (
            self.min_order_value_minor or 0
        ):
            return 1
        return self.max_shipments


@dataclass(frozen=True, slots=True)
class RoutingRule:
    name: str
    order_filter: OrderFilter = field(default_factory=OrderFilter)
    location_filter: LocationFilter = field(default_factory=LocationFilter)
    sort: tuple[SortKey, ...] = (SortKey.DISTANCE,)
    split: SplitPolicy = field(default_factory=SplitPolicy)
    fallback: Fallback = Fallback.NEXT_RULE
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class RoutingRuleSet:
    """The ordered rules and what happens when none of them could allocate."""

    rules: tuple[RoutingRule, ...]
    version: int = 1
    # Applies when the last rule falls back to NEXT_RULE or no rule matches.
    final_fallback: Fallback = Fallback.QUEUE

    def __post_init__(self) -> None:
        if self.final_fallback is Fallback.NEXT_RULE:
            raise RuleValidationError("final_fallback", "there is no rule after the last one")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise RuleValidationError("rules", f"rule names must be unique, repeated: {dupes}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "final_fallback": self.final_fallback.value,
            "rules": [rule_to_dict(r) for r in self.rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoutingRuleSet:
        _only(data, {"version", "final_fallback", "rules"}, "")
        rules_raw = data.get("rules", [])
        if not isinstance(rules_raw, list):
            raise RuleValidationError("rules", "must be a list")
        rules = tuple(rule_from_dict(r, f"rules[{i}]") for i, r in enumerate(rules_raw))
        version = data.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise RuleValidationError("version", f"must be a positive integer, got {version!r}")
        return cls(
            rules,
            version=version,
            final_fallback=_enum(Fallback, data.get("final_fallback", "queue"), "final_fallback"),
        )


# --------------------------------------------------------------------------- (de)serialise


def rule_to_dict(rule: RoutingRule) -> dict[str, Any]:
    of, lf, sp = rule.order_filter, rule.location_filter, rule.split
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "order_filter": {
            "channels": sorted(of.channels),
            "delivery_methods": sorted(m.value for m in of.delivery_methods),
            "tags_all": sorted(of.tags_all),
            "tags_none": sorted(of.tags_none),
            "min_order_value_minor": of.min_order_value_minor,
            "max_order_value_minor": of.max_order_value_minor,
        },
        "location_filter": {
            "kinds": sorted(k.value for k in lf.kinds),
            "capabilities": sorted(c.value for c in lf.capabilities),
            "groups": sorted(lf.groups),
            "exclude_groups": sorted(lf.exclude_groups),
            "max_distance_km": lf.max_distance_km,
            "min_capacity_left": lf.min_capacity_left,
            "min_stock_left": lf.min_stock_left,
        },
        "sort": [k.value for k in rule.sort],
        "split": {
            "mode": sp.mode.value,
            "max_shipments": sp.max_shipments,
            "min_order_value_minor": sp.min_order_value_minor,
        },
        "fallback": rule.fallback.value,
    }


def rule_from_dict(data: Any, path: str = "rule") -> RoutingRule:
    if not isinstance(data, Mapping):
        raise RuleValidationError(path, "must be an object")
    _only(data, {"name", "enabled", "order_filter", "location_filter", "sort", "split", "fallback"}, path)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleValidationError(f"{path}.name", "must be a non-empty string")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleValidationError(f"{path}.enabled", "must be true or false")

    of = data.get("order_filter") or {}
    p = f"{path}.order_filter"
    _only(of, {"channels", "delivery_methods", "tags_all", "tags_none",
               "min_order_value_minor", "max_order_value_minor"}, p)
    order_filter = OrderFilter(
        channels=_strings(of.get("channels", []), f"{p}.channels"),
        delivery_methods=frozenset(
            _enum(DeliveryMethod, v, f"{p}.delivery_methods")
            for v in _list(of.get("delivery_methods", []), f"{p}.delivery_methods")
        ),
        tags_all=_strings(of.get("tags_all", []), f"{p}.tags_all"),
        tags_none=_strings(of.get("tags_none", []), f"{p}.tags_none"),
        min_order_value_minor=_opt_int(of.get("min_order_value_minor"), f"{p}.min_order_value_minor", 0),
        max_order_value_minor=_opt_int(of.get("max_order_value_minor"), f"{p}.max_order_value_minor", 0),
    )
    if (
        order_filter.min_order_value_minor is not None
        and order_filter.max_order_value_minor is not None
        and order_filter.min_order_value_minor > order_filter.max_order_value_minor
    ):
        raise RuleValidationError(p, "min_order_value_minor is above max_order_value_minor")

    lf = data.get("location_filter") or {}
    p = f"{path}.location_filter"
    _only(lf, {"kinds", "capabilities", "groups", "exclude_groups", "max_distance_km",
               "min_capacity_left", "min_stock_left"}, p)
    max_km = lf.get("max_distance_km")
    if max_km is not None and (
        isinstance(max_km, bool) or not isinstance(max_km, (int, float)) or max_km < 0
    ):
        raise RuleValidationError(f"{p}.max_distance_km", f"must be a number >= 0, got {max_km!r}")
    location_filter = LocationFilter(
        kinds=frozenset(_enum(LocationKind, v, f"{p}.kinds") for v in _list(lf.get("kinds", []), f"{p}.kinds")),
        capabilities=frozenset(
            _enum(Capability, v, f"{p}.capabilities")
            for v in _list(lf.get("capabilities", []), f"{p}.capabilities")
        ),
        groups=_strings(lf.get("groups", []), f"{p}.groups"),
        exclude_groups=_strings(lf.get("exclude_groups", []), f"{p}.exclude_groups"),
        max_distance_km=None if max_km is None else float(max_km),
        min_capacity_left=_opt_int(lf.get("min_capacity_left", 1), f"{p}.min_capacity_left", 0),
        min_stock_left=_opt_int(lf.get("min_stock_left", 0), f"{p}.min_stock_left", 0) or 0,
    )

    sort_raw = _list(data.get("sort", ["distance"]), f"{path}.sort")
    sort = tuple(_enum(SortKey, v, f"{path}.sort") for v in sort_raw)
    if len(set(sort)) != len(sort):
        raise RuleValidationError(f"{path}.sort", "a sort criterion appears twice")

    sp = data.get("split") or {}
    p = f"{path}.split"
    _only(sp, {"mode", "max_shipments", "min_order_value_minor"}, p)
    split = SplitPolicy(
        mode=_enum(SplitMode, sp.get("mode", "no_split"), f"{p}.mode"),
        max_shipments=_opt_int(sp.get("max_shipments"), f"{p}.max_shipments", 1),
        min_order_value_minor=_opt_int(sp.get("min_order_value_minor"), f"{p}.min_order_value_minor", 0),
    )
    if split.mode is SplitMode.SPLIT_ABOVE_VALUE and split.min_order_value_minor is None:
        raise RuleValidationError(f"{p}.min_order_value_minor", "is required for split_above_value")
    return RoutingRule(
        name=name.strip(),
        order_filter=order_filter,
        location_filter=location_filter,
        sort=sort,
        split=split,
        fallback=_enum(Fallback, data.get("fallback", "next_rule"), f"{path}.fallback"),
        enabled=enabled,
    )


def _only(data: Any, allowed: set[str], path: str) -> None:
    if not isinstance(data, Mapping):
        raise RuleValidationError(path or "(root)", "must be an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RuleValidationError(path or "(root)", f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise RuleValidationError(path, f"must be a list, got {type(value).__name__}")
    return list(value)


def _strings(value: Any, path: str) -> frozenset[str]:
    items = _list(value, path)
    for v in items:
        if not isinstance(v, str) or not v:
            raise RuleValidationError(path, f"must hold non-empty strings, got {v!r}")
    return frozenset(items)


def _enum(enum: type[StrEnum], value: Any, path: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise RuleValidationError(path, f"{value!r} is not one of: {allowed}") from None


def _opt_int(value: Any, path: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleValidationError(path, f"must be an integer >= {minimum}, got {value!r}")
    return value
