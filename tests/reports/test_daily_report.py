"""The daily report on a real database: a seeded day in the retailer's time zone gives
exactly the figures in its CSV files, the page names each section and carries SVG charts,
an empty day says so, and a bad --date is refused with a clear message."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from omnihub.adapters.db.engine import make_engine
from omnihub.adapters.db.tables import (
    order_assignments,
    orders,
    oversell_incidents,
    positions,
    reconciliation_findings,
    reconciliation_runs,
)
from omnihub.entrypoints.cli.main import app
from omnihub.settings import get_settings

ZONE = "America/New_York"  # 2026-12-03 local is [05:00Z on the 3rd, 05:00Z on the 4th)


@pytest.fixture(autouse=True)
def _retailer_zone(monkeypatch):
    monkeypatch.setenv("OMNIHUB_TIMEZONE", ZONE)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _seed(url: str) -> None:
    at = lambda h: datetime(2026, 12, 3, h, tzinfo=UTC)  # noqa: E731
    day_orders = [  # id, channel, state, delivery, value, placed (UTC), units ordered, [(location, units)]
        (1, "shopify", "allocated", "standard", 5000, at(6), 3, [("WH", 2)]),  # one unit short
        (2, "shopify", "allocated", "standard", 7000, at(12), 3, [("WH", 1), ("ST", 2)]),  # split
        (3, "amazon", "allocated", "pickup_in_store", 3000, at(20), 1, [("ST", 1)]),  # pickup
        (4, "amazon", "cancelled", "standard", 1000, datetime(2026, 12, 4, 4, tzinfo=UTC), 1, []),  # 23:00 local
        (5, "amazon", "allocated", "standard", 9900, at(4), 5, [("WH", 5)]),  # 23:00 local the day before
    ]
    engine = make_engine(url)
    with engine.begin() as conn:
        for oid, channel, state, delivery, value, placed, ordered, lines in day_orders:
            conn.execute(sa.insert(orders).values(
                id=oid, channel=channel, external_id=f"X{oid}", channel_updated_at=placed, state=state,
                delivery_method=delivery, order_value_minor=value, currency="USD", holds=[],
                document={"lines": [{"line_id": "1", "sku": "A", "quantity": ordered}]},
                placed_at=placed, updated_at=placed))
            for n, (loc, qty) in enumerate(lines):
                conn.execute(sa.insert(order_assignments).values(
                    order_id=oid, line_id=str(n + 1), sku="A", location=loc, quantity=qty, state="allocated",
                    updated_at=placed))
        conn.execute(sa.insert(positions).values(sku="A", location="WH", on_hand=14))
        conn.execute(sa.insert(positions).values(sku="A", location="ST", on_hand=0))
        conn.execute(sa.insert(oversell_incidents).values(sku="A", location="ST", units=1, movement_id=1,
                                                          channel="amazon", occurred_at=at(20)))
        conn.execute(sa.insert(oversell_incidents).values(sku="A", location="ST", units=3, movement_id=2,
                                                          channel="amazon", occurred_at=at(4)))  # the day before
        for run_id, started in ((1, at(9)), (2, at(3))):
            conn.execute(sa.insert(reconciliation_runs).values(
                id=run_id, channel="shopify", state="done", trigger="schedule", window_start=started,
                started_at=started, summary={}))
        for run_id, kind, repaired in ((1, "drift_repaired", True), (1, "drift_repaired", True),
                                       (1, "unknown_sku", False), (2, "missed_order", True)):
            conn.execute(sa.insert(reconciliation_findings).values(run_id=run_id, kind=kind, action="x",
                                                                   repaired=repaired))
    engine.dispose()


def _csv(path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _run(*args):
    return CliRunner().invoke(app, ["report", "daily", *args], env={"COLUMNS": "200"})


def test_a_seeded_day_gives_exact_figures_and_a_page_with_charts(clean_url, tmp_path):
    _seed(clean_url)
    res = _run("--date", "2026-12-03", "--out", str(tmp_path / "r"), "--database-url", clean_url)
    assert res.exit_code == 0, res.output
    assert _csv(tmp_path / "r" / "per_channel.csv") == [
        {"channel": "amazon", "orders": "2", "units": "2", "units_allocated": "1", "revenue_minor": "4000",
         "currency": "USD"},
        {"channel": "shopify", "orders": "2", "units": "6", "units_allocated": "5", "revenue_minor": "12000",
         "currency": "USD"}]
    assert _csv(tmp_path / "r" / "per_location.csv") == [
        {"location": "ST", "orders": "2", "units": "3"}, {"location": "WH", "orders": "2", "units": "3"}]
    assert _csv(tmp_path / "r" / "summary.csv") == [
        {"units_ordered": "8", "units_allocated": "6", "orders": "4", "split_orders": "1", "pickup_orders": "1", "ship_orders": "3", "cancelled_orders": "1"}]
    assert _csv(tmp_path / "r" / "oversells.csv") == [{"sku": "A", "location": "ST", "channel": "amazon", "units": "1"}]
    assert _csv(tmp_path / "r" / "discrepancies.csv") == [
        {"channel": "shopify", "kind": "drift_repaired", "found": "2", "fixed": "2"},
        {"channel": "shopify", "kind": "unknown_sku", "found": "1", "fixed": "0"}]
    # the 7 days to the 3rd: orders 1, 2, 3 and 5 (4 is cancelled): 12 units, 14 on hand → 8.2 days
    assert _csv(tmp_path / "r" / "top_sellers.csv") == [
        {"sku": "A", "units_7d": "12", "on_hand": "14", "days_of_cover": "8.2", "stocked_out": "False"}]
    page = (tmp_path / "r" / "index.html").read_text()
    for section in ("Orders per channel", "Orders per location", "Fill rate", "Split rate", "Pickup against ship", "Cancellations",
                    "Stock-outs and days of cover", "Oversells", "Sync lag", "Discrepancies found and fixed"):
        assert f"<h2>{section}</h2>" in page
    assert "6 of 8 units ordered allocated\n(75.0%)" in page
    assert page.count("<svg") == 2 and "No orders" not in page and "America/New_York" in page


def test_an_empty_day_gives_a_page_that_says_so(clean_url, tmp_path):
    res = _run("--date", "2026-12-03", "--out", str(tmp_path / "r"), "--database-url", clean_url)
    assert res.exit_code == 0, res.output
    assert "No orders were placed on this day." in (tmp_path / "r" / "index.html").read_text()
    assert _csv(tmp_path / "r" / "per_channel.csv") == []


def test_a_bad_date_is_refused_clearly(clean_url, tmp_path):
    res = _run("--date", "2026-13-40", "--out", str(tmp_path / "r"), "--database-url", clean_url)
    assert res.exit_code == 2
    assert "YYYY-MM-DD" in res.output and not (tmp_path / "r").exists()


def test_an_unknown_time_zone_is_refused_by_the_settings(monkeypatch):
    from pydantic import ValidationError

    from omnihub.settings import Settings

    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(timezone="Mars/Olympus")
    assert Settings().timezone == ZONE  # from OMNIHUB_TIMEZONE
