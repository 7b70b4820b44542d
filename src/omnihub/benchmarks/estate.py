"""`omnihub bench estate`: a large retailer's estate, and the morning after its ERP snapshot.

The estate: `skus` SKUs stocked at `locations` locations (100,000 × 50 = 5 M positions),
held by the Shopify sandbox (its catalog, locations and levels) and connected to a
scratch hub the way an operator connects a shop (tests/sync/shop_setup.py, the demo):
credentials in the vault, locations and catalog imported from the shop (a bulk
operation), every location feeding the per-location channel, the shop's levels taken as
opening stock, and what Shopify shows recorded as what it confirmed, so nothing needs
pushing on day one.

The morning: a real `omnihub serve` and a real `omnihub worker` (its schedules short, so
they run during the catch-up) run against that hub while a steady load of HTTP requests
(ATP reads and order creates) goes to the API, and `omnihub import-snapshot` applies a
snapshot of every position of which `changed_share` differ. Measured until the channel
shows the hub's figures, read back from the sandbox's own state:

- RSS of the API and of the worker, sampled every 0.2 s (the goal is on their sum at
  every moment, so the peak of the sum is reported, not the sum of the peaks);
- latency of the ATP reads and order creates from the import's start until synced;
- the time until every position the morning changed (and every SKU the load ordered)
  shows the hub's figure in Shopify, then one full comparison of all positions.

Set-up shortcuts, none of them measured: the sandbox's levels are read from its SQLite
file (as the demo reads its control plane, the world and not the hub), and the opening
import's outbox rows are marked published (the channel already shows those figures).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from omnihub import CORE_BUILD
from omnihub.adapters.db import tables as t
from omnihub.benchmarks.scratch_db import peak_rss_mb, rss_mb, scratch_database

TOKEN, SECRET, DOMAIN = "shpat_estate", "shpss_estate_secret", "omnihub-estate.myshopify.com"
CHANNEL = "shopify"
RSS_GOAL_MB = 1024
P99_GOAL_MS = 100
_CLI = "from omnihub.entrypoints.cli.main import app; app()"
class Progress(Protocol):
    """What a bench reports as it goes: a stage, with its count so far and total when known."""

    def __call__(self, what: str, done: float | None = None, total: float | None = None) -> None: ...


def _no_progress(what: str, done: float | None = None, total: float | None = None) -> None:
    pass


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_shop(state_path: Path, env: dict, *, skus: int, locations: int, warehouses: int, seed: int,
               domain: str, token: str, secret: str) -> tuple[subprocess.Popen, str]:
    """A Plus-plan Shopify sandbox in a child process on a free port, seeding `skus`
    products (one variant each) at `locations` locations, `warehouses` of them warehouses;
    the process and its URL (wait for it with `_wait_healthy`)."""
    from omnihub_sandbox.serving import child_command

    port = _free_port()
    proc = subprocess.Popen(child_command("shopify", {
        "state_path": str(state_path), "plan": "plus", "shop_domain": domain, "access_tokens": [token],
        "client_secret": secret, "seed": seed, "catalog_products": skus, "catalog_variants_per_product": 1,
        "catalog_stores": locations - warehouses, "catalog_warehouses": warehouses, "initial_stock_max": 40,
        "time_scale": 0.01}, port), env=env)
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(proc: subprocess.Popen, url: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)
    at = lambda p: ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]  # noqa: E731
    return {"p50_ms": round(at(50), 1), "p99_ms": round(at(99), 1), "max_ms": round(ordered[-1], 1)}


class RssSampler:
    """VmRSS of the API and worker processes every `interval` s, in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = {name: 0.0 for name in pids}
        self.peak_sum = 0.0
        self.samples = 0
        self.phase_peaks: dict[str, float] = {}
        self.phase = "idle"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="estate-rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = {name: rss_mb(pid) for name, pid in self.pids.items()}
            total = sum(now.values())
            for name, mb in now.items():
                self.peak[name] = max(self.peak[name], mb)
            self.peak_sum = max(self.peak_sum, total)
            self.phase_peaks[self.phase] = max(self.phase_peaks.get(self.phase, 0.0), total)
            self.samples += 1
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class SteadyLoad:
    """ATP reads and order creates over HTTP at fixed rates (open loop: each request is
    sent at its time whatever the previous ones did, by a pool of sender threads), every
    answer's latency kept with the time it was sent."""

    def __init__(self, api: str, token: str | None, skus: list[str], *, atp_per_s: float, orders_per_s: float,
                 on_order: Callable[[str], None], senders: int = 8, seed: int = 11) -> None:
        self.api = api
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.skus = skus
        self.rates = {"atp": atp_per_s, "order": orders_per_s}
        self.on_order = on_order
        self.senders = senders
        self.rng = random.Random(seed)
        self.results: dict[str, list[tuple[float, float, int]]] = {"atp": [], "order": []}  # (sent, ms, status)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _send(self, http: httpx.Client, kind: str, sku: str) -> None:
        sent = time.monotonic()
        try:
            if kind == "atp":
                status = http.get(f"/api/v1/atp/{sku}").status_code
            else:
                status = http.post("/api/v1/orders", json={
                    "channel": "web", "external_id": f"estate-{uuid.uuid4().hex[:16]}",
                    "lines": [{"sku": sku, "quantity": 1, "unit_price_minor": 1999}]}).status_code
                if status < 300:
                    self.on_order(sku)
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.results[kind].append((sent, (time.monotonic() - sent) * 1000, status))

    def _sender(self, n: int) -> None:
        schedule: list[list[Any]] = []  # [kind, rate per thread, sent so far]
        for kind, rate in self.rates.items():
            if rate > 0:
                schedule.append([kind, rate / self.senders, 0])
        if not schedule:
            return
        rng = random.Random(self.rng.random() + n)
        t0 = time.monotonic() + rng.random() / max(r for _, r, _ in schedule)
        with httpx.Client(base_url=self.api, headers=self.headers, timeout=60) as http:
            while not self._stop.is_set():
                kind, per_thread, count = min(schedule, key=lambda s: s[2] / s[1])
                due = t0 + count / per_thread
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                for s in schedule:
                    if s[0] == kind:
                        s[2] += 1
                self._send(http, kind, self.skus[rng.randrange(len(self.skus))])

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._sender, args=(n,), name=f"estate-load-{n}", daemon=True)
                         for n in range(self.senders)]
        for th in self._threads:
            th.start()

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(70)

    def figures(self, kind: str, since: float, until: float) -> dict:
        with self._lock:
            rows = [r for r in self.results[kind] if since <= r[0] <= until]
        ok = [ms for _, ms, status in rows if 200 <= status < 300]
        return {"requests": len(rows), "errors": len(rows) - len(ok),
                "statuses": sorted({status for _, _, status in rows if not 200 <= status < 300}),
                **_percentiles(ok)}


