"""The SKU page's stock over time, over plain HTTP: the figures the chart draws are the
ledger's levels at the end of each bucket of the chosen window (7 days hourly, 30 days
every six hours, 90 days daily), summed over every location or at one, read back from
today's positions; the page carries uPlot and the script that draws it, and a table of
the same figures. The service's buckets are checked against a fold of the ledger."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import Movement, Reason, StockState, apply_movement, Position
from omnihub.services.stock_history import stock_over_time
from tests.conftest import add_location
from tests.console.pages_client import person, signed_in

NOW = datetime.now(UTC)


def _estate(hub) -> None:
    """MUG: 10 received at WH 20 days ago, 6 at ST 3 days ago, 2 reserved at WH 2 hours
    ago, 1 damaged at ST an hour ago."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_location(hub, "ST", kind="store")
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG"}])
    hub.inventory.receive("MUG", "WH", 10)
    hub.inventory.receive("MUG", "ST", 6)
    hub.inventory.reserve("MUG", "WH", 2)
    hub.inventory.mark_damaged("MUG", "ST", 1)
    ages = [timedelta(days=20), timedelta(days=3), timedelta(hours=2), timedelta(hours=1)]
    with hub.engine.begin() as conn:
        ids = list(conn.execute(sa.select(t.movements.c.id).where(t.movements.c.sku == "MUG").order_by(t.movements.c.id)).scalars())
        for mid, age in zip(ids, ages):
            conn.execute(t.movements.update().where(t.movements.c.id == mid).values(occurred_at=NOW - age))


def _folded(hub, at: datetime, location: str | None = None) -> tuple[int, int, int]:
    """(on hand, reserved, available) at `at`: the ledger folded forward up to it."""
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(t.movements).where(t.movements.c.sku == "MUG").order_by(t.movements.c.id)).mappings().all()
    by_loc: dict[str, Position] = {}
    for r in rows:
        if r["occurred_at"].replace(tzinfo=UTC) <= at and (location is None or r["location"] == location):
            m = Movement(r["sku"], r["location"], r["quantity"], StockState(r["from_state"]), StockState(r["to_state"]),
                         Reason(r["reason"]))
            by_loc[r["location"]] = apply_movement(by_loc.get(r["location"], Position()), m, allow_oversell=True).position
    on_hand = sum(p.on_hand for p in by_loc.values())
    return on_hand, sum(p.reserved for p in by_loc.values()), sum(p.free for p in by_loc.values())


def test_the_buckets_are_the_ledger_folded_to_their_ends(hub):
    _estate(hub)
    for days, size in ((7, 3600), (30, 6 * 3600), (90, 86400)):
        for location in (None, "WH", "ST"):
            s = stock_over_time(hub.engine, "MUG", days, location, now=NOW)
            assert s.bucket_s == size and len(s.ends) == days * 86400 // size
            for i, end in enumerate(s.ends):
                at = datetime.fromtimestamp(end, UTC) - timedelta(microseconds=1)
                if i == len(s.ends) - 1:
                    at = NOW
                assert (s.on_hand[i], s.reserved[i], s.available[i]) == _folded(hub, at, location), (days, location, i)
    week = stock_over_time(hub.engine, "MUG", 7, now=NOW)
    assert (week.on_hand[0], week.on_hand[-1], week.reserved[-1], week.available[-1]) == (10, 16, 2, 13)


def test_the_sku_page_carries_the_chart_and_its_figures(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    r = c.get("/console/inventory/MUG")
    assert r.status_code == 200
    assert '<script src="/console/static/uPlot.iife.min.js" defer></script>' in r.text
    assert '<script src="/console/static/stock-chart.js" defer></script>' in r.text
    data = json.loads(re.search(r'<script type="application/json" id="stock-data">(.*?)</script>', r.text, re.S)[1])
    assert data["bucket_s"] == 6 * 3600 and len(data["t"]) == 120  # the default: 30 days
    assert (data["on_hand"][-1], data["reserved"][-1], data["available"][-1]) == (16, 2, 13)
    assert data["on_hand"][0] == 0 and data["on_hand"][-20] == 10  # the warehouse's receipt (20 days ago) before the store's
    assert re.search(r'<td class="num">16</td><td class="num">2</td><td class="num">13</td></tr>\s*</tbody>', r.text)
    week_at_st = c.get("/console/inventory/MUG", params={"days": "7", "location": "ST"})
    data = json.loads(re.search(r'id="stock-data">(.*?)</script>', week_at_st.text, re.S)[1])
    assert data["bucket_s"] == 3600 and (data["on_hand"][0], data["on_hand"][-1], data["available"][-1]) == (0, 6, 5)
    assert '<option value="ST" selected>' in week_at_st.text and '<option value="7" selected>' in week_at_st.text
    odd = c.get("/console/inventory/MUG", params={"days": "12", "location": "NOWHERE"})  # the defaults instead
    assert odd.status_code == 200 and '"bucket_s":21600' in odd.text.replace(" ", "")
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "stock-chart.js"):
        assert c.get(f"/console/static/{name}").status_code == 200
