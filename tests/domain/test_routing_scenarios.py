"""Routing told as stories: Given the network and its stock, When an order is routed, Then..."""

from __future__ import annotations

import json

import pytest

from omnihub.domain.catalog import LocationKind
from omnihub.domain.orders import DeliveryMethod, with_assignments
from omnihub.domain.routing import Disposition, RoutingOutcome, route_order
from omnihub.domain.routing_rules import (
    Fallback,
    LocationFilter,
    OrderFilter,
    RoutingRule,
    RoutingRuleSet,
    SortKey,
    SplitMode,
    SplitPolicy,
)

from order_builders import (
    BROOKLYN, CURBSIDE, EXPRESS, JERSEY_CITY, MANHATTAN, NEWARK_NJ, PHILADELPHIA, PICKUP, SHIP,
    STAMFORD, line, order, store, warehouse,
)

PICKUP_RULE = RoutingRule(
    "pickup at the chosen store",
    order_filter=OrderFilter(delivery_methods=frozenset({DeliveryMethod.PICKUP_IN_STORE, DeliveryMethod.CURBSIDE})),
    fallback=Fallback.REJECT,
)
EXPRESS_RULE = RoutingRule(
    "express from the nearest complete location",
    order_filter=OrderFilter(delivery_methods=frozenset({DeliveryMethod.EXPRESS})),
    sort=(SortKey.DISTANCE,),
    split=SplitPolicy(SplitMode.NO_SPLIT),
    fallback=Fallback.QUEUE,
)
SHIP_RULE = RoutingRule(
    "ship, fewest parcels, nearest",
    sort=(SortKey.FEWEST_SHIPMENTS, SortKey.DISTANCE),
    split=SplitPolicy(SplitMode.SPLIT, max_shipments=3),
    fallback=Fallback.BACKORDER,
)


def test_given_the_chosen_store_is_out_of_stock_when_a_bopis_order_is_routed_then_the_nearest_stores_that_can_are_offered():
    """BOPIS: the customer chose Manhattan, which has none. The order is not silently moved:
    it is rejected under the rule and the decision lists the stores that hold the whole
    basket, nearest to the chosen store first."""
    manhattan = store(1, MANHATTAN, SHIP, PICKUP)
    jersey = store(2, JERSEY_CITY, SHIP, PICKUP)
    brooklyn = store(3, BROOKLYN, SHIP, PICKUP)
    philly = store(4, PHILADELPHIA, SHIP, PICKUP)
    only_half = store(5, NEWARK_NJ, SHIP, PICKUP)
    wh = warehouse(9, STAMFORD)  # no pickup counter: never an alternative
    stock = {("TENT", 2): 3, ("TENT", 3): 1, ("TENT", 4): 5, ("TENT", 5): 1, ("TENT", 9): 50,
             ("STOVE", 2): 1, ("STOVE", 3): 1, ("STOVE", 4): 1, ("STOVE", 9): 50}
    o = order(line("1", "TENT", 1), line("2", "STOVE", 1), method=DeliveryMethod.PICKUP_IN_STORE,
              pickup_location_id=1)

    d = route_order(o, [PICKUP_RULE, SHIP_RULE], [manhattan, jersey, brooklyn, philly, only_half, wh], stock)

    assert d.outcome is RoutingOutcome.REJECTED
    assert d.assignments == ()
    assert [a.location_id for a in d.alternatives] == [2, 3, 4]  # Jersey City ~5 km, Brooklyn ~8 km, Philadelphia
    distances = [a.distance_km for a in d.alternatives]
    assert distances == sorted(distances)
    assert dict(d.alternatives[0].available) == {"TENT": 3, "STOVE": 1}
    # The explanation says why Manhattan could not: it has no stock.
    rejected = {r.location_id: r.filter for r in d.trace[0].rejected}
    assert rejected[1] == "stock"
    assert rejected[2] == "pickup_location"
    assert rejected[9] == "delivery_method_capability"
    assert {u.line_id for u in d.unassigned} == {"1", "2"}


def test_given_the_chosen_store_has_the_basket_when_a_bopis_order_is_routed_then_it_is_allocated_there():
    manhattan = store(1, MANHATTAN, SHIP, PICKUP)
    brooklyn = store(3, BROOKLYN, SHIP, PICKUP)
    o = order(line("1", "TENT", 2), method=DeliveryMethod.PICKUP_IN_STORE, pickup_location_id=3)
    d = route_order(o, [PICKUP_RULE], [manhattan, brooklyn], {("TENT", 1): 9, ("TENT", 3): 2})
    assert d.outcome is RoutingOutcome.ALLOCATED
    assert [(a.location_id, a.quantity) for a in d.assignments] == [(3, 2)]
    assert d.alternatives == ()


