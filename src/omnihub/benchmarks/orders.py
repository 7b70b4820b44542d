"""`omnihub bench orders`: the full order path (ingest → brokering queue → route →
reserve → events) under concurrent callers, on 50 locations and 10,000 SKUs.

Each SKU is stocked at 10 of the 50 locations; orders have 1–4 lines, a destination near
one of the locations, and a mix of standard, express and pickup delivery. Callers keep a
window of orders in flight on the group-commit writer and each learns its own result.
Afterwards the ledger is checked: no position reserves more than it holds, no oversell
incident, every reservation belongs to an order.

With `processes` > 1 (the default is 2, as `omnihub serve --workers 2` runs), that many hub
processes share the database, each with its own writer and its share of the orders and
callers; their writers claim what each batch touches and compute side by side (see
adapters/db/claims.py).
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from omnihub import CORE_BUILD
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import db_time, insert_many
from omnihub.adapters.db.channel_config import bump_version
from omnihub.adapters.db.engine import analyze_after_bulk_load, migrate
from omnihub.benchmarks.ledger import _percentile
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database
from omnihub.domain.catalog import GeoPoint
from omnihub.domain.orders import Address, DeliveryMethod, Order, OrderLine
from omnihub.gc_tuning import PauseMeter, tune_for_throughput
from omnihub.hub import Hub
from omnihub.settings import Settings


def seed(hub: Hub, skus: int, locations: int, per_sku: int, rng: random.Random) -> list[tuple[float, float]]:
    points = [(40.0 + rng.random() * 2, -75.0 + rng.random() * 3) for _ in range(locations)]
    now = datetime.now(UTC)
    with hub.engine.begin() as conn:
        conn.execute(t.locations.insert(), [
            {"code": f"L{i:03d}", "name": f"Location {i}", "kind": "warehouse" if i < 5 else "store",
             "capabilities": ["ship", "express"] if i < 5 else ["ship", "pickup"], "groups": [],
             "lat": points[i][0], "lng": points[i][1], "priority": 10 if i < 5 else 50}
            for i in range(locations)
        ])
        conn.execute(t.products.insert(), [{"id": i + 1, "title": f"Product {i}"} for i in range(skus)])
        conn.execute(t.variants.insert(), [{"product_id": i + 1, "sku": f"SKU{i:05d}", "title": ""} for i in range(skus)])
        ts = db_time(conn, now)
        for first in range(0, skus, 1000):  # in slices, so seeding a large catalog stays small
            pos_rows, mov_rows = [], []
            for s in range(first, min(skus, first + 1000)):
                for loc in rng.sample(range(locations), per_sku):
                    q = rng.randint(20, 100)
                    pos_rows.append((f"SKU{s:05d}", f"L{loc:03d}", q, 1))
                    mov_rows.append((f"SKU{s:05d}", f"L{loc:03d}", q, "received", "on_hand", "receipt", 1, ts))
            insert_many(conn, "positions", ("sku", "location", "on_hand", "version"), pos_rows)
            insert_many(conn, "movements", ("sku", "location", "quantity", "from_state", "to_state", "reason",
                                            "position_version", "occurred_at"), mov_rows)
        bump_version(conn)
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, rebuild=False)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", buffer=1,
                               feeds={f"L{i:03d}": "ship" for i in range(5)}, rebuild=False)
    from omnihub.adapters.db.projection_rebuild import rebuild_all

    rebuild_all(hub.engine)
    analyze_after_bulk_load(hub.engine)
    return points


def make_orders(n: int, skus: int, points, rng: random.Random) -> list[Order]:
    now = datetime.now(UTC)
    methods = [DeliveryMethod.STANDARD] * 8 + [DeliveryMethod.EXPRESS, DeliveryMethod.PICKUP_IN_STORE]
    out = []
    for i in range(n):
        lat, lng = rng.choice(points)
        method = rng.choice(methods)
        lines = tuple(
            OrderLine(str(j + 1), f"SKU{s:05d}", rng.choice((1, 1, 1, 2)))
            for j, s in enumerate(rng.sample(range(skus), rng.randint(1, 4)))
        )
        out.append(Order(
            channel=rng.choice(("shopify", "shopify", "amazon_seller")), external_id=f"B{i:07d}",
            channel_updated_at=now, placed_at=now, lines=lines, delivery_method=method,
            pickup_location_id=(rng.randint(6, len(points)) if method is DeliveryMethod.PICKUP_IN_STORE else None),
            shipping_address=Address(country="US", geo=GeoPoint(lat + rng.uniform(-0.2, 0.2), lng + rng.uniform(-0.2, 0.2))),
        ))
    return out


def _tally(result, outcomes: dict[str, int], failures: list[str]) -> None:
    """Count one answer: its routing outcome (or state), or the error it is."""
    if isinstance(result, Exception):
        failures.append(repr(result))
    else:
        key = result.outcome or result.state
        outcomes[key] = outcomes.get(key, 0) + 1


def _offered(hub: Hub, batch: list[Order], rate: float, progress=None):
    """Open loop: order i is sent at start + i / rate whether or not earlier ones are done,
    as a channel's webhooks arrive, and its latency counts from that moment (a sender
    that falls behind does not hide the wait). Results complete in the order they were
    sent (one FIFO writer), so one collector waiting on them in turn sees each at once."""
    sent: list = []
    ready = threading.Condition()
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    failures: list[str] = []

    def collect() -> None:
        for i in range(len(batch)):
            with ready:
                while len(sent) <= i:
                    ready.wait()
                due, ticket = sent[i]
                sent[i] = None  # the answer is not kept: a heap growing with the run slows every collection
            r = ticket.result(600)
            latencies.append(time.perf_counter() - due)
            _tally(r, outcomes, failures)
            if progress and i % 100 == 99:
                progress(100)

    collector = threading.Thread(target=collect)
    collector.start()
    start = time.perf_counter()
    for i, order in enumerate(batch):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0.0005:
            time.sleep(wait)
        ticket = hub.orders.submit(order)
        with ready:
            sent.append((due, ticket))
            ready.notify()
    collector.join()
    return time.perf_counter() - start, latencies, outcomes, failures


def _closed_loop(hub: Hub, batch: list[Order], callers: int, window: int, progress=None):
    """`callers` threads each keep `window` orders in flight; each learns its own result."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    failures: list[str] = []

    def caller(chunk: list[Order]) -> None:
        lat: list[float] = []
        outs: dict[str, int] = {}
        bad: list[str] = []
        for i in range(0, len(chunk), window):
            inflight = [(time.perf_counter(), hub.orders.submit(o)) for o in chunk[i : i + window]]
            for t0, f in inflight:
                r = f.result(600)
                lat.append(time.perf_counter() - t0)
                _tally(r, outs, bad)
            if progress:
                progress(len(inflight))
        with lock:
            latencies.extend(lat)
            failures.extend(bad)
            for k, v in outs.items():
                outcomes[k] = outcomes.get(k, 0) + v

    chunks = [batch[i::callers] for i in range(callers)]
    threads = [threading.Thread(target=caller, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - start, latencies, outcomes, failures


def _drive(hub: Hub, batch: list[Order], rate: float | None, callers: int, window: int, progress=None):
    """Send `batch` open loop at `rate` or, without one, closed loop: (seconds, latencies,
    outcomes, failures, the collector's pauses meanwhile)."""
    with PauseMeter() as pauses:
        if rate:
            elapsed, latencies, outcomes, failures = _offered(hub, batch, rate, progress)
        else:
            elapsed, latencies, outcomes, failures = _closed_loop(hub, batch, callers, window, progress)
    return elapsed, latencies, outcomes, failures, pauses.as_dict()


def _behind_the_door(hub: Hub, token: str | None) -> None:
    """With a token, every order first passes the API's resolver (benchmarks/auth.py)."""
    if token:
        from omnihub.benchmarks.auth import CheckedOrders, RequestAccess

        hub.orders = CheckedOrders(hub.orders, RequestAccess(hub.engine, token))  # type: ignore[assignment]


def _auth_checks(hub: Hub) -> int:
    access = getattr(hub.orders, "access", None)
    return access.checked if access is not None else 0


def _orders_worker(url: str, index: int, processes: int, orders: int, skus: int, points, callers: int, window: int,
                   rate: float | None, start_at: float, out, token: str | None = None) -> None:
    """One hub process (as one `serve` worker): its own writer, its share of the orders."""
    hub = Hub.open(Settings(database_url=url, writer_batch_max=1000), run_migrations=False, relay=False)
    try:
        _behind_the_door(hub, token)
        every = make_orders(orders + processes, skus, points, random.Random(12))
        mine, warm_up = every[:orders][index::processes], every[orders + index]
        tune_for_throughput()
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] >= 500:
                out.put(("progress", done[0]))
                done[0] = 0

        hub.orders.submit(warm_up).result(600)  # connected and warm before the clock starts (not counted)
        while time.time() < start_at:
            time.sleep(0.001)
        begin, cpu0 = time.time(), time.process_time()
        _, latencies, outcomes, failures, pauses = _drive(hub, mine, rate and rate / processes, callers, window, progress)
        end, cpu = time.time(), time.process_time() - cpu0
        writer = hub.writer
        out.put(("done", {"begin": begin, "end": end, "orders": len(mine), "lat": latencies, "outcomes": outcomes,
                          "failures": failures, "batches": writer.batches, "deferred": writer.deferred,
                          "escalated": writer.escalated, "phase_seconds": writer.phase_seconds,
                          "evicted": writer.store.cache.evicted if writer.store.cache is not None else 0,
                          "gc_pauses": pauses, "peak_rss_mb": peak_rss_mb(), "auth_checks": _auth_checks(hub),
                          "cpu_s": cpu}))
    finally:
        hub.close()


def _run_processes(url: str, processes: int, orders: int, skus: int, points, callers: int, window: int,
                   rate: float | None, progress=None, token: str | None = None) -> list[dict]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 4.0  # every process imported, connected and warm first
    per_proc = max(1, callers // processes)
    procs = [ctx.Process(target=_orders_worker, args=(url, i, processes, orders, skus, points, per_proc, window, rate,
                                                      start_at, q, token)) for i in range(processes)]
    for p in procs:
        p.start()
    results: list[dict] = []
    while len(results) < processes:
        try:
            kind, value = q.get(timeout=1)
        except Exception:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError("a bench process died") from None
            continue
        if kind == "progress":
            if progress:
                progress(value)
        else:
            results.append(value)
    for p in procs:
        p.join()
    return results


def bench_orders(backend: str, *, orders: int = 20_000, skus: int = 10_000, locations: int = 50, per_sku: int = 10,
                 callers: int = 8, window: int = 8, rate: float | None = None, base_url: str | None = None,
                 processes: int = 2, progress=None, with_token: bool = False) -> dict:
    """Closed loop (default): `callers` threads each keep `window` orders in flight; the
    default 64 in flight is where throughput and p99 are judged together (a window of 64,
    512 in flight, gives the writers' most at several times the latency: batches of ~85
    orders). Open loop (`rate`): orders arrive at that many a second, and the latency is
    the one a channel would see at that load. `processes`: hub processes sharing the
    database; the callers and the rate are split between them, the window is each
    caller's."""
    rng = random.Random(11)
    deferred = escalated = batches = evicted = 0
    rss_each: list[float] = []
    phases: dict[str, float] = {}
    with scratch_database(backend, base_url) as url:
        migrate(url)
        hub = Hub.open(Settings(database_url=url, writer_batch_max=1000), run_migrations=False, relay=False)
        try:
            points = seed(hub, skus, locations, per_sku, rng)
            token, resolver, auth_checks = None, None, 0
            if with_token:  # an integration token that may ingest orders, as an ERP or a channel bridge holds
                from omnihub.benchmarks.auth import issue_bench_token, resolver_timings

                token = issue_bench_token(url, "integration", scopes=["orders.ingest", "stock.receive"])
            if processes > 1:
                hub.close()
                results = _run_processes(url, processes, orders, skus, points, callers, window, rate, progress, token)
                auth_checks = sum(r["auth_checks"] for r in results)
                orders = sum(r["orders"] for r in results)
                elapsed = max(r["end"] for r in results) - min(r["begin"] for r in results)
                latencies = [x for r in results for x in r["lat"]]
                failures = [f for r in results for f in r["failures"]]
                outcomes: dict[str, int] = {}
                for r in results:
                    for k, v in r["outcomes"].items():
                        outcomes[k] = outcomes.get(k, 0) + v
                batches = sum(r["batches"] for r in results)
                deferred = sum(r["deferred"] for r in results)
                cpu_s = sum(r["cpu_s"] for r in results)
                escalated = sum(r["escalated"] for r in results)
                rss_each = [r["peak_rss_mb"] for r in results]
                evicted = sum(r["evicted"] for r in results)
                for r in results:
                    for k, v in r["phase_seconds"].items():
                        phases[k] = phases.get(k, 0.0) + v
                gc_pauses = PauseMeter.merged([r["gc_pauses"] for r in results])
                hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
            else:
                batch = make_orders(orders, skus, points, random.Random(12))
                tune_for_throughput()  # as `omnihub serve` and `omnihub worker` do
                _behind_the_door(hub, token)
                cpu0 = time.process_time()
                elapsed, latencies, outcomes, failures, gc_pauses = _drive(hub, batch, rate, callers, window, progress)
                cpu_s = time.process_time() - cpu0
                auth_checks = _auth_checks(hub)
                batches, deferred, escalated = hub.writer.batches, hub.writer.deferred, hub.writer.escalated
                phases = dict(hub.writer.phase_seconds)
                evicted = hub.writer.store.cache.evicted if hub.writer.store.cache is not None else 0
            if token:  # timed after the run, so that the runs with and without differ by the checks alone
                resolver = resolver_timings(url, token)
            with hub.engine.connect() as conn:
                over = conn.execute(sa.select(sa.func.count()).select_from(t.positions).where(
                    t.positions.c.reserved + t.positions.c.damaged + t.positions.c.quality_control > t.positions.c.on_hand)).scalar_one()
                incidents = conn.execute(sa.select(sa.func.count()).select_from(t.oversell_incidents)).scalar_one()
                reserved = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.positions.c.reserved), 0))).scalar_one()
                assigned = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.order_assignments.c.quantity), 0)).where(
                    t.order_assignments.c.state == "reserved")).scalar_one()
                outbox_rows = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
                stored_orders = conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar_one()
        finally:
            hub.close()
    return {
        "benchmark": "orders",
        "backend": backend,
        "orders": orders,
        "orders_per_s": round(orders / elapsed),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "oversells": over + incidents,
        "reservations_without_order": int(reserved) - int(assigned),
        "locations": locations,
        "skus": skus,
        "stocked_locations_per_sku": per_sku,
        "with_token": with_token,
        "auth_checks": auth_checks,
        # the hub processes' CPU while they took the orders: what a change costs, readable
        # on a loaded machine, where orders/s also measures the neighbours
        "cpu_s": round(cpu_s, 2),
        "cpu_us_per_order": round(cpu_s / orders * 1e6, 1),
        **({"resolver": resolver} if resolver else {}),
        "mode": "open loop" if rate else "closed loop",
        "offered_per_s": rate,
        "callers": None if rate else callers,
        "window": None if rate else window,
        "seconds": round(elapsed, 3),
        "outcomes": outcomes,
        "failed": len(failures),
        "failures_sample": failures[:3],
        "outbox_rows": outbox_rows,  # a row holds one event or a run of one topic
        "orders_stored": stored_orders,  # with the warm-up order of each process
        "processes": processes,
        "writer_batches": batches,
        "jobs_deferred": deferred,  # jobs that waited a batch for another process's claims
        "batches_claiming_everything": escalated,
        # the writers' time, summed over processes: computing outside the write turn,
        # waiting for it, writing and committing in it
        "writer_seconds": {k: round(v, 2) for k, v in phases.items()},
        "cache_skus_read_again": evicted,  # SKUs a writer forgot because another changed them
        # the garbage collector's pauses (every thread stops), per generation, all processes
        "gc_pauses": gc_pauses,
        "peak_rss_mb": max([peak_rss_mb(), *rss_each]),  # of the largest process
        "peak_rss_mb_per_process": rss_each or None,
        "core_build": CORE_BUILD,  # the hot path compiled (mypyc) or run from source
    }
