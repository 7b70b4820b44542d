"""The sweep's last page costs the database what its first page costs, on tables nobody
has analysed yet (a hub's first start after a bulk load).

On PostgreSQL the sweep used to join the page's availability to the channel's listings
by SKU range; planned with no statistics, the listings were scanned from their start for
every figure of the page, so a page cost more the further the sweep had got: 204,000
positions took 2,418 s, ~24 s a page near the end. Each page's work is counted, never
timed: PostgreSQL's buffers touched by the page's statements (EXPLAIN ANALYZE, BUFFERS)
on a fresh, unanalysed database; SQLite's virtual machine steps (a progress handler).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from omnihub.adapters.db.engine import make_engine, migrate
from omnihub.benchmarks.scratch_db import scratch_database
from omnihub.services.channel_sync import ChannelSync
from tests.conftest import BACKEND
from tests.sync.job_growth import MARKET, SHOP, Estate, Pusher

SKUS, LOCATIONS = 1200, 10
STEP = 100  # SQLite: VM instructions per progress callback


@pytest.fixture
def fresh_engine():
    """A database of its own: PostgreSQL keeps statistics per table for the session's
    database, and this test is about a database that has none."""
    with scratch_database(BACKEND) as url:
        migrate(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _plan_buffers(node: dict) -> int:
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


@contextlib.contextmanager
def page_work(engine) -> Iterator[list[int]]:
    """Work the database does for the statements run inside the block, summed into the
    one-element list it yields (after the block)."""
    total = [0]
    if engine.dialect.name == "postgresql":
        seen: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        try:
            yield total
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        with engine.connect() as conn:
            cur = conn.connection.dbapi_connection.cursor()
            for statement, parameters in seen:
                if statement.lstrip().upper().startswith("SELECT"):
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                    plan = cur.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    total[0] += _plan_buffers(plan[0]["Plan"])
        return

    def on_checkout(dbapi_conn, record, proxy):
        def tick():
            total[0] += 1
            return 0
        dbapi_conn.set_progress_handler(tick, STEP)

    def on_checkin(dbapi_conn, record):
        dbapi_conn.set_progress_handler(None, STEP)

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        yield total
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)


def test_a_page_of_the_sweep_costs_the_same_at_the_end_of_the_listings(fresh_engine):
    engine = fresh_engine
    Estate(engine, SKUS, LOCATIONS).build()  # no ANALYZE: what a first start after a load sees
    sync = ChannelSync(engine, sweep_page=200)
    sync.register(SHOP, Pusher(per_location=True))
    sync.register(MARKET, Pusher(per_location=False))
    for channel, per_location in ((SHOP, True), (MARKET, False)):
        skus = max(1, sync.sweep_page // sync._figures_per_sku(channel, per_location))
        with engine.connect() as conn:
            li = sa.table("channel_listings", sa.column("channel"), sa.column("sku"))
            listed = conn.execute(sa.select(li.c.sku).where(li.c.channel == channel).order_by(li.c.sku)).scalars().all()
        first_after, last_after = None, listed[-skus - 1]  # the first page, and the last whole page
        work = {}
        for name, after in (("first", first_after), ("last", last_after)):
            sync._sweep_page(channel, per_location, after, skus)  # warm: statements compiled, pages cached
            with page_work(engine) as counted:
                page = sync._sweep_page(channel, per_location, after, skus)
            assert page is not None and (page[1] or page[2]), (channel, name)  # the page found figures to push
            work[name] = counted[0]
        assert work["first"] > 0
        assert work["last"] <= 1.5 * work["first"], (channel, work)  # a page's cost does not grow along the sweep
