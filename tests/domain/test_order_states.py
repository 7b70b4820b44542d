"""The order state machine, exhaustively: every pair of states is either in the table and
allowed, or refused with an error that names both states and what is allowed."""

from __future__ import annotations

from itertools import product

import pytest

from omnihub.domain.order_states import (
    TERMINAL_STATES,
    TRANSITIONS,
    IllegalTransition,
    OrderState as S,
    allowed_transitions,
    can_transition,
    transition,
)

LEGAL = sorted((a, b) for a, targets in TRANSITIONS.items() for b in targets)
ILLEGAL = sorted((a, b) for a, b in product(S, S) if b not in TRANSITIONS[a])


def test_every_state_has_a_row():
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("from_state", "to_state"), LEGAL)
def test_every_legal_transition_works(from_state, to_state):
    assert can_transition(from_state, to_state)
    assert transition(from_state, to_state) is to_state


@pytest.mark.parametrize(("from_state", "to_state"), ILLEGAL)
def test_every_illegal_transition_is_refused_with_a_clear_error(from_state, to_state):
    assert not can_transition(from_state, to_state)
    with pytest.raises(IllegalTransition) as err:
        transition(from_state, to_state)
    e = err.value
    assert (e.from_state, e.to_state) == (from_state, to_state)
    assert set(e.allowed) == set(allowed_transitions(from_state))
    assert repr(from_state.value) in str(e) and repr(to_state.value) in str(e)


@pytest.mark.parametrize(
    ("from_state", "to_state"),
    [
        (S.SHIPPED, S.CANCELLED),  # goods have left: return, don't cancel
        (S.CREATED, S.SHIPPED),  # no skipping routing and picking
        (S.HELD, S.ALLOCATED),  # a held order is released into brokering first
        (S.DELIVERED, S.PICKED),
        (S.REFUNDED, S.CREATED),
        (S.CANCELLED, S.BROKERING),
        (S.PICKED_UP, S.SHIPPED),
        (S.BROKERING, S.BROKERING),  # staying put is not a transition
    ],
)
def test_well_known_mistakes_are_refused(from_state, to_state):
    with pytest.raises(IllegalTransition):
        transition(from_state, to_state)


def test_the_happy_paths_walk_through():
    ship = [S.CREATED, S.HELD, S.BROKERING, S.ALLOCATED, S.PARTLY_PICKED, S.PICKED, S.PACKED,
            S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.RETURNED, S.REFUNDED]
    bopis = [S.CREATED, S.BROKERING, S.ALLOCATED, S.PICKED, S.PACKED, S.PICKED_UP, S.DELIVERED]
    partial = [S.CREATED, S.BROKERING, S.PARTLY_ALLOCATED, S.PARTLY_CANCELLED, S.ALLOCATED]
    for path in (ship, bopis, partial):
        state = path[0]
        for nxt in path[1:]:
            state = transition(state, nxt)


def test_refunded_is_the_only_final_state_and_every_state_can_reach_it():
    assert TERMINAL_STATES == {S.REFUNDED}
    for start in S:
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert S.REFUNDED in seen or start is S.REFUNDED, start