class ShopView:
    """Reads what Shopify shows from the sandbox's own SQLite file (read-only)."""

    def __init__(self, path: Path, location_ids: dict[str, int]) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.location_ids = location_ids  # hub code → Shopify location id
        self.item_of = dict(self.conn.execute("SELECT sku, inventory_item_id FROM variants"))

    def levels(self) -> sqlite3.Cursor:
        """(sku, Shopify location id, available) of every level, SKU-major."""
        return self.conn.execute("SELECT v.sku, l.location_id, l.available FROM inventory_levels l JOIN variants v"
                                 " ON v.inventory_item_id = l.inventory_item_id ORDER BY v.sku, l.location_id")

    def shown(self, location: str, skus: list[str]) -> dict[str, int]:
        items = {self.item_of[s]: s for s in skus if s in self.item_of}
        marks = ",".join("?" * len(items))
        rows = self.conn.execute(f"SELECT inventory_item_id, available FROM inventory_levels WHERE location_id = ?"
                                 f" AND inventory_item_id IN ({marks})", (self.location_ids[location], *items))
        return {items[i]: q for i, q in rows}

    def close(self) -> None:
        self.conn.close()


class SyncWatch:
    """The positions that must show a new figure in Shopify, until they all do: each check
    compares the hub's figure with Shopify's for the positions still waiting and forgets
    those that agree (a position ordered from later is watched again)."""

    def __init__(self, engine, shop: ShopView, locations: list[str]) -> None:
        self.engine = engine
        self.shop = shop
        self.locations = locations
        self.waiting: dict[str, set[str]] = {code: set() for code in locations}  # location → SKUs
        self._lock = threading.Lock()
        self.checks = 0

    def add(self, sku: str, location: str | None = None) -> None:
        with self._lock:
            for code in ([location] if location else self.locations):
                self.waiting[code].add(sku)

    def count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self.waiting.values())

    def check(self) -> int:
        """Returns how many positions still differ."""
        ca = t.channel_availability
        self.checks += 1
        for code in self.locations:
            with self._lock:
                skus = sorted(self.waiting[code])
            for start in range(0, len(skus), 500):
                chunk = skus[start:start + 500]
                with self.engine.connect() as conn:
                    hub = dict(conn.execute(sa.select(ca.c.sku, ca.c.quantity).where(
                        ca.c.channel == CHANNEL, ca.c.location == code, ca.c.sku.in_(chunk))).all())
                shown = self.shop.shown(code, chunk)
                agree = {s for s in chunk if s in shown and max(0, hub.get(s, 0)) == shown[s]}
                with self._lock:
                    self.waiting[code] -= agree
        return self.count()


