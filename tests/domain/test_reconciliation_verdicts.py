"""How one level difference is classified (domain.reconciliation.judge_level)."""

from __future__ import annotations

from omnihub.domain.reconciliation import Kind, LevelVerdict, judge_level


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
