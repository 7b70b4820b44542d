"""How one level difference (domain.reconciliation.judge_level) and one channel cancellation
(judge_cancellation) are classified."""

from __future__ import annotations

from omnihub.domain.reconciliation import Kind, LevelVerdict, judge_cancellation, judge_level


def test_same_figure_is_no_finding():
    assert judge_level(expected=4, shown=4, intent_state="pending", pos_location=True).kind is None


def test_an_intent_explains_the_difference_unless_it_is_parked():
    assert judge_level(expected=4, shown=9, intent_state="pending", pos_location=False).kind is Kind.PUSH_PENDING
    assert judge_level(expected=4, shown=9, intent_state="dead", pos_location=False).kind is Kind.DEAD_LETTER


def test_a_shortfall_at_a_till_is_a_sale_only_for_units_no_online_order_committed():
    assert judge_level(expected=5, shown=3, intent_state=None, pos_location=True) == LevelVerdict(Kind.MISSED_POS_SALE, 2)
    assert judge_level(expected=5, shown=3, intent_state=None, pos_location=True, committed_there=1).sold_at_till == 1
    assert judge_level(expected=5, shown=3, intent_state=None, pos_location=True, committed_there=2).kind is Kind.DRIFT_REPAIRED


def test_anything_else_is_drift():
    assert judge_level(expected=5, shown=3, intent_state=None, pos_location=False).kind is Kind.DRIFT_REPAIRED
    assert judge_level(expected=0, shown=3, intent_state=None, pos_location=True).kind is Kind.DRIFT_REPAIRED


def test_a_channel_cancellation_of_an_open_order_is_missed_until_the_hub_has_its_version():
    for state in ("allocated", "brokering", "held", "packed", "partly_cancelled"):
        assert judge_cancellation(hub_state=state, units_gone=0, newer=True, reported=False) is Kind.MISSED_CANCELLATION
        assert judge_cancellation(hub_state=state, units_gone=0, newer=False, reported=False) is None


def test_a_channel_cancellation_after_units_left_is_for_a_person_once_whoever_told_the_hub():
    for newer in (True, False):
        for state in ("shipped", "partly_shipped", "picked_up", "delivered"):
            assert judge_cancellation(hub_state=state, units_gone=1, newer=newer, reported=False) \
                is Kind.CANCELLED_AFTER_SHIPMENT
            assert judge_cancellation(hub_state=state, units_gone=1, newer=newer, reported=True) is None


def test_an_order_the_hub_closed_is_in_line_with_the_channel_cancelling_it():
    for state in ("cancelled", "refunded"):
        for gone in (0, 2):
            assert judge_cancellation(hub_state=state, units_gone=gone, newer=True, reported=False) is None
