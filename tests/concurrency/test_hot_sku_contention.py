"""8 processes reserve from one SKU with 100 units, 1,000 attempts in all: exactly 100
succeed, the ledger holds exactly those, and no update is lost. Real processes, each with
its own engine and group-commit writer, against the real database of the session."""

from __future__ import annotations

import multiprocessing as mp
import time

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.conftest import add_location, add_skus

PROCESSES = 8
ATTEMPTS = 1000
UNITS = 100


def _reserve_many(url: str, attempts: int, start_at: float, out) -> None:
    import threading

    from omnihub.adapters.db.engine import make_engine
    from omnihub.adapters.db.group_commit import StockWriter
    from omnihub.services.inventory import Inventory
    from omnihub.domain.ledger import LedgerError

    engine = make_engine(url, pool_size=2)
    inv = Inventory(StockWriter(engine, batch_max=50))
    ok = refused = other = 0
    lock = threading.Lock()

    def caller(n):
        nonlocal ok, refused, other
        for _ in range(n):
            try:
                inv.reserve("HOT", "WH", 1)
                r = "ok"
            except LedgerError as e:
                r = "refused" if e.code == "insufficient_stock" else "other"
            except Exception:  # anything else is a bug the test must see
                r = "other"
            with lock:
                if r == "ok":
                    ok += 1
                elif r == "refused":
                    refused += 1
                else:
                    other += 1

    while time.time() < start_at:
        time.sleep(0.002)
    threads = [threading.Thread(target=caller, args=(attempts // 5,)) for _ in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    inv.writer.close()
    engine.dispose()
    out.put((ok, refused, other))


def test_eight_processes_reserve_exactly_the_stock_there_is(hub, clean_url):
    add_location(hub, "WH", kind="warehouse")
    add_skus(hub, "HOT")
    hub.catalog.upsert_channel("web", name="Web", kind="shopify", per_location=True)
    hub.inventory.receive("HOT", "WH", UNITS)

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 4
    procs = [ctx.Process(target=_reserve_many, args=(clean_url, ATTEMPTS // PROCESSES, start_at, q)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [q.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)

    ok = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    other = sum(r[2] for r in results)
    assert (ok, refused, other) == (UNITS, ATTEMPTS - UNITS, 0)
    with hub.engine.connect() as c:
        p = c.execute(sa.select(t.positions).where(t.positions.c.sku == "HOT")).one()
        reservations = c.execute(
            sa.select(sa.func.count(), sa.func.sum(t.movements.c.quantity)).where(
                t.movements.c.sku == "HOT", t.movements.c.to_state == "reserved")
        ).one()
    assert (p.on_hand, p.reserved) == (UNITS, UNITS)
    assert tuple(reservations) == (UNITS, UNITS)
    assert p.version == UNITS + 1  # one receipt + exactly one version per reservation
    assert hub.queries.channel_availability("web", ["HOT"])[0]["quantity"] == 0
