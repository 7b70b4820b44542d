"""The chaos day's seeded fault schedule and its Black-Friday demand curve."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnihub.entrypoints.chaos.demand import demand_share, hourly_rates
from omnihub.entrypoints.chaos.schedule import KINDS, fault_schedule


@given(seed=st.integers(0, 2**32), hours=st.integers(1, 24))
@settings(max_examples=200, deadline=None)
def test_one_seed_one_day_and_every_fault_inside_it(seed, hours):
    day = fault_schedule(seed, hours)
    assert day == fault_schedule(seed, hours)
    assert sorted(f.kind for f in day) == sorted(KINDS)
    assert [f.at_h for f in day] == sorted(f.at_h for f in day)
    for f in day:
        assert 0 <= f.at_h < hours and f.ends_h <= hours
    by = {f.kind: f for f in day}
    assert by["erp_snapshot"].at_h < by["cycle_count"].at_h  # the count corrects the morning's file
    assert by["erp_snapshot"].at_h < hours / 2
    assert by["shopify_outage"].duration_h > 0 and by["amazon_429_storm"].duration_h > 0


def test_seeds_differ_and_fewer_kinds_keep_the_same_times():
    assert fault_schedule(1, 24) != fault_schedule(2, 24)
    full = {f.kind: f for f in fault_schedule(5, 24)}
    some = fault_schedule(5, 24, ("worker_kill", "api_kill"))
    assert {f.kind for f in some} == {"worker_kill", "api_kill"}
    assert all(full[f.kind] == f for f in some)


def test_unknown_kind_refused():
    with pytest.raises(ValueError, match="unknown"):
        fault_schedule(1, 24, ("meteor",))


def test_black_friday_peak_is_at_least_20_times_the_trough():
    shares = [demand_share(h / 10) for h in range(240)]
    assert max(shares) / min(shares) >= 20
    rates = hourly_rates(24, 10.0)
    assert max(rates) == pytest.approx(10.0, rel=0.05)
    assert max(rates) / min(rates) >= 20
    assert rates.index(max(rates)) in (19, 20)  # the evening peak
    assert rates[0] > rates[4] * 5  # the midnight doorbuster over the small hours


@given(hour=st.floats(-1000, 1000, allow_nan=False))
def test_demand_repeats_daily_and_stays_within_peak(hour):
    assert 0 < demand_share(hour) <= 1.0
    assert demand_share(hour) == pytest.approx(demand_share(hour + 24), abs=1e-9)
