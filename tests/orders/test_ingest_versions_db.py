"""Through the real pipeline and database: the same order ingested many times, its
versions in any order and with repeats, ends exactly as its newest version (cancelled if a
cancelled version, or one cancelling every unit line by line, was ever applied: a
cancelled order is final), and the stock it holds (reserved + queued) is exactly what that
asks for. Its state agrees: `cancelled` exactly then, else allocated when nothing waits and
a queued state while some does (partly cancelled in either case once units left it), and
its OrderStateChanged events walk legal moves from `created` to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import random

from hypothesis import HealthCheck, example, given, settings, strategies as st

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.order_documents import order_from_doc
from omnihub.domain.catalog import GeoPoint
from omnihub.domain.order_states import QUEUED_STATES, OrderState
from omnihub.domain.orders import Address, Order, OrderLine
from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.conftest import add_location, add_skus, empty_database
from tests.orders.conftest import check_state_history

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
version_st = st.lists(
    # units of A, units of B, of them cancelled line by line (capped), the order cancelled
    st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 4), st.integers(0, 3), st.booleans()),
    min_size=1, max_size=4,
)


def versions_of(spec) -> list[Order]:
    out = []
    for i, (a, b, ca, cb, cancelled) in enumerate(spec):
        lines = tuple(ln for ln in (OrderLine("1", "A", a, cancelled_quantity=min(a, ca)),
                                    OrderLine("2", "B", b, cancelled_quantity=min(b, cb))) if ln.quantity)
        out.append(Order("shopify", "#77", T0 + timedelta(minutes=i), lines or (OrderLine("1", "A", 1),),
                         cancelled=cancelled, shipping_address=Address(country="US", geo=GeoPoint(40.7, -74.0))))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=version_st, order=st.randoms(use_true_random=False), repeats=st.integers(0, 3))
@example(spec=[(4, 0, 0, 0, False), (1, 0, 0, 0, False)], order=random.Random(0), repeats=0)  # shrink: queue then release
@example(spec=[(2, 1, 0, 0, False), (4, 2, 0, 0, True), (1, 3, 0, 0, False)], order=random.Random(3), repeats=2)  # reopened: stays cancelled
@example(spec=[(2, 1, 2, 1, False)], order=random.Random(0), repeats=0)  # first version cancels every unit
@example(spec=[(4, 1, 0, 0, False), (4, 1, 4, 1, False), (1, 1, 0, 0, False)], order=random.Random(0), repeats=0)  # line by line: final
@example(spec=[(4, 2, 0, 0, False), (4, 2, 1, 0, False)], order=random.Random(0), repeats=0)  # some still wanted
def test_any_arrival_order_ends_as_the_newest_version(database_url, spec, order, repeats):
    empty_database(database_url)
    hub = Hub.open(Settings(database_url=database_url), run_migrations=False, relay=False)
    try:
        add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.7, lng=-74.1)
        add_skus(hub, "A", "B")
        hub.inventory.receive("A", "WH", 3)  # less than some versions want: some units queue
        hub.inventory.receive("B", "WH", 10)
        versions = versions_of(spec)
        arrivals = versions + [order.choice(versions) for _ in range(repeats)]
        order.shuffle(arrivals)
        for v in arrivals:
            hub.orders.ingest(v)
        newest = versions[-1]
        with hub.engine.connect() as c:
            rows = c.execute(sa.select(t.orders)).all()
            assert len(rows) == 1  # one order, however many deliveries
            doc = rows[0].document
            reserved = {p.sku: p.reserved for p in c.execute(sa.select(t.positions))}
            queued = {d.sku: d.queued for d in c.execute(sa.select(t.sku_demand))}
        assert doc["channel_updated_at"] == newest.channel_updated_at.isoformat()
        assert [(ln["sku"], ln["quantity"]) for ln in doc["lines"]] == [(ln.sku, ln.quantity) for ln in newest.lines]
        # applied: newer than every version delivered before it. The document's `cancelled`
        # is set by a cancelled version, and by any version applied once the order is.
        seen, cancelled, flag = None, False, False
        for v in arrivals:
            if seen is None or v.channel_updated_at > seen:
                seen, flag = v.channel_updated_at, flag or cancelled or v.cancelled
                cancelled = cancelled or v.cancelled or not v.units_by_sku()  # nothing left to fulfil
        assert doc["cancelled"] == flag and (doc["state"] == "cancelled") == cancelled, (doc["state"], spec)
        wanted = {} if cancelled else newest.units_by_sku()
        for sku in ("A", "B"):
            held = reserved.get(sku, 0) + queued.get(sku, 0)
            assert held == wanted.get(sku, 0), (sku, held, wanted, doc["state"])
        stored = order_from_doc(doc, rows[0].id)
        if not cancelled:
            waits = sum(queued.values())
            assert stored.state in (QUEUED_STATES if waits else {OrderState.ALLOCATED}) | {OrderState.PARTLY_CANCELLED}, (
                stored.state, waits)
        check_state_history(hub, [stored])
    finally:
        hub.close()
