"""`omnihub bench ledger`: movements spread over a large catalog, and one hot SKU under
concurrent writers in separate processes.

Spread: movements over SKUs × locations, first on the ledger alone (the headline figure),
then on a hub with two channels (one per-location, one aggregate) so every movement also
updates the channel projection and writes its events, as a hub selling on channels does.
Callers submit through the group-commit writer and each waits for its own result.

Hot SKU: N processes, each with its own engine and writer and several caller threads,
reserve one unit at a time from one SKU at one location. Afterwards the ledger must hold
exactly the successful reservations and the position must equal them: any difference is
a lost update.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
import random
import threading
import time

import sqlalchemy as sa

from omnihub import CORE_BUILD
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine, migrate
from omnihub.adapters.db.group_commit import StockWriter
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database
from omnihub.domain.ledger import Movement, Reason, StockState as S
from omnihub.domain.stock_commands import StockCommand, fixed_plan
from omnihub.gc_tuning import tune_for_throughput
from omnihub.hub import Hub
from omnihub.settings import Settings


def seed_catalog(url: str, skus: int, locations: int, channels: int = 2) -> None:
    """Bulk-load the catalog and channels (setup, not measured)."""
    hub = Hub.open(Settings(database_url=url), relay=False)
    try:
        with hub.engine.begin() as conn:
            conn.execute(t.locations.insert(), [
                {"code": f"L{i:03d}", "name": f"Location {i}", "kind": "store" if i % 5 else "warehouse",
                 "capabilities": ["ship", "pickup"], "groups": [], "lat": 40 + i / 100, "lng": -74 + i / 100}
                for i in range(locations)
            ])
            conn.execute(t.products.insert(), [{"id": i + 1, "title": f"Product {i}"} for i in range(skus)])
            conn.execute(t.variants.insert(), [{"product_id": i + 1, "sku": f"SKU{i:06d}", "title": ""} for i in range(skus)])
        if channels >= 1:
            hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, rebuild=False)
        if channels >= 2:
            hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", buffer=1,
                                       feeds={f"L{i:03d}": "ship" for i in range(0, locations, 5)}, rebuild=False)
    finally:
        hub.close()


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def _spread_worker(url: str, skus: int, locations: int, per_caller: int, callers: int, batch_max: int, window: int,
                   seed_base: int, start_at: float, done_counter, out, token: str | None = None) -> None:
    """One hub process: its own engine and group-commit writer, `callers` threads; with a
    token, each movement first passes the API's resolver (benchmarks/auth.py)."""
    engine = make_engine(url, pool_size=2)
    writer = StockWriter(engine, batch_max=batch_max)
    access = None
    if token:
        from omnihub.benchmarks.auth import MOVEMENT_PERMISSION, RequestAccess
        from omnihub.domain.access import Permission

        access = RequestAccess(engine, token)
    tune_for_throughput()  # as `omnihub serve` and `omnihub worker` do
    latencies: list[float] = []
    lock = threading.Lock()
    failures = 0

    def caller(seed: int) -> None:
        nonlocal failures
        r = random.Random(seed)
        inflight: deque = deque()
        answered = 0
        local_lat: list[float] = []
        bad = 0
        received: list[tuple[str, str]] = []
        for n in range(per_caller):
            # A day in the stores: receipts anywhere, then sales and damage where stock was
            # received (so a sale is a sale, not an oversell incident).
            if n % 3 == 0 or not received:
                sku = f"SKU{r.randrange(skus):06d}"
                loc = f"L{r.randrange(locations):03d}"
                received.append((sku, loc))
                m = Movement(sku, loc, 4, S.RECEIVED, S.ON_HAND, Reason.RECEIPT)
            else:
                sku, loc = received[r.randrange(len(received))]
                if n % 3 == 1:
                    m = Movement(sku, loc, 1, S.ON_HAND, S.SOLD, Reason.SALE)
                else:
                    m = Movement(sku, loc, 1, S.ON_HAND, S.DAMAGED, Reason.DAMAGE)
            if access is not None:
                access.check(MOVEMENT_PERMISSION.get(m.reason, Permission.STOCK_MOVE), loc)
            cmd = StockCommand("movement", ((sku, loc),), fixed_plan([m]), allow_oversell=True)
            inflight.append((time.perf_counter(), writer.submit(cmd)))
            if len(inflight) >= window:
                # Each caller keeps `window` requests in flight, like that many clients
                # each waiting for its answer: a new request as soon as the oldest is told.
                t0, f = inflight.popleft()
                res = f.result()
                local_lat.append(time.perf_counter() - t0)
                bad += isinstance(res, Exception)
                answered += 1
                if answered % 1024 == 0:
                    with done_counter.get_lock():
                        done_counter.value += 1024
        for t0, f in inflight:
            res = f.result()
            local_lat.append(time.perf_counter() - t0)
            bad += isinstance(res, Exception)
        with lock:
            latencies.extend(local_lat)
            failures += bad

    while time.time() < start_at:
        time.sleep(0.001)
    threads = [threading.Thread(target=caller, args=(seed_base + i,)) for i in range(callers)]
    begin = time.time()
    cpu0 = time.process_time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    end = time.time()
    cpu = time.process_time() - cpu0
    writer.close()
    if access is not None:
        access.close()
    engine.dispose()
    out.put({"begin": begin, "end": end, "cpu_s": cpu, "lat": latencies, "failed": failures, "batches": writer.batches,
             "done": per_caller * callers, "auth_checks": access.checked if access is not None else 0})


