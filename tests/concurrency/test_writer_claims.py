"""Several hub processes on one database, each writer claiming what its batches touch
(adapters/db/claims.py) and computing outside the write turn.

The claim file's own rules are tested with two claim tables on one file (one per writer,
as two hubs in one process have). The pipeline is tested with real processes racing over
scarce stock, the same orders sent to both, and later versions cancelling some: however
the batches interleave, the database must end as one writer would have left it."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.claims import FileClaims, order_bucket, sku_bucket
from omnihub.adapters.db.order_documents import order_from_doc
from omnihub.adapters.db.projection_rebuild import rebuild_all
from omnihub.domain.ledger import Movement, Position, Reason, StockState, apply_movement
from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.conftest import add_location, add_skus

SKUS = [f"S{i:02d}" for i in range(12)]
LOCATIONS = ["WH", "ST1", "ST2"]
PER_PROCESS = 300
SHARED = 60  # orders both processes receive (a webhook delivered to each)


# -- the claim file --------------------------------------------------------------------------
@pytest.fixture
def two_writers(tmp_path):
    """The claim tables of two writers of one database file (as two processes have)."""
    a, b = FileClaims(str(tmp_path / "hub.db")), FileClaims(str(tmp_path / "hub.db"))
    yield a, b
    a.close()
    b.close()


def _in_thread(fn) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()
    thread = threading.Thread(target=lambda: (fn(), done.set()))
    thread.start()
    return thread, done


def test_a_claim_excludes_every_other_writer_and_a_failed_job_keeps_nothing(two_writers):
    a, b = two_writers
    assert a.try_claim([sku_bucket("A"), sku_bucket("B")])
    assert not b.try_claim([sku_bucket("C"), sku_bucket("B")])
    assert b.held == set()  # C was taken and given back: all or nothing
    assert a.try_claim([sku_bucket("C")]) is True  # so A's writer can have it
    assert b.try_claim([order_bucket("shopify", "1001")])  # an order is not a SKU
    a.release()
    assert b.try_claim([sku_bucket("A"), sku_bucket("B")])


def test_a_claim_on_everything_waits_for_every_other_claim(two_writers):
    a, b = two_writers
    assert a.try_claim([sku_bucket("A")])
    waiter, got = _in_thread(b.claim_everything)
    assert not got.wait(0.3)  # A's writer still holds its claim
    a.release()
    assert got.wait(5)
    assert not a.try_claim([sku_bucket("Z")])  # everything is B's now
    b.release()
    assert a.try_claim([sku_bucket("Z")])
    waiter.join()


def test_a_writer_with_nothing_to_claim_sleeps_until_the_holder_commits(two_writers):
    a, b = two_writers
    assert a.try_claim([sku_bucket("A"), sku_bucket("B")])
    assert not b.try_claim([sku_bucket("C"), sku_bucket("B")])
    assert b.last_conflict == sku_bucket("B")
    waiter, woke = _in_thread(lambda: b.wait_for(sku_bucket("B")))
    assert not woke.wait(0.3)  # asleep, not spinning through empty batches
    a.release()  # A's writer committed
    assert woke.wait(5)
    waiter.join()
    assert b.held == set() and a.try_claim([sku_bucket("B")])  # waiting kept nothing


def test_change_counters_and_ids_are_shared_by_every_writer(two_writers):
    a, b = two_writers
    bucket = sku_bucket("A")
    before = b.changes(bucket)
    a.bump([bucket, bucket])  # one change per batch, however many rows
    assert b.changes(bucket) == before + 1
    assert a.allocate_ids("orders", 3, floor=10) == [10, 11, 12]
    assert b.allocate_ids("orders", 2, floor=5) == [13, 14]  # never handed out twice
    assert b.allocate_ids("orders", 1, floor=100) == [100]  # never below the table's MAX(id) + 1
    assert a.allocate_ids("customers", 1, floor=1) == [1]  # each table counts on its own


def test_a_dead_writers_claims_are_given_back(tmp_path):
    path = str(tmp_path / "hub.db")
    code = ("import os, sys; from omnihub.adapters.db.claims import FileClaims, sku_bucket; "
            f"c = FileClaims({path!r}); assert c.try_claim([sku_bucket('A')]); print('held', flush=True); "
            "sys.stdin.readline(); os._exit(1)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    claims = FileClaims(path)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert not claims.try_claim([sku_bucket("A")])
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(10)  # killed mid-batch, as a crash would
        assert claims.try_claim([sku_bucket("A")])
    finally:
        claims.close()
        proc.kill()


# -- two hub processes -----------------------------------------------------------------------
def _orders(seed: int, prefix: str, n: int) -> list:
    from omnihub.domain.catalog import GeoPoint
    from omnihub.domain.orders import Address, DeliveryMethod, Order, OrderLine

    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(minutes=5)
    out = []
    for i in range(n):
        lines = tuple(OrderLine(str(j + 1), sku, rng.choice((1, 1, 2, 3)))
                      for j, sku in enumerate(rng.sample(SKUS, rng.randint(1, 3))))
        out.append(Order(channel="shopify", external_id=f"{prefix}{i:04d}", channel_updated_at=now, placed_at=now,
                         lines=lines, delivery_method=DeliveryMethod.STANDARD,
                         shipping_address=Address(country="US", geo=GeoPoint(40.7, -74.0))))
    return out


def _ingest(url: str, index: int, start_at: float, out) -> None:
    """One hub process: its own orders, the shared ones, then later versions cancelling
    every fifth of its own, from 6 caller threads."""
    from dataclasses import replace

    hub = Hub.open(Settings(database_url=url, writer_batch_max=40), run_migrations=False, relay=False)
    try:
        mine = _orders(100 + index, f"P{index}-", PER_PROCESS) + _orders(7, "BOTH-", SHARED)
        random.Random(index).shuffle(mine)
        later = datetime.now(UTC)
        cancels = [replace(o, channel_updated_at=later, cancelled=True) for o in mine[::5] if o.external_id.startswith("P")]
        failures: list[str] = []
        lock = threading.Lock()

        def caller(chunk):
            for o in chunk:
                r = hub.orders.submit(o).result(120)
                if isinstance(r, Exception):
                    with lock:
                        failures.append(repr(r))

        while time.time() < start_at:
            time.sleep(0.002)
        for wave in (mine, cancels):
            threads = [threading.Thread(target=caller, args=(wave[i::6],)) for i in range(6)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        out.put({"failures": failures, "deferred": hub.writer.deferred, "batches": hub.writer.batches,
                 "cancelled": [o.external_id for o in cancels]})
    finally:
        hub.close()


def _replayed_positions(conn) -> dict[tuple[str, str], Position]:
    """Every position as the ledger's movements, folded in order, say it stands."""
    out: dict[tuple[str, str], Position] = {}
    mv = t.movements.c
    for r in conn.execute(sa.select(mv.sku, mv.location, mv.quantity, mv.from_state, mv.to_state, mv.reason)
                          .order_by(mv.id)):
        key = (r.sku, r.location)
        m = Movement(r.sku, r.location, r.quantity, StockState(r.from_state), StockState(r.to_state), Reason(r.reason))
        out[key] = apply_movement(out.get(key, Position()), m, allow_oversell=True).position
    return out


