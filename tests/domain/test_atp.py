"""ATP: the formula, policy resolution, allocation, and the maintained projection proven
equal to a recomputation from scratch."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from omnihub.domain.atp import (
    ChannelAllocation,
    FeedMode,
    PolicyRule,
    allocate,
    explain_channel_atp,
    location_atp,
    needs_whole_sku,
    per_location_figures,
    per_location_quantity,
    resolve_policy,
)
from omnihub.domain.channel_projection import TOTAL, PositionChange, project
from omnihub.domain.ledger import Position


def test_formula_subtracts_every_term_and_floors_at_zero():
    pos = Position(on_hand=20, reserved=3, damaged=2, quality_control=1)
    pol = resolve_policy([PolicyRule(safety_stock=4, threshold=5)], None, "A", "L")
    assert location_atp(pos, pol) == 20 - 3 - 2 - 1 - 4 - 5
    assert location_atp(Position(on_hand=3), pol) == 0
    assert location_atp(pos, pol, online_selling=False) == 0


def test_most_specific_policy_wins_per_field():
    rules = [
        PolicyRule(location="L", safety_stock=5, threshold=1),
        PolicyRule(sku="A", safety_stock=3),
        PolicyRule(sku="A", location="L", safety_stock=2),
        PolicyRule(channel="amazon", threshold=7),
        PolicyRule(channel="amazon", sku="A", location="L", safety_stock=9),
    ]
    p = resolve_policy(rules, None, "A", "L")
    assert (p.safety_stock, p.safety_stock_from) == (2, "sku=A, location=L")
    assert (p.threshold, p.threshold_from) == (1, "location=L")
    p = resolve_policy(rules, "amazon", "A", "L")
    assert (p.safety_stock, p.threshold) == (9, 7)
    p = resolve_policy(rules, None, "B", "M")
    assert (p.safety_stock, p.threshold, p.safety_stock_from) == (0, 0, "default")


def test_allocation_share_fixed_buffer_and_queue():
    assert allocate(100, 10, ChannelAllocation("c", share_pct=50)) == 45
    assert allocate(100, 10, ChannelAllocation("c", fixed=20, buffer=5)) == 15
    assert allocate(10, 30, ChannelAllocation("c")) == 0
    assert allocate(3, 0, ChannelAllocation("c", buffer=5)) == 0


def test_explanation_lists_each_term_and_pickup_only_does_not_ship():
    positions = {"WH": Position(on_hand=10, reserved=2), "ST": Position(on_hand=6), "OUT": Position(on_hand=50)}
    alloc = ChannelAllocation("shop", feeds={"WH": FeedMode.SHIP, "ST": FeedMode.PICKUP_ONLY, "OUT": FeedMode.SHIP}, buffer=1)
    exp = explain_channel_atp("A", positions, [PolicyRule(location="WH", safety_stock=3)], {"OUT": False}, 2, alloc)
    terms = {t.location: t for t in exp.locations}
    assert terms["WH"].atp == 5 and terms["WH"].counted == 5 and terms["WH"].safety_stock_from == "location=WH"
    assert terms["ST"].atp == 6 and terms["ST"].counted == 0 and "pickup only" in terms["ST"].note
    assert terms["OUT"].atp == 0 and "excluded" in terms["OUT"].note
    assert (exp.pool, exp.brokering_queue, exp.atp) == (5, 2, 2)


positions_st = st.builds(
    lambda on_hand, r, d, q: Position(on_hand=on_hand, reserved=r, damaged=d, quality_control=q),
    st.integers(-3, 40), st.integers(0, 10), st.integers(0, 5), st.integers(0, 5),
)
LOCS = ["L1", "L2", "L3", "L4"]


@settings(max_examples=200)
@given(
    initial=st.dictionaries(st.sampled_from(LOCS), positions_st, min_size=1),
    steps=st.lists(st.tuples(st.sampled_from(LOCS), positions_st), max_size=12),
    queued=st.integers(0, 20),
    rules=st.lists(st.builds(PolicyRule, channel=st.sampled_from([None, "a", "b"]), location=st.sampled_from([None, *LOCS]),
                             safety_stock=st.one_of(st.none(), st.integers(0, 5)), threshold=st.one_of(st.none(), st.integers(0, 3))), max_size=4),
    share=st.integers(0, 100),
    feeds=st.dictionaries(st.sampled_from(LOCS), st.sampled_from(list(FeedMode)), max_size=4),
    online=st.dictionaries(st.sampled_from(LOCS), st.booleans()),
)
def test_projection_by_deltas_equals_recomputation(initial, steps, queued, rules, share, feeds, online):
    channels = [ChannelAllocation("a", feeds=feeds, share_pct=share), ChannelAllocation("b", per_location=True, buffer=1)]
    current = dict(initial)
    pools = {(c.channel, "S"): explain_channel_atp("S", current, rules, online, 0, c).pool for c in channels}
    shown: dict = {}
    for loc, new in steps:
        old = current.get(loc, Position())
        current[loc] = new
        _, rows, events = project(channels, online, {"S": rules}, [PositionChange("S", loc, old, new)], pools, {"S": queued}, shown, ["S"],
                                  whole={"S": dict(current)}, priority={"L1": 1, "L2": 2})
        for e in events:
            assert e.old == shown.get((e.channel, e.sku, e.location), 0)
        shown.update(rows)
    for c in channels:
        exp = explain_channel_atp("S", current, rules, online, queued, c)
        assert pools[(c.channel, "S")] == exp.pool
        if steps:
            assert shown.get((c.channel, "S", TOTAL), 0) == exp.atp
        assert 0 <= exp.atp <= max(0, sum(max(0, p.on_hand) for p in current.values()))
    # The per-location channel's shipping locations never add up to more than its total
    # (queue and buffer spread over them), and no location shows more than its own ATP.
    b = channels[1]
    if steps:
        total = shown.get(("b", "S", TOTAL), 0)
        figures = {loc: shown.get(("b", "S", loc), 0) for loc in current}
        assert sum(figures.values()) <= total
        for loc, pos in current.items():
            own = location_atp(pos, resolve_policy(rules, "b", "S", loc), online_selling=online.get(loc, True))
            assert 0 <= figures[loc] <= per_location_quantity(own, b)


@settings(max_examples=300)
@given(
    values=st.dictionaries(st.sampled_from(LOCS), st.integers(0, 30), min_size=1),
    total=st.integers(0, 80),
    share=st.integers(0, 100),
    feeds=st.dictionaries(st.sampled_from(LOCS), st.sampled_from(list(FeedMode)), max_size=4),
    priority=st.dictionaries(st.sampled_from(LOCS), st.integers(0, 5)),
)
def test_per_location_figures_add_up_to_at_most_the_total(values, total, share, feeds, priority):
    alloc = ChannelAllocation("shop", feeds=feeds, share_pct=share, per_location=True)
    values = {loc: v for loc, v in values.items() if alloc.feed_mode(loc) is not None}
    figures = per_location_figures(values, alloc, total, priority)
    assert figures.keys() == values.keys()
    ships = [loc for loc in values if alloc.ships_from(loc)]
    before = {loc: per_location_quantity(v, alloc) for loc, v in values.items()}
    assert sum(figures[loc] for loc in ships) == min(total, sum(before[loc] for loc in ships))
    for loc in values:
        assert 0 <= figures[loc] <= before[loc]
        if not alloc.ships_from(loc):
            assert figures[loc] == before[loc]  # pickup only: its own figure, for pickup
    # The least preferred locations give up their units first.
    cut = [loc for loc in ships if figures[loc] < before[loc]]
    kept = [loc for loc in ships if figures[loc] > 0]
    for c in cut:
        for k in kept:
            if k != c:
                assert (-priority.get(c, 0), c) <= (-priority.get(k, 0), k)


def test_a_per_location_channel_needs_the_whole_sku_only_with_a_queue_buffer_or_fixed():
    plain = ChannelAllocation("shop", per_location=True)
    assert not needs_whole_sku(plain, 0)
    assert needs_whole_sku(plain, 3)
    assert needs_whole_sku(ChannelAllocation("shop", per_location=True, buffer=2), 0)
    assert needs_whole_sku(ChannelAllocation("shop", per_location=True, fixed=10), 0)
    assert not needs_whole_sku(ChannelAllocation("amazon", buffer=2), 5)  # aggregate channel
