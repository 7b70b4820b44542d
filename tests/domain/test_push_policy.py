"""The push policy: the bulk road from its threshold on, never more than one file holds,
and the break-even threshold is where the bulk road stops being slower."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnihub.domain.push_policy import PushPath, PushPolicy, break_even

rates = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 10**7))
def test_bulk_from_the_threshold_on_and_never_more_than_a_file_holds(bulk_from, max_bulk, pending):
    policy = PushPolicy(bulk_from=bulk_from, max_bulk=max_bulk)
    path = policy.path_for(pending)
    assert path is (PushPath.BULK if pending >= bulk_from else PushPath.PER_CALL)
    size = policy.bulk_size(pending)
    assert (size == 0) == (path is PushPath.PER_CALL)
    assert size <= max_bulk and size <= pending


@given(rates, st.floats(min_value=0.0, max_value=3600.0, allow_nan=False), st.floats(min_value=1.01, max_value=1000.0))
def test_break_even_is_where_the_bulk_road_stops_being_slower(per_call, overhead, speedup):
    bulk = per_call * speedup
    n = break_even(per_call, overhead, bulk)

    def slower_by(changes: int) -> float:  # bulk time minus per-call time
        return overhead + changes / bulk - changes / per_call

    assert slower_by(n) <= 1e-6 * max(1.0, overhead)
    if n > 1:
        assert slower_by(n - 1) > -1e-6 * max(1.0, overhead)


def test_a_bulk_road_no_faster_per_change_never_pays_back():
    with pytest.raises(ValueError):
        break_even(100.0, 5.0, 100.0)
    with pytest.raises(ValueError):
        PushPolicy(bulk_from=0)