def test_given_several_locations_when_an_express_order_arrives_then_the_nearest_that_holds_every_line_and_ships_express_wins():
    """Manhattan is nearest but holds one of two lines; Brooklyn holds both but has no
    express carrier; Jersey City holds both and ships express: Jersey City it is, in one
    parcel, though Stamford (further) holds more."""
    manhattan = store(1, MANHATTAN, SHIP, EXPRESS)
    brooklyn = store(2, BROOKLYN, SHIP)
    jersey = store(3, JERSEY_CITY, SHIP, EXPRESS)
    stamford = warehouse(4, STAMFORD, SHIP, EXPRESS)
    stock = {("JACKET", 1): 5, ("JACKET", 2): 5, ("BOOTS", 2): 5, ("JACKET", 3): 1, ("BOOTS", 3): 1,
             ("JACKET", 4): 100, ("BOOTS", 4): 100}
    o = order(line("1", "JACKET", 1), line("2", "BOOTS", 1), to=MANHATTAN, method=DeliveryMethod.EXPRESS)

    d = route_order(o, [EXPRESS_RULE, SHIP_RULE], [manhattan, brooklyn, jersey, stamford], stock)

    assert d.outcome is RoutingOutcome.ALLOCATED and d.rule == EXPRESS_RULE.name
    assert d.locations == (3,)
    why = {r.location_id: (r.filter, r.expected) for r in d.trace[0].rejected}
    assert why[2] == ("delivery_method_capability", "express")
    ranked = [r.location_id for r in d.trace[0].ranked]
    assert ranked[0] == 1  # nearest, but incomplete, so passed over
    assert 3 in ranked and 4 in ranked


def test_given_no_single_location_holds_the_order_when_splitting_is_allowed_then_a_warehouse_and_a_store_share_it():
    wh = warehouse(1, NEWARK_NJ)
    shop = store(2, BROOKLYN)
    stock = {("TENT", 1): 10, ("LANTERN", 2): 4}
    o = order(line("1", "TENT", 2), line("2", "LANTERN", 3))
    d = route_order(o, [SHIP_RULE], [wh, shop], stock)
    assert d.outcome is RoutingOutcome.ALLOCATED
    assert sorted((a.line_id, a.location_id, a.quantity) for a in d.assignments) == [("1", 1, 2), ("2", 2, 3)]
    assert d.shipments == 2
    assert d.units_by_location() == {("TENT", 1): 2, ("LANTERN", 2): 3}


def test_given_a_pos_sale_of_an_item_the_store_does_not_hold_when_routed_then_it_ships_from_elsewhere_endless_aisle():
    """Endless aisle: a customer in the Brooklyn store buys boots it does not stock; the
    POS rule sends it to the warehouses (cheapest first) to ship to the customer's home."""
    brooklyn = store(2, BROOKLYN)
    cheap = warehouse(5, PHILADELPHIA, cost_per_shipment_minor=450)
    dear = warehouse(6, STAMFORD, cost_per_shipment_minor=900)
    pos_rule = RoutingRule(
        "endless aisle from warehouses",
        order_filter=OrderFilter(channels=frozenset({"shopify_pos"})),
        location_filter=LocationFilter(kinds=frozenset({LocationKind.WAREHOUSE})),
        sort=(SortKey.COST, SortKey.DISTANCE),
        fallback=Fallback.BACKORDER,
    )
    o = order(line("1", "BOOTS", 1), channel="shopify_pos", origin_location_id=2, to=BROOKLYN)
    d = route_order(o, [pos_rule, SHIP_RULE], [brooklyn, cheap, dear], {("BOOTS", 5): 2, ("BOOTS", 6): 8})
    assert d.outcome is RoutingOutcome.ALLOCATED and d.rule == pos_rule.name
    assert d.locations == (5,)
    assert {r.location_id: r.filter for r in d.trace[0].rejected} == {2: "kind"}
    assert dict(d.trace[0].ranked[0].sort_keys) == {"cost": 450, "distance": pytest.approx(d.trace[0].ranked[0].distance_km)}