def _write_morning(shop: ShopView, code_of: dict[int, str], morning: Path, changed_share: float,
                   seed: int) -> tuple[int, list[tuple[str, str]]]:
    """The morning's snapshot: every position, `changed_share` of them with another
    figure than Shopify (and the hub) show; returns (positions, the changed ones)."""
    rng = random.Random(seed)
    changed: list[tuple[str, str]] = []
    rows = 0
    with morning.open("w") as b:
        b.write("sku,location,on_hand\n")
        block_b: list[str] = []
        for sku, location_id, available in shop.levels():
            code = code_of.get(location_id)
            if code is None:
                continue
            rows += 1
            if rng.random() < changed_share:
                figure = (available + rng.randrange(1, 30)) % 61
                changed.append((sku, code))
            else:
                figure = available
            block_b.append(f"{sku},{code},{figure}\n")
            if len(block_b) >= 20_000:
                b.write("".join(block_b))
                block_b.clear()
        b.write("".join(block_b))
    return rows, changed


def _opening_stock(engine, shop: ShopView, code_of: dict[int, str], progress: Progress | None, total: int) -> None:
    """The shop's levels as the hub's opening stock, and as what Shopify has confirmed
    (shop_setup.py's two steps), in bulk: positions and their receipts, and the
    confirmed levels, a slice of SKUs per transaction; then the channel projections."""
    from omnihub.adapters.db.bulk_sql import db_time, insert_many
    from omnihub.adapters.db.channel_config import bump_version
    from omnihub.adapters.db.engine import analyze_after_bulk_load
    from omnihub.adapters.db.projection_rebuild import rebuild_all

    now = datetime.now(UTC)
    positions: list[tuple] = []
    movements: list[tuple] = []
    levels: list[tuple] = []
    done = 0

    def write() -> None:
        with engine.begin() as conn:
            ts = db_time(conn, now)
            insert_many(conn, "positions", ("sku", "location", "on_hand", "version"), positions)
            insert_many(conn, "movements", ("sku", "location", "quantity", "from_state", "to_state", "reason",
                                            "position_version", "occurred_at"),
                        [(*m, ts) for m in movements])
            insert_many(conn, "channel_levels", ("channel", "sku", "location", "confirmed", "confirmed_at"),
                        [(*lv, ts) for lv in levels])
        positions.clear()
        movements.clear()
        levels.clear()

    for sku, location_id, available in shop.levels():
        code = code_of.get(location_id)
        if code is None:
            continue
        positions.append((sku, code, available, 1))
        if available:
            movements.append((sku, code, available, "received", "on_hand", "receipt", 1))
        levels.append((CHANNEL, sku, code, available))
        if len(positions) >= 20_000:
            done += len(positions)
            write()
            if progress:
                progress("opening stock: positions written", done, total)
    write()
    with engine.begin() as conn:
        bump_version(conn)
    rebuilt = 0

    def rebuilt_page(n: int) -> None:
        nonlocal rebuilt
        rebuilt += n
        if progress:
            progress("opening stock: channel figures computed (SKUs)", rebuilt, None)

    rebuild_all(engine, progress=rebuilt_page)
    analyze_after_bulk_load(engine)


