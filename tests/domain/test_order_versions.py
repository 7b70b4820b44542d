"""Channel versions of one order: newer wins, older changes nothing, the diff is exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnihub.domain.orders import (
    Address,
    AssignmentState,
    Money,
    Order,
    OrderLine,
    VersionVerdict,
    apply_newer_version,
    with_assignments,
)
from omnihub.domain.order_states import OrderState
from omnihub.domain.routing import Assignment

from order_builders import BROOKLYN, MANHATTAN, T0, line, minutes, order


def assigned(o: Order, *items: tuple[str, int, int]) -> Order:
    return with_assignments(o, [Assignment(line_id, o.line(line_id).sku, loc, q) for line_id, loc, q in items])


def test_given_a_routed_order_when_the_channel_cancels_part_of_a_line_then_exactly_those_units_are_released():
    """5 tents ordered: 3 reserved in Brooklyn (store 7), 2 still queued. The customer
    cancels 3: the 2 queued go first, then 1 of Brooklyn's reservation; the stoves are
    untouched and the order keeps its hub id, state and the trimmed assignment."""
    v1 = order(line("t", "TENT", 5), line("s", "STOVE", 2))
    v1 = replace(assigned(v1, ("t", 7, 3), ("s", 7, 2)), id=42, state=OrderState.PARTLY_ALLOCATED)
    v2 = order(line("t", "TENT", 5, cancelled_quantity=3), line("s", "STOVE", 2), at=T0 + minutes(5))

    out = apply_newer_version(v1, v2)

    assert out.diff.verdict is VersionVerdict.UPDATED
    assert out.diff.units_released == {"t": 3}
    assert out.diff.units_added == {}
    (change,) = out.diff.line_changes
    assert (change.released_from_queue, change.released_from_locations) == (2, ((7, 1),))
    assert out.diff.partly_cancelled and not out.diff.cancelled
    assert out.order.id == 42 and out.order.state is OrderState.PARTLY_ALLOCATED
    assert out.order.line("t").assigned_quantity == 2 and out.order.line("t").open_quantity == 2
    assert out.order.line("s").assigned_quantity == 2


def test_given_a_late_older_version_when_it_arrives_then_nothing_changes():
    v1 = order(line("t", "TENT", 1))
    v2 = order(line("t", "TENT", 3), at=T0 + minutes(1))
    current = apply_newer_version(apply_newer_version(None, v1).order, v2).order
    out = apply_newer_version(current, v1)
    assert out.diff.verdict is VersionVerdict.STALE and out.order is current and not out.diff.changed
    dup = apply_newer_version(current, v2)
    assert dup.diff.verdict is VersionVerdict.DUPLICATE and dup.diff.line_changes == ()


def test_given_a_newer_version_saying_the_same_then_only_the_version_moves_on():
    """A routed order sent again with a later stamp (and a placed-at the client left to the
    hub): UNCHANGED, the hub's order with only the newer version, nothing to do; a real edit
    later still keeps when the order was placed."""
    v1 = replace(assigned(order(line("t", "TENT", 2), to=MANHATTAN), ("t", 7, 2)), id=5, state=OrderState.ALLOCATED,
                 placed_at=T0)
    again = replace(order(line("t", "TENT", 2), to=MANHATTAN, at=T0 + minutes(3)), placed_at=T0 + minutes(3))
    out = apply_newer_version(v1, again)
    assert out.diff.verdict is VersionVerdict.UNCHANGED and not out.diff.changed and out.diff.line_changes == ()
    assert out.order == replace(v1, channel_updated_at=T0 + minutes(3))
    edit = replace(order(line("t", "TENT", 3), to=MANHATTAN, at=T0 + minutes(9)), placed_at=T0 + minutes(9))
    out = apply_newer_version(out.order, edit)
    assert out.diff.verdict is VersionVerdict.UPDATED and out.diff.units_added == {"t": 1}
    assert out.order.placed_at == T0
    assert apply_newer_version(v1, replace(again, notes="leave at the door")).diff.verdict is VersionVerdict.UPDATED


def test_given_a_new_order_then_every_open_unit_joins_the_queue():
    out = apply_newer_version(None, order(line("a", "A", 3, cancelled_quantity=1), line("b", "B", 1)))
    assert out.diff.verdict is VersionVerdict.NEW
    assert out.diff.units_added == {"a": 2, "b": 1}


def test_given_an_edit_that_adds_and_removes_lines_and_moves_the_address_then_the_diff_says_so():
    v1 = assigned(order(line("a", "A", 2), line("b", "B", 1), to=MANHATTAN), ("b", 3, 1))
    v2 = order(line("a", "A", 4), line("c", "C", 1), to=BROOKLYN, at=T0 + minutes(2))
    out = apply_newer_version(v1, v2)
    assert out.diff.units_added == {"a": 2, "c": 1}
    assert out.diff.units_released == {"b": 1}
    assert next(c for c in out.diff.line_changes if c.line_id == "b").released_from_locations == ((3, 1),)
    assert out.diff.address_changed and out.diff.needs_rerouting
    assert [ln.line_id for ln in out.order.lines] == ["a", "c"]


def test_given_a_shipped_line_when_the_channel_cancels_the_order_then_shipped_units_are_reported_unreleasable():
    v1 = order(line("a", "A", 3))
    v1 = with_assignments(v1, [Assignment("a", "A", 5, 2)])
    shipped = replace(v1.line("a").assignments[0], state=AssignmentState.SHIPPED)
    v1 = replace(v1, lines=(replace(v1.line("a"), assignments=(shipped,)),))
    v2 = replace(order(line("a", "A", 3), at=T0 + minutes(9)), cancelled=True)
    out = apply_newer_version(v1, v2)
    (c,) = out.diff.line_changes
    assert (c.released_from_queue, c.released_from_locations, c.unreleasable) == (1, (), 2)
    assert out.diff.cancelled and not out.diff.partly_cancelled
    assert out.order.line("a").assignments == (shipped,)
    assert out.order.order_value == Money(0, "USD")


def test_given_a_cancelled_order_when_a_newer_version_reopens_it_then_it_stays_cancelled_and_is_flagged():
    """Shopify and Amazon cannot un-cancel: the newer version is recorded, no unit comes back
    (the state machine could never route it) and an operator sees why."""
    v1 = replace(order(line("a", "A", 2)), cancelled=True, state=OrderState.CANCELLED)
    v2 = order(line("a", "A", 2), line("b", "B", 1), at=T0 + minutes(1))
    out = apply_newer_version(v1, v2)
    assert out.diff.reopened_after_cancel and out.diff.line_changes == () and out.diff.units_added == {}
    assert out.order.cancelled and out.order.state is OrderState.CANCELLED
    assert out.order.holds == ("reopened_after_cancel",) and out.order.channel_updated_at == v2.channel_updated_at
    assert out.order.units_by_sku() == {}
    # A hub cancellation of every unit (not flagged `cancelled`) is as final.
    cut = replace(order(line("a", "A", 2)), lines=(line("a", "A", 2, cancelled_quantity=2),), state=OrderState.CANCELLED)
    out = apply_newer_version(cut, v2)
    assert out.diff.reopened_after_cancel and out.diff.units_added == {} and out.order.cancelled


def test_versions_of_different_orders_are_refused_and_assignments_cannot_exceed_open_units():
    with pytest.raises(ValueError, match="different orders"):
        apply_newer_version(order(line("a", "A", 1)), order(line("a", "A", 1), external_id="2", at=T0 + minutes(1)))
    with pytest.raises(ValueError, match="only 1 open"):
        assigned(order(line("a", "A", 1)), ("a", 1, 2))


def test_order_validation_messages():
    with pytest.raises(ValueError, match="timezone-aware"):
        order(line("a", "A", 1), at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="repeats"):
        order(line("a", "A", 1), line("a", "B", 1))
    with pytest.raises(ValueError, match="cancelled quantity"):
        line("a", "A", 1, cancelled_quantity=2)
    with pytest.raises(ValueError, match="ISO 4217"):
        order(line("a", "A", 1), currency="usd")


# --------------------------------------------------------------------------- property

LINE_IDS = ["l1", "l2", "l3"]


@st.composite
def versions(draw):
    """Up to 6 versions of one order with distinct channel timestamps."""
    n = draw(st.integers(1, 6))
    offsets = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    out = []
    for off in offsets:
        ids = draw(st.lists(st.sampled_from(LINE_IDS), unique=True, max_size=3))
        lines = []
        for i in ids:
            q = draw(st.integers(0, 6))
            lines.append(OrderLine(i, draw(st.sampled_from(["A", "B"])), q,
                                   cancelled_quantity=draw(st.integers(0, q))))
        out.append(Order(
            "shopify", "X", T0 + timedelta(seconds=off), tuple(lines),
            shipping_address=Address(city=draw(st.sampled_from(["NYC", "Boston"]))),
            cancelled=draw(st.integers(0, 4)) == 0,
            tags=draw(st.frozensets(st.sampled_from(["vip", "gift"]))),
        ))
    return out


def channel_view(o: Order) -> Order:
    return replace(o, lines=tuple(replace(ln, assignments=()) for ln in o.lines), id=None,
                   state=OrderState.CREATED, holds=())


@settings(max_examples=300, deadline=None)
@given(versions(), st.data())
def test_the_same_order_ingested_in_any_order_of_versions_ends_as_its_newest_version(vs, data):
    """Deliveries are permuted and some repeated; between deliveries the router assigns
    some queued units. At the end the channel-owned fields equal the newest version, and
    the bookkeeping driven only by the diffs (queue per line, reservations per location)
    matches the order exactly: nothing released twice, nothing lost. A cancelled order is
    final: once a cancelled version was applied (newer than all delivered before it), the
    order stays cancelled whatever newer versions say."""
    deliveries = data.draw(st.permutations(vs + data.draw(st.lists(st.sampled_from(vs), max_size=3))))
    current: Order | None = None
    cancelled_once = False
    queue: dict[tuple[str, str], int] = {}
    reserved: dict[tuple[str, str, int], int] = {}
    for v in deliveries:
        out = apply_newer_version(current, v)
        cancelled_once |= out.diff.changed and v.cancelled
        for c in out.diff.line_changes:
            k = (c.line_id, c.sku)
            queue[k] = queue.get(k, 0) + c.added - c.released_from_queue
            for loc, q in c.released_from_locations:
                reserved[(c.line_id, c.sku, loc)] -= q
                assert reserved[(c.line_id, c.sku, loc)] >= 0
            assert c.unreleasable == 0  # nothing was shipped in this story
        current = out.order
        # the router assigns part of each line's queued units to location 1 or 2
        routed = []
        for ln in current.lines:
            if ln.unassigned_quantity and not current.cancelled:
                q = data.draw(st.integers(0, ln.unassigned_quantity))
                if q:
                    loc = data.draw(st.sampled_from([1, 2]))
                    routed.append(Assignment(ln.line_id, ln.sku, loc, q))
                    queue[(ln.line_id, ln.sku)] -= q
                    reserved[(ln.line_id, ln.sku, loc)] = reserved.get((ln.line_id, ln.sku, loc), 0) + q
        current = with_assignments(current, routed)

    newest = max(vs, key=lambda v: v.channel_updated_at)
    assert channel_view(current) == replace(channel_view(newest), cancelled=cancelled_once)
    for ln in current.lines:
        held: dict[int, int] = {}
        for a in ln.assignments:
            held[a.location_id] = held.get(a.location_id, 0) + a.quantity
        for (lid, sku, loc), q in reserved.items():
            if lid == ln.line_id and sku == ln.sku:
                assert held.get(loc, 0) == q
        open_units = 0 if current.cancelled else ln.open_quantity
        assert queue.get((ln.line_id, ln.sku), 0) + ln.assigned_quantity == open_units
    live = {(ln.line_id, ln.sku) for ln in current.lines}
    assert all(q == 0 for k, q in queue.items() if k not in live)
    assert all(q == 0 for (lid, sku, _), q in reserved.items() if (lid, sku) not in live)
