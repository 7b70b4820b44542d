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
        _, rows, events = project(channels, online, {"S": rules}, [PositionChange("S", loc, old, new)], pools, {"S": queued}, shown, ["S"])
        for e in events:
            assert e.old == shown.get((e.channel, e.sku, e.location), 0)
        shown.update(rows)
    for c in channels:
        exp = explain_channel_atp("S", current, rules, online, queued, c)
        assert pools[(c.channel, "S")] == exp.pool
        if steps:
            assert shown.get((c.channel, "S", TOTAL), 0) == exp.atp
        assert 0 <= exp.atp <= max(0, sum(max(0, p.on_hand) for p in current.values()))
