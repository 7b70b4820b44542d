"""The state after a cancellation (order_states.after_cancellation), over random lines and
random cancellation sequences: whoever cancels, and however the units are split over the
steps, the order ends in the state its units call for, through legal moves only.

* every unit cancelled → `cancelled`;
* some unit still to fulfil → `partly_cancelled` (an order not yet brokered stays put);
* nothing left to fulfil, some units gone → `shipped` (`picked_up`), via `partly_cancelled`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from omnihub.domain.order_states import (
    IllegalTransition,
    LineUnits,
    OrderState as S,
    after_cancellation,
    transition,
)

NOT_YET_BROKERED = (S.CREATED, S.HELD)
IN_THE_WAREHOUSE = (S.BROKERING, S.BACKORDERED, S.PARTLY_ALLOCATED, S.ALLOCATED, S.PARTLY_PICKED,
                    S.PICKED, S.PACKED, S.PARTLY_CANCELLED)
PART_LEFT = (S.PARTLY_SHIPPED, S.PARTLY_CANCELLED)  # some units gone, some still here

line_st = st.integers(1, 4).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))  # (ordered, gone)


@st.composite
def order_st(draw):
    """Lines (ordered, gone), a state those facts allow, and cancellation steps."""
    lines = draw(st.lists(line_st, min_size=1, max_size=4))
    gone = sum(g for _, g in lines)
    if gone == sum(n for n, _ in lines):
        start = draw(st.sampled_from((S.SHIPPED, S.PICKED_UP, S.DELIVERED)))
    elif gone:
        start = draw(st.sampled_from(PART_LEFT))
    else:
        start = draw(st.sampled_from(NOT_YET_BROKERED + IN_THE_WAREHOUSE))
    steps = draw(st.lists(st.tuples(st.integers(0, len(lines) - 1), st.integers(1, 3)), max_size=8))
    return lines, start, steps, draw(st.booleans())  # last: the whole order is cancelled at the end


def walk(state: S, path) -> S:
    for nxt in path:
        state = transition(state, nxt)  # raises IllegalTransition on an illegal step
    return state


@settings(max_examples=400)
@given(order_st())
def test_any_cancellation_sequence_ends_in_the_state_its_units_call_for(case):
    lines, start, steps, whole = case
    cancelled = [0] * len(lines)
    state = start
    for i, units in steps:
        ordered, gone = lines[i]
        units = min(units, ordered - gone - cancelled[i])  # units gone cannot be cancelled
        if not units:
            continue
        cancelled[i] += units
        state = walk(state, after_cancellation(state, [LineUnits(n, c, g) for (n, g), c in zip(lines, cancelled)]))
    units = [LineUnits(n, c, g) for (n, g), c in zip(lines, cancelled)]
    # However the units were split over the steps, the state is the one cancelling them at once gives.
    if any(cancelled):
        assert state == walk(start, after_cancellation(start, units))
    else:
        assert state == start
    to_fulfil = sum(u.to_fulfil for u in units)
    gone = sum(g for _, g in lines)
    if any(cancelled):
        if not to_fulfil and not gone:
            assert state is S.CANCELLED
        elif to_fulfil:
            assert state is (start if start in NOT_YET_BROKERED else S.PARTLY_CANCELLED)
        else:
            assert state is (start if start in (S.SHIPPED, S.PICKED_UP, S.DELIVERED) else S.SHIPPED)
    if whole:
        state = walk(state, after_cancellation(state, units, whole_order=True))
        if gone:
            assert state in (S.SHIPPED, S.PICKED_UP, S.DELIVERED)
        else:
            assert state is S.CANCELLED
    assert (state is S.CANCELLED) == (not gone and (whole or not to_fulfil) and (whole or any(cancelled)))


def test_nothing_left_and_nothing_gone_is_cancelled_from_any_state_before_the_goods_leave():
    for state in NOT_YET_BROKERED + IN_THE_WAREHOUSE:
        assert after_cancellation(state, [LineUnits(2, 2), LineUnits(1, 1)]) == (S.CANCELLED,)


def test_some_units_still_wanted_is_partly_cancelled_but_a_held_order_stays_held():
    still = [LineUnits(3, 1)]
    assert after_cancellation(S.ALLOCATED, still) == (S.PARTLY_CANCELLED,)
    assert after_cancellation(S.PARTLY_CANCELLED, still) == ()
    assert after_cancellation(S.HELD, still) == ()
    assert after_cancellation(S.CREATED, still) == ()


def test_cancelling_what_is_left_after_a_parcel_left_ends_shipped_or_picked_up():
    rest_gone = [LineUnits(3, 1, fulfilled=2)]
    assert after_cancellation(S.PARTLY_SHIPPED, rest_gone) == (S.PARTLY_CANCELLED, S.SHIPPED)
    assert after_cancellation(S.PARTLY_CANCELLED, rest_gone, fulfilled_as=S.PICKED_UP) == (S.PICKED_UP,)
    assert after_cancellation(S.PARTLY_SHIPPED, rest_gone, whole_order=True) == (S.PARTLY_CANCELLED, S.SHIPPED)
    assert after_cancellation(S.SHIPPED, rest_gone) == ()  # all that is left already left


def test_a_cancelled_order_stays_cancelled_and_goods_that_left_are_not_cancelled():
    assert after_cancellation(S.CANCELLED, [LineUnits(1, 1)]) == ()
    with pytest.raises(IllegalTransition):  # a shipped order cannot lose units still wanted
        walk(S.SHIPPED, after_cancellation(S.SHIPPED, [LineUnits(3, 1, fulfilled=1)]))