def _import_snapshot(path: Path, url: str, env: dict) -> tuple[float, float, str]:
    """`omnihub import-snapshot` in a child: (seconds, its peak RSS in MiB, last line)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CLI, "import-snapshot", str(path), "--database-url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"import-snapshot failed ({proc.returncode}): {out[-2000:]}")
    lines = out.strip().splitlines()
    return time.perf_counter() - t0, round(usage.ru_maxrss / 1024, 1), lines[-1] if lines else ""


def _bench_token(hub) -> str | None:
    """An admin API token for the load, when the hub checks bearer tokens."""
    tokens = getattr(hub, "tokens", None)
    if tokens is None:
        return None
    return tokens.create("estate bench", "admin", created_by="bench").token


def _stop(proc: subprocess.Popen, timeout: float = 60.0) -> float | None:
    """SIGTERM, then the seconds it took to exit (None if it had to be killed)."""
    if proc.poll() is not None:
        return 0.0
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
        return round(time.monotonic() - t0, 2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        return None


def _full_check(url: str, shop_path: Path, location_ids: dict[str, int]) -> int:
    """Positions where Shopify does not show the hub's figure, over the whole estate: on
    SQLite one query over both files; elsewhere the hub's figures a page of SKUs at a
    time, each page compared with the sandbox's levels of those SKUs."""
    if url.startswith("sqlite:///"):
        joined = sqlite3.connect(f"file:{url[len('sqlite:///'):]}?mode=ro", uri=True)
        try:
            joined.execute("ATTACH DATABASE ? AS shop", (f"file:{shop_path}?mode=ro",))
            joined.execute("CREATE TEMP TABLE loc(code TEXT PRIMARY KEY, id INTEGER)")
            joined.executemany("INSERT INTO loc VALUES (?, ?)", location_ids.items())
            return joined.execute(
                "SELECT count(*) FROM channel_availability ca JOIN loc ON loc.code = ca.location"
                " JOIN shop.variants v ON v.sku = ca.sku JOIN shop.inventory_levels l"
                " ON l.inventory_item_id = v.inventory_item_id AND l.location_id = loc.id"
                " WHERE ca.channel = ? AND max(ca.quantity, 0) != l.available", (CHANNEL,)).fetchone()[0]
        finally:
            joined.close()
    ca = t.channel_availability
    shop = sqlite3.connect(f"file:{shop_path}?mode=ro", uri=True)
    engine = sa.create_engine(url)
    wrong, after = 0, ""
    try:
        while True:
            with engine.connect() as conn:
                skus = conn.execute(sa.select(ca.c.sku).distinct().where(ca.c.channel == CHANNEL, ca.c.sku > after)
                                    .order_by(ca.c.sku).limit(500)).scalars().all()
                if not skus:
                    return wrong
                hub = conn.execute(sa.select(ca.c.sku, ca.c.location, ca.c.quantity).where(
                    ca.c.channel == CHANNEL, ca.c.sku.in_(skus), ca.c.location.in_(sorted(location_ids)))).all()
            marks = ",".join("?" * len(skus))
            shown = {(sku, location): available for sku, location, available in shop.execute(
                f"SELECT v.sku, l.location_id, l.available FROM variants v JOIN inventory_levels l"
                f" ON l.inventory_item_id = v.inventory_item_id WHERE v.sku IN ({marks})", skus)}
            for sku, code, quantity in hub:
                available = shown.get((sku, location_ids[code]))
                if available is not None and max(quantity, 0) != available:
                    wrong += 1
            after = skus[-1]
    finally:
        engine.dispose()
        shop.close()