def test_given_a_store_holds_its_last_units_when_min_stock_left_is_set_then_they_stay_for_walk_in_customers():
    """Brooklyn has 2 lanterns, the rule keeps 2 on the shelf: the online order goes to
    the warehouse although Brooklyn is nearer."""
    brooklyn = store(2, BROOKLYN)
    wh = warehouse(5, PHILADELPHIA)
    keep_two = RoutingRule("ship from store, keep two", location_filter=LocationFilter(min_stock_left=2),
                           split=SplitPolicy(SplitMode.NO_SPLIT), fallback=Fallback.QUEUE)
    o = order(line("1", "LANTERN", 1), to=BROOKLYN)
    d = route_order(o, [keep_two], [brooklyn, wh], {("LANTERN", 2): 2, ("LANTERN", 5): 10})
    assert d.locations == (5,)
    assert {r.location_id: (r.filter, r.expected) for r in d.trace[0].rejected} == {2: ("min_stock_left", 2)}

    # With the warehouse empty too, the order waits in the queue and says why.
    d2 = route_order(o, [keep_two], [brooklyn, wh], {("LANTERN", 2): 2})
    assert d2.outcome is RoutingOutcome.QUEUED
    assert d2.unassigned[0].quantity == 1 and d2.unassigned[0].disposition is Disposition.QUEUED
    assert "no location passed the filters" in d2.unassigned[0].reason

    # A third lantern arrives in Brooklyn: one may go, two stay.
    d3 = route_order(o, [keep_two], [brooklyn, wh], {("LANTERN", 2): 3})
    assert d3.locations == (2,)


def test_given_a_curbside_order_when_the_chosen_store_has_no_curbside_bay_then_only_curbside_stores_are_offered():
    no_bay = store(1, MANHATTAN, SHIP, PICKUP)
    bay = store(2, JERSEY_CITY, SHIP, PICKUP, CURBSIDE)
    far_bay = store(3, PHILADELPHIA, SHIP, PICKUP, CURBSIDE)
    stock = {("TENT", 1): 5, ("TENT", 2): 5, ("TENT", 3): 5}
    o = order(line("1", "TENT", 1), method=DeliveryMethod.CURBSIDE, pickup_location_id=1)
    d = route_order(o, [PICKUP_RULE], [no_bay, bay, far_bay], stock)
    assert d.outcome is RoutingOutcome.REJECTED
    assert d.trace[0].rejected[0].filter == "delivery_method_capability"
    assert [a.location_id for a in d.alternatives] == [2, 3]

    ok = order(line("1", "TENT", 1), method=DeliveryMethod.CURBSIDE, pickup_location_id=2)
    d = route_order(ok, [PICKUP_RULE], [no_bay, bay, far_bay], stock)
    assert d.outcome is RoutingOutcome.ALLOCATED and d.locations == (2,)


def test_given_a_store_at_its_daily_capacity_when_routing_then_it_is_skipped_and_the_explanation_says_so():
    shop = store(2, BROOKLYN, daily_order_capacity=20)
    wh = warehouse(5, PHILADELPHIA)
    o = order(line("1", "TENT", 1), to=BROOKLYN)
    d = route_order(o, [SHIP_RULE], [shop, wh], {("TENT", 2): 5, ("TENT", 5): 5}, capacity_used={2: 20})
    assert d.locations == (5,)
    rej = d.trace[0].rejected[0]
    assert (rej.location_id, rej.filter, rej.expected, rej.actual) == (2, "daily_capacity_left", 1, 0)


def test_given_rules_for_other_orders_when_routing_then_the_trace_says_why_each_was_skipped():
    amazon_only = RoutingRule("amazon prime", order_filter=OrderFilter(
        channels=frozenset({"amazon_seller"}), min_order_value_minor=50_000, tags_none=frozenset({"gift"})))
    o = order(line("1", "TENT", 1, price=2000), tags=frozenset({"gift"}))
    d = route_order(o, [amazon_only, SHIP_RULE], [warehouse(5, NEWARK_NJ)], {("TENT", 5): 1})
    assert d.rule == SHIP_RULE.name
    skipped = d.trace[0]
    assert not skipped.matched
    assert {m.filter for m in skipped.mismatches} == {"channel", "min_order_value", "tags_none"}
    json.dumps(d.to_dict())  # the whole explanation is storable as JSON