def run_spread(url: str, *, skus: int, locations: int, movements: int, callers: int, batch_max: int,
               window: int = 256, processes: int = 1, progress=None, token: str | None = None) -> dict:
    """`processes` hub processes share the callers, as `omnihub serve --workers N` does: on
    2 cores one process's writer commits while the other's callers prepare the next
    commands (on SQLite the writers take turns on the file, see write_turn.py)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    counter = ctx.Value("q", 0)
    per_proc = max(1, callers // processes)
    per_caller = movements // (per_proc * processes)
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=_spread_worker, args=(url, skus, locations, per_caller, per_proc, batch_max, window,
                                                      100 * i, start_at, counter, q, token)) for i in range(processes)]
    for p in procs:
        p.start()
    results: list[dict] = []
    seen = 0
    while len(results) < processes:
        try:
            results.append(q.get(timeout=0.25))
        except Exception:
            pass
        if progress and counter.value > seen:
            progress(counter.value - seen)
            seen = counter.value
    for p in procs:
        p.join()
    elapsed = max(r["end"] for r in results) - min(r["begin"] for r in results)
    done = sum(r["done"] for r in results)
    latencies = [x for r in results for x in r["lat"]]
    engine = make_engine(url)
    with engine.connect() as conn:
        recorded = conn.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar()
    engine.dispose()
    return {
        "attempts": done,
        "movements_recorded": recorded,
        "refused": sum(r["failed"] for r in results),  # e.g. a sale where the stock ran out
        "auth_checks": sum(r["auth_checks"] for r in results),
        "processes": processes,
        "callers": per_proc * processes,
        "window": window,
        "seconds": round(elapsed, 3),
        "movements_per_s": round(recorded / elapsed),
        "attempts_per_s": round(done / elapsed),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "batches": sum(r["batches"] for r in results),
        "cpu_s": round(sum(r["cpu_s"] for r in results), 2),  # both cores busy: 2 × seconds
    }


def _hot_worker(url: str, attempts: int, threads: int, out: mp.Queue, start_at: float) -> None:
    engine = make_engine(url, pool_size=2)
    writer = StockWriter(engine, batch_max=1000)
    tune_for_throughput()
    ok = 0
    failed = 0
    lat: list[float] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        nonlocal ok, failed
        local_ok = local_failed = 0
        local_lat = []
        for _ in range(n):
            m = Movement("HOT", "L000", 1, S.ON_HAND, S.RESERVED, Reason.RESERVATION)
            t0 = time.perf_counter()
            res = writer.submit(StockCommand("reserve", (("HOT", "L000"),), fixed_plan([m]))).result()
            local_lat.append(time.perf_counter() - t0)
            if isinstance(res, Exception):
                local_failed += 1
            else:
                local_ok += 1
        with lock:
            ok += local_ok
            failed += local_failed
            lat.extend(local_lat)

    while time.time() < start_at:
        time.sleep(0.001)
    ths = [threading.Thread(target=caller, args=(attempts // threads,)) for _ in range(threads)]
    t0 = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    out.put({"ok": ok, "failed": failed, "seconds": time.perf_counter() - t0, "lat": lat})
    writer.close()
    engine.dispose()


def run_hot_sku(url: str, *, writers: int, attempts: int, stock: int, threads_per_writer: int = 8) -> dict:
    with make_engine(url).begin() as conn:
        conn.execute(t.products.insert().values(id=10_000_000, title="Hot product"))
        conn.execute(t.variants.insert().values(product_id=10_000_000, sku="HOT", title=""))
    hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    hub.inventory.receive("HOT", "L000", stock)
    hub.close()
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    start_at = time.time() + 3.0  # let every process import and connect first
    procs = [ctx.Process(target=_hot_worker, args=(url, attempts // writers, threads_per_writer, q, start_at)) for _ in range(writers)]
    for p in procs:
        p.start()
    results = [q.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r["ok"] for r in results)
    failed = sum(r["failed"] for r in results)
    elapsed = max(r["seconds"] for r in results)
    lat = [x for r in results for x in r["lat"]]
    engine = make_engine(url)
    with engine.connect() as conn:
        reserved = conn.execute(sa.select(t.positions.c.reserved).where(t.positions.c.sku == "HOT")).scalar_one()
        in_ledger = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.movements.c.quantity), 0)).where(
                t.movements.c.sku == "HOT", t.movements.c.to_state == "reserved")
        ).scalar_one()
    engine.dispose()
    return {
        "writers": writers,
        "threads_per_writer": threads_per_writer,
        "attempts": ok + failed,
        "succeeded": ok,
        "refused": failed,
        "reserved_in_position": reserved,
        "reserved_in_ledger": int(in_ledger),
        "lost_updates": abs(ok - reserved) + abs(ok - int(in_ledger)),
        "seconds": round(elapsed, 3),
        "hot_sku_reservations_per_s": round((ok + failed) / elapsed),
        "hot_p99_ms": round(_percentile(lat, 0.99) * 1000, 2),
    }


def bench_ledger(backend: str, *, skus: int = 10_000, locations: int = 50, movements: int = 200_000,
                 callers: int = 8, writers: int = 8, hot_attempts: int = 40_000, batch_max: int = 2000,
                 channels: int = 2, processes: int = 2, window: int = 256, callers_per_writer: int = 32,
                 base_url: str | None = None, progress=None, with_token: bool = False) -> dict:
    """The ledger alone (the headline figures), then the same load on a hub with
    `channels` channels, whose availability every movement also updates in the same
    transaction (`with_channels`; skipped with 0). `with_token`: every spread movement
    first passes the API's resolver with an operator's token (benchmarks/auth.py)."""
    resolver: dict = {}

    def measure(n_channels: int) -> tuple[dict, dict]:
        with scratch_database(backend, base_url) as url:
            migrate(url)
            seed_catalog(url, skus, locations, n_channels)
            token = None
            if with_token:
                from omnihub.benchmarks.auth import issue_bench_token, resolver_timings

                token = issue_bench_token(url, "operator")
            spread = run_spread(url, skus=skus, locations=locations, movements=movements, callers=callers,
                                batch_max=batch_max, window=window, processes=processes, progress=progress,
                                token=token)
            hot = run_hot_sku(url, writers=writers, attempts=hot_attempts, stock=hot_attempts * 2,
                              threads_per_writer=callers_per_writer)
            if token and not resolver:  # timed after the runs: with and without differ by the checks alone
                resolver.update(resolver_timings(url, token))
        return spread, hot

    spread, hot = measure(0)
    result = {
        "benchmark": "ledger",
        "backend": backend,
        "skus": skus,
        "locations": locations,
        "callers": callers,
        "channels": 0,
        "movements_per_s": spread["movements_per_s"],
        "p50_ms": spread["p50_ms"],
        "p99_ms": spread["p99_ms"],
        "spread": spread,
        "writers": writers,
        "hot_sku_reservations_per_s": hot["hot_sku_reservations_per_s"],
        "lost_updates": hot["lost_updates"],
        "hot": hot,
    }
    if channels:
        spread_ch, hot_ch = measure(channels)
        result["with_channels"] = {
            "channels": channels,
            "movements_per_s": spread_ch["movements_per_s"],
            "p99_ms": spread_ch["p99_ms"],
            "hot_sku_reservations_per_s": hot_ch["hot_sku_reservations_per_s"],
            "lost_updates": hot_ch["lost_updates"],
            "spread": spread_ch,
            "hot": hot_ch,
        }
        result["lost_updates"] += hot_ch["lost_updates"]
    result["with_token"] = with_token
    if with_token:
        result["resolver"] = resolver
    result["peak_rss_mb"] = peak_rss_mb()
    result["core_build"] = CORE_BUILD
    return result