def bench_estate(backend: str = "sqlite", *, skus: int = 100_000, locations: int = 50, changed_share: float = 0.10,
                 atp_per_s: float = 40.0, orders_per_s: float = 5.0, level_snapshot_s: float = 120.0,
                 sweep_s: float = 60.0, polls_s: float = 60.0, min_catch_up_s: float = 0.0,
                 max_catch_up_s: float = 3600.0, check_every_s: float = 3.0, base_url: str | None = None,
                 seed: int = 7, progress: Progress | None = None) -> dict:
    from cryptography.fernet import Fernet

    from omnihub.adapters.channels.connectors import build_shopify
    from omnihub.adapters.channels.shopify.order_mapping import numeric_id
    from omnihub.hub import Hub
    from omnihub.services.channel_setup import import_shopify_shop
    from omnihub.settings import Settings

    say = progress or _no_progress
    warehouses = max(1, locations // 10) if locations > 1 else 0
    timings: dict[str, float] = {}
    procs: list[subprocess.Popen] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="omnihub-estate-") as tmp, scratch_database(backend, base_url) as url:
        tmp_path = Path(tmp)
        key = Fernet.generate_key().decode()
        env = {**os.environ, "OMNIHUB_DATABASE_URL": url, "OMNIHUB_SECRET_KEY": key, "OMNIHUB_LOG_LEVEL": "WARNING",
               "COLUMNS": "200"}
        shop_path = tmp_path / "shopify.sqlite3"
        shop = view = None
        try:
            # -- the shop ------------------------------------------------------------------
            say(f"seeding the Shopify sandbox: {skus:,} products at {locations} locations")
            t0 = time.monotonic()
            shop, shop_url = start_shop(shop_path, env, skus=skus, locations=locations, warehouses=warehouses,
                                        seed=seed, domain=DOMAIN, token=TOKEN, secret=SECRET)
            procs.append(shop)
            _wait_healthy(shop, shop_url + "/_sandbox/health", 3600, "the Shopify sandbox")
            timings["shop_seed_s"] = time.monotonic() - t0

            # -- the hub, connected as an operator connects it --------------------------
            t0 = time.monotonic()
            hub = Hub.open(Settings(database_url=url, secret_key=key), relay=False)
            try:
                secrets = {"shop_url": shop_url, "access_token": TOKEN, "client_secret": SECRET, "plan": "plus",
                           "shop_domain": DOMAIN}
                hub.vault.put(CHANNEL, secrets)
                connector = build_shopify(CHANNEL, secrets)
                try:
                    summary = import_shopify_shop(hub.catalog, connector.client, channel=CHANNEL, read_levels=False,
                                                  progress=lambda what, n: say(f"importing the shop: {what}", n, None))
                finally:
                    connector.client.close()
                timings["shop_import_s"] = time.monotonic() - t0
                cl = t.channel_locations
                with hub.engine.connect() as conn:
                    mapped = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id)
                                               .where(cl.c.channel == CHANNEL)).all())
                location_ids = {code: int(numeric_id(gid)) for code, gid in mapped.items()}
                code_of = {i: code for code, i in location_ids.items()}
                view = ShopView(shop_path, location_ids)

                say("writing the morning snapshot")
                t0 = time.monotonic()
                morning = tmp_path / "morning.csv"
                positions, changed = _write_morning(view, code_of, morning, changed_share, seed)
                timings["snapshot_files_s"] = time.monotonic() - t0
                t0 = time.monotonic()
                _opening_stock(hub.engine, view, code_of, say, positions)
                timings["opening_stock_s"] = time.monotonic() - t0
                with hub.engine.begin() as conn:  # the channel already shows these figures (see the docstring)
                    conn.execute(t.outbox.update().where(t.outbox.c.published_at.is_(None))
                                 .values(published_at=datetime.now(UTC)))
                token = _bench_token(hub)
                load_skus = sorted(view.item_of)
            finally:
                hub.close()
            setup_s = time.monotonic() - started

            # -- the morning -------------------------------------------------------------
            api_port = _free_port()
            api = f"http://127.0.0.1:{api_port}"
            say("starting the API and the worker")
            api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
            api_proc = subprocess.Popen([sys.executable, "-c", _CLI, "serve", "--port", str(api_port)], env=env,
                                        stdout=api_log.open("w"), stderr=subprocess.STDOUT)
            procs.append(api_proc)
            worker = subprocess.Popen([sys.executable, "-c", _CLI, "worker", "--new-orders-s", str(polls_s),
                                       "--order-updates-s", str(polls_s), "--new-products-s", str(polls_s),
                                       "--level-snapshot-s", str(level_snapshot_s), "--amazon-orders-s", str(polls_s),
                                       "--sweep-s", str(sweep_s), "--fulfilments-s", str(polls_s)],
                                      env=env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT)
            procs.append(worker)
            _wait_healthy(api_proc, api + "/healthz", 300, "the API")
            sampler = RssSampler({"api": api_proc.pid, "worker": worker.pid})
            sampler.start()
            engine = sa.create_engine(url) if backend == "postgresql" else sa.create_engine(
                url, connect_args={"timeout": 60})
            watch = SyncWatch(engine, view, sorted(location_ids))
            load = SteadyLoad(api, token, load_skus, atp_per_s=atp_per_s, orders_per_s=orders_per_s,
                              on_order=watch.add)
            try:
                time.sleep(5.0)  # the worker's start (its first sweep finds nothing to push)
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited with {worker.returncode}: {worker_log.read_text()[-2000:]}")
                idle_rss = dict(sampler.peak)
                load.start()
                sampler.phase = "morning import"
                say(f"morning snapshot: {len(changed):,} of {positions:,} positions changed")
                import_started = time.monotonic()
                morning_s, morning_rss, morning_summary = _import_snapshot(morning, url, env)
                import_done = time.monotonic()
                sampler.phase = "catch-up"
                for sku, code in changed:
                    watch.add(sku, code)
                to_show = watch.count()
                synced_at = None
                deadline = import_done + max_catch_up_s
                while time.monotonic() < deadline:
                    left = watch.check()
                    say("catching up: positions not yet shown in Shopify", to_show - left, to_show)
                    if left == 0 and synced_at is None:
                        synced_at = time.monotonic()
                    if synced_at is not None and time.monotonic() >= import_started + min_catch_up_s:
                        break
                    for p, log_file in ((api_proc, api_log), (worker, worker_log)):
                        if p.poll() is not None:
                            raise RuntimeError(f"{log_file.stem} exited with {p.returncode}: "
                                               f"{log_file.read_text()[-2000:]}")
                    time.sleep(check_every_s)
                measured_until = time.monotonic()
                load.stop()
                # Orders sent since the last check moved figures too: wait (briefly) until
                # Shopify shows those as well, so the full comparison below judges the sync,
                # not a race with the last requests.
                settle_by = time.monotonic() + 60
                while watch.check() and time.monotonic() < settle_by:
                    time.sleep(1.0)
                left_at_end = watch.count()
            finally:
                sampler.stop()
                engine.dispose()
            worker_stop_s = _stop(worker)
            _stop(api_proc)
            say("comparing every position with Shopify")
            mismatched = _full_check(url, shop_path, location_ids)
        finally:
            if view:
                view.close()
            for p in reversed(procs):
                if p.poll() is None:
                    _stop(p, 20)
    window = (import_started, measured_until)
    return {
        "benchmark": "estate",
        "backend": backend,
        "skus": skus,
        "locations": locations,
        "positions": positions,
        "changed_positions": len(changed),
        "setup": {"seconds": round(setup_s, 1), **{k: round(v, 1) for k, v in timings.items()},
                  "catalog": summary.as_dict() | {"levels": positions}},
        "morning_import": {"seconds": round(morning_s, 2), "rows_per_s": round(positions / morning_s),
                           "peak_rss_mb": morning_rss, "summary": morning_summary},
        "catch_up": {
            "synced": synced_at is not None,
            "seconds_to_synced": round(synced_at - import_started, 1) if synced_at else None,
            "seconds_after_import": round(synced_at - import_done, 1) if synced_at else None,
            "positions_to_show": to_show, "positions_not_shown_at_end": left_at_end,
            "checks": watch.checks, "full_check_mismatches": mismatched,
        },
        "rss_mb": {
            "api_peak": round(sampler.peak["api"], 1), "worker_peak": round(sampler.peak["worker"], 1),
            "sum_peak": round(sampler.peak_sum, 1), "sum_peak_by_phase": {k: round(v, 1) for k, v in
                                                                         sampler.phase_peaks.items()},
            "api_idle": round(idle_rss["api"], 1), "worker_idle": round(idle_rss["worker"], 1),
            "samples": sampler.samples, "goal_sum_mb": RSS_GOAL_MB,
        },
        "atp": load.figures("atp", *window) | {"per_s": atp_per_s},
        "orders": load.figures("order", *window) | {"per_s": orders_per_s},
        "goal_p99_ms": P99_GOAL_MS,
        "worker_stop_s": worker_stop_s,
        "schedules_s": {"level_snapshot": level_snapshot_s, "sweep": sweep_s, "polls": polls_s},
        "measured_s": round(measured_until - import_started, 1),
        "bench_peak_rss_mb": peak_rss_mb(),
        "core_build": CORE_BUILD,
    }
