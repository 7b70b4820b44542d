"""The ledger's fold: examples and a hypothesis state machine over the pure core."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from omnihub.domain.ledger import (
    InsufficientStock,
    LedgerError,
    Movement,
    Position,
    Reason,
    StockState as S,
    apply_movement,
    fold,
)


def mv(q, src, dst, reason=Reason.CORRECTION):
    return Movement("SKU", "LOC", q, src, dst, reason)


def test_reserve_keeps_units_on_hand_and_ship_removes_them():
    p = apply_movement(Position(), mv(10, S.RECEIVED, S.ON_HAND, Reason.RECEIPT)).position
    p = apply_movement(p, mv(3, S.ON_HAND, S.RESERVED, Reason.RESERVATION)).position
    assert (p.on_hand, p.reserved, p.free) == (10, 3, 7)
    p = apply_movement(p, mv(2, S.RESERVED, S.SHIPPED, Reason.SHIPMENT)).position
    assert (p.on_hand, p.reserved, p.free, p.version) == (8, 1, 7, 3)


def test_cannot_reserve_more_than_free():
    p = Position(on_hand=5, reserved=4)
    with pytest.raises(InsufficientStock) as e:
        apply_movement(p, mv(2, S.ON_HAND, S.RESERVED))
    assert (e.value.wanted, e.value.have) == (2, 1)


def test_pos_sale_beyond_free_stock_is_recorded_as_oversell_not_refused():
    p = Position(on_hand=2, reserved=2)
    applied = apply_movement(p, mv(3, S.ON_HAND, S.SOLD, Reason.SALE), allow_oversell=True)
    assert applied.oversold == 3
    assert applied.position.on_hand == -1


def test_oversell_exception_is_only_for_what_the_shelf_reports():
    with pytest.raises(InsufficientStock):
        apply_movement(Position(), mv(1, S.ON_HAND, S.SHIPPED, Reason.SHIPMENT), allow_oversell=True)
    with pytest.raises(InsufficientStock):
        apply_movement(Position(), mv(1, S.ON_HAND, S.SOLD, Reason.SALE), allow_oversell=False)


@pytest.mark.parametrize("q", [0, -1])
def test_quantity_must_be_positive(q):
    with pytest.raises(LedgerError, match="positive"):
        apply_movement(Position(), mv(q, S.RECEIVED, S.ON_HAND))


def test_outside_to_outside_is_meaningless():
    with pytest.raises(LedgerError):
        apply_movement(Position(), mv(1, S.RECEIVED, S.SOLD))


STATES = list(S)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(1, 20), st.sampled_from(STATES), st.sampled_from(STATES)), max_size=40))
def test_no_balance_goes_negative_without_an_oversell(steps):
    pos = Position()
    for q, src, dst in steps:
        try:
            applied = apply_movement(pos, mv(q, src, dst))
        except LedgerError:
            continue
        pos = applied.position
        assert applied.oversold == 0
        assert min(pos.on_hand, pos.reserved, pos.damaged, pos.quality_control, pos.incoming, pos.in_transit) >= 0
        assert pos.free >= 0


class LedgerMachine(RuleBasedStateMachine):
    """Random use of the ledger: the position always equals the fold of what was
    accepted, and units are conserved between the shelf, the pipeline and the world."""

    def __init__(self):
        super().__init__()
        self.pos = Position()
        self.accepted: list[Movement] = []
        self.world_in = 0
        self.world_out = 0

    @rule(q=st.integers(1, 30), src=st.sampled_from(STATES), dst=st.sampled_from(STATES),
          reason=st.sampled_from(list(Reason)), oversell=st.booleans())
    def move(self, q, src, dst, reason, oversell):
        m = mv(q, src, dst, reason)
        try:
            applied = apply_movement(self.pos, m, allow_oversell=oversell)
        except LedgerError:
            return
        self.pos = applied.position
        self.accepted.append(m)
        if src in (S.RECEIVED, S.SOLD, S.SHIPPED, S.LOST):
            self.world_in += q
        if dst in (S.RECEIVED, S.SOLD, S.SHIPPED, S.LOST):
            self.world_out += q

    @invariant()
    def position_is_the_fold(self):
        assert fold(self.accepted) == self.pos
        assert self.pos.version == len(self.accepted)

    @invariant()
    def units_are_conserved(self):
        p = self.pos
        assert p.on_hand + p.incoming + p.in_transit == self.world_in - self.world_out

    @invariant()
    def only_on_hand_may_go_negative(self):
        p = self.pos
        assert min(p.reserved, p.damaged, p.quality_control, p.incoming, p.in_transit) >= 0


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=150, stateful_step_count=30)