def test_two_processes_route_scarce_stock_as_one_writer_would(hub, clean_url):
    for loc in LOCATIONS:
        add_location(hub, loc, kind="warehouse" if loc == "WH" else "store", lat=40.7, lng=-74.0)
    add_skus(hub, *SKUS)
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"}, buffer=1)
    rng = random.Random(3)
    for sku in SKUS:
        for loc in LOCATIONS:
            hub.inventory.receive(sku, loc, rng.randint(5, 25))
    hub.writer.close()  # the test's own hub only reads from here on

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 4.0
    procs = [ctx.Process(target=_ingest, args=(clean_url, i, start_at, q)) for i in range(2)]
    for p in procs:
        p.start()
    reports = [q.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    assert reports[0]["failures"] == [] and reports[1]["failures"] == []
    # the claims did their work: each writer waited for the other at least once
    assert all(r["deferred"] > 0 for r in reports), reports

    with hub.engine.connect() as conn:
        positions = {(r.sku, r.location): r for r in conn.execute(sa.select(t.positions))}
        # No position reserves more than it holds, and every unit reserved is an order's.
        assert all(p.reserved + p.damaged + p.quality_control <= p.on_hand for p in positions.values())
        assigned: dict[tuple[str, str], int] = {}
        oa = t.order_assignments.c
        for r in conn.execute(sa.select(oa.sku, oa.location, oa.quantity).where(oa.state == "reserved")):
            assigned[(r.sku, r.location)] = assigned.get((r.sku, r.location), 0) + r.quantity
        assert {k: p.reserved for k, p in positions.items() if p.reserved} == assigned
        # Every position is what its movements say: no lost update, no movement twice.
        replayed = _replayed_positions(conn)
        for key, p in positions.items():
            want = replayed.get(key, Position())
            assert (p.on_hand, p.reserved, p.version) == (want.on_hand, want.reserved, want.version), key
        # One order per key, however many writers received it; cancelled ones hold nothing.
        o = t.orders.c
        keys = [r.external_id for r in conn.execute(sa.select(o.external_id))]
        assert len(keys) == len(set(keys)) == 2 * PER_PROCESS + SHARED
        cancelled = set(reports[0]["cancelled"]) | set(reports[1]["cancelled"])
        states = dict(conn.execute(sa.select(o.external_id, o.state)).all())
        assert {k for k, s in states.items() if s == "cancelled"} == cancelled
        # The queue's demand is the units still waiting on the orders.
        waiting: dict[str, int] = {}
        for r in conn.execute(sa.select(o.id, o.document).where(o.state != "cancelled")):
            doc = r.document if isinstance(r.document, dict) else json.loads(r.document)
            for line in order_from_doc(doc, r.id).lines:
                if line.unassigned_quantity:
                    waiting[line.sku] = waiting.get(line.sku, 0) + line.unassigned_quantity
        demand = {r.sku: r.queued for r in conn.execute(sa.select(t.sku_demand)) if r.queued}
        assert demand == waiting
        shown = {(r.channel, r.sku, r.location): r.quantity for r in conn.execute(sa.select(t.channel_availability))}
    # The channel figures both writers left are the ones a rebuild from scratch computes.
    rebuild_all(hub.engine)
    with hub.engine.connect() as conn:
        rebuilt = {(r.channel, r.sku, r.location): r.quantity for r in conn.execute(sa.select(t.channel_availability))}
    assert shown == rebuilt


def test_closing_answers_the_jobs_that_wait_for_another_writers_claims(hub, clean_url):
    """A writer asked to stop while a job waits for another process's claim answers that
    job first: its caller is told, never left to time out."""
    from dataclasses import replace

    from omnihub.adapters.db.engine import database_file
    from omnihub.services.order_pipeline import OrderResult

    path = database_file(hub.engine)
    if path is None:
        pytest.skip("claims in a file are SQLite's")
    add_location(hub, "WH", kind="warehouse", lat=40.7, lng=-74.0)
    add_skus(hub, "S00")
    hub.inventory.receive("S00", "WH", 5)
    other = FileClaims(path)  # another process's writer, mid-batch on S00
    try:
        assert other.try_claim([sku_bucket("S00")])
        order = _orders(1, "CLOSE-", 1)[0]
        order = replace(order, lines=(replace(order.lines[0], sku="S00", quantity=1),))
        ticket = hub.orders.submit(order)
        time.sleep(0.3)
        assert not ticket.done()  # waiting for the other writer's claim
        closing = threading.Thread(target=hub.writer.close)
        closing.start()
        time.sleep(0.3)
        assert closing.is_alive()  # still owes the deferred job its answer
        other.release()  # the other writer committed
        closing.join(15)
        assert not closing.is_alive()
        result = ticket.result(1)
        assert isinstance(result, OrderResult) and result.outcome == "allocated", result
    finally:
        other.close()
