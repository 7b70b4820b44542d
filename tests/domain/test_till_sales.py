"""Which recorded till sales a late POS order's units are (domain/till_sales.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omnihub.domain.till_sales import RecordedTillSale, units_already_sold

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

sales = st.lists(st.builds(RecordedTillSale, row_id=st.integers(1, 10_000), units_left=st.integers(-1, 5),
                           observed_at=st.integers(0, 600).map(lambda m: T0 + timedelta(minutes=m))),
                 max_size=8, unique_by=lambda s: s.row_id)
placed = st.none() | st.integers(0, 600).map(lambda m: T0 + timedelta(minutes=m))


@given(st.integers(0, 12), sales, placed)
def test_an_order_takes_at_most_its_units_only_from_drops_seen_after_it_was_rung_up(wanted, recorded, placed_at):
    taken = units_already_sold(wanted, recorded, placed_at)
    by_id = {s.row_id: s for s in recorded}
    assert sum(n for _, n in taken) <= wanted
    assert len({i for i, _ in taken}) == len(taken)  # a row once
    for row_id, n in taken:
        sale = by_id[row_id]
        assert 0 < n <= sale.units_left
        assert placed_at is None or sale.observed_at >= placed_at
    eligible = [s for s in recorded if s.units_left > 0 and (placed_at is None or s.observed_at >= placed_at)]
    assert sum(n for _, n in taken) == min(wanted, sum(s.units_left for s in eligible))


@given(sales, placed)
def test_the_earliest_drop_seen_after_the_sale_is_taken_first(recorded, placed_at):
    taken = units_already_sold(1, recorded, placed_at)
    eligible = sorted((s for s in recorded if s.units_left > 0 and (placed_at is None or s.observed_at >= placed_at)),
                      key=lambda s: (s.observed_at, s.row_id))
    assert taken == ([(eligible[0].row_id, 1)] if eligible else [])


def test_a_sale_rung_up_after_the_drop_was_seen_is_another_sale():
    seen = [RecordedTillSale(1, 1, T0)]
    assert units_already_sold(1, seen, T0 + timedelta(seconds=1)) == []
    assert units_already_sold(1, seen, T0 - timedelta(minutes=5)) == [(1, 1)]
    assert units_already_sold(3, seen + [RecordedTillSale(2, 4, T0 + timedelta(hours=1))], None) == [(1, 1), (2, 2)]