def test_given_fewest_shipments_when_two_locations_suffice_then_three_are_never_used():
    """Nearest-first greedy would take Manhattan (A), Jersey (B) and Newark (C); the
    fewest-shipments rule finds Stamford (A+B) and Newark (C)."""
    locs = [store(1, MANHATTAN), store(2, JERSEY_CITY), warehouse(3, NEWARK_NJ), warehouse(4, STAMFORD)]
    stock = {("A", 1): 1, ("B", 2): 1, ("C", 3): 1, ("A", 4): 1, ("B", 4): 1}
    o = order(line("1", "A", 1), line("2", "B", 1), line("3", "C", 1))
    nearest = RoutingRule("nearest", sort=(SortKey.DISTANCE,), split=SplitPolicy(SplitMode.SPLIT))
    assert route_order(o, [nearest], locs, stock).shipments == 3
    d = route_order(o, [SHIP_RULE], locs, stock)
    assert d.outcome is RoutingOutcome.ALLOCATED
    assert sorted(d.locations) == [3, 4]


def test_given_split_at_most_two_when_three_locations_are_needed_then_two_ship_and_the_rest_waits():
    locs = [store(1, MANHATTAN), store(2, JERSEY_CITY), warehouse(3, NEWARK_NJ)]
    stock = {("A", 1): 1, ("B", 2): 1, ("C", 3): 1}
    rule = RoutingRule("two parcels max", sort=(SortKey.DISTANCE,),
                       split=SplitPolicy(SplitMode.SPLIT, max_shipments=2), fallback=Fallback.QUEUE)
    o = order(line("1", "A", 1), line("2", "B", 1), line("3", "C", 1))
    d = route_order(o, [rule], locs, stock)
    assert d.outcome is RoutingOutcome.PARTIALLY_ALLOCATED
    assert d.shipments == 2
    assert [(u.line_id, u.quantity, u.disposition) for u in d.unassigned] == [("3", 1, Disposition.QUEUED)]

    # Later, the remainder is routed on its own (the first two lines are assigned by then).
    assigned = with_assignments(o, d.assignments)
    d2 = route_order(assigned, [rule], locs, {("C", 3): 1})
    assert d2.outcome is RoutingOutcome.ALLOCATED
    assert [(a.line_id, a.location_id) for a in d2.assignments] == [("3", 3)]


def test_given_split_only_above_a_value_when_a_cheap_order_needs_two_locations_then_it_is_not_split():
    locs = [store(1, MANHATTAN), warehouse(3, NEWARK_NJ)]
    stock = {("A", 1): 1, ("B", 3): 1}
    rule = RoutingRule("split big orders", split=SplitPolicy(SplitMode.SPLIT_ABOVE_VALUE, min_order_value_minor=10_000),
                       fallback=Fallback.BACKORDER)
    cheap = order(line("1", "A", 1, price=1000), line("2", "B", 1, price=1000))
    d = route_order(cheap, [rule], locs, stock)
    assert d.outcome is RoutingOutcome.BACKORDERED and d.shipments == 0
    assert "no single eligible location" in d.unassigned[0].reason
    dear = order(line("1", "A", 1, price=9000), line("2", "B", 1, price=9000))
    assert route_order(dear, [rule], locs, stock).shipments == 2


def test_given_two_lines_of_one_sku_when_a_location_holds_only_enough_for_one_then_it_is_never_over_assigned():
    locs = [store(1, MANHATTAN), warehouse(3, NEWARK_NJ)]
    stock = {("A", 1): 3, ("A", 3): 3}
    o = order(line("1", "A", 2), line("2", "A", 2))
    d = route_order(o, [SHIP_RULE], locs, stock)
    assert d.outcome is RoutingOutcome.ALLOCATED
    per_loc = d.units_by_location()
    assert all(per_loc[k] <= stock[k] for k in per_loc)
    assert sum(per_loc.values()) == 4


def test_given_a_rule_set_falls_through_when_nothing_matches_then_the_final_fallback_applies():
    rs = RoutingRuleSet((EXPRESS_RULE,), version=7, final_fallback=Fallback.BACKORDER)
    d = route_order(order(line("1", "A", 1)), rs, [warehouse(3, NEWARK_NJ)], {("A", 3): 1})
    assert d.outcome is RoutingOutcome.BACKORDERED and d.rule is None and d.rules_version == 7
    assert d.unassigned[0].reason == "no rule matched the order"
