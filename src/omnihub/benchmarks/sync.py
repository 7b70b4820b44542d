"""`omnihub bench sync`: stock changes in the hub → pushes to the channel sandboxes over
HTTP, measured from the change to the channel's acknowledgement.

- Shopify (Plus plan, restore 1000 points/s): `changes_per_s` stock receipts spread over
  `skus` SKUs at one location for `duration_s` seconds.
- Amazon (official usage plans, rate multiplier 1): `amazon_changes_per_s` over
  `amazon_skus` SKUs for `amazon_duration_s` seconds (patchListingsItem for a few,
  JSON_LISTINGS_FEED for many).

Each change is a receipt of one unit, so a key's figure only rises and the change is
landed by the first acknowledgement of its value or a later one (coalescing may skip
values). The sandboxes run in child processes (benchmark set-up may use them; the hub
talks to them only over HTTP), so the GIL they need is not the hub's; `peak_rss_mb` is
the hub process.
"""

from __future__ import annotations

import bisect
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx

from omnihub.adapters.channels.connectors import build_amazon, build_shopify
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database
from omnihub.hub import Hub
from omnihub.services.channel_setup import import_shopify_shop
from omnihub.services.channel_sync import ChannelSync
from omnihub.services.erp_snapshot import import_snapshot
from omnihub.settings import Settings

TOKEN, SECRET = "shpat_bench", "shpss_bench_secret"

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(channel: str, config: dict, health: str) -> tuple[subprocess.Popen, str]:
    """One channel's simulator (`shopify`, `amazon`) in a child process on a free port, once it answers `health`."""
    from omnihub_sandbox.serving import child_command

    port = _free_port()
    proc = subprocess.Popen(child_command(channel, config, port))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + health, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("sandbox process exited")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("sandbox did not start")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def lag_figures(lags_ms: list[float]) -> dict:
    """p50, p99 and max of lags in milliseconds, as every sync measurement reports them."""
    return {"lag_p50_ms": round(_percentile(lags_ms, 50), 1), "lag_p99_ms": round(_percentile(lags_ms, 99), 1),
            "lag_max_ms": round(max(lags_ms, default=0), 1)}


class AckLags:
    """Lags read off the sync engine's acknowledgements (`ChannelSync.ack_listeners`):
    from the first change of a (channel, SKU, location) the channel did not show yet to
    the channel's acknowledgement of the figure that covers it (what
    omnihub_sync_lag_seconds observes).

    The benchmark above times each change it made itself; where the changes are the
    side effects of orders (`omnihub demo`) that cannot work: a sale lowers the figure of
    the channel it happened on before the hub hears of it, so the hub's change there is
    already shown and nothing is pushed or acknowledged for it. Only what had to be
    pushed is timed, once per push, from its oldest change (coalesced changes share it)."""

    def __init__(self) -> None:
        self.by_channel: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def ack(self, a) -> None:
        with self._lock:
            self.by_channel[a.channel].append((a.acked_at - a.first_changed_at).total_seconds() * 1000)

    def clear(self) -> None:
        with self._lock:
            self.by_channel.clear()

    def all(self) -> list[float]:
        with self._lock:
            return [x for lags in self.by_channel.values() for x in lags]


class _Recorder:
    """Changes as issued and acknowledgements as they come, per key."""

    def __init__(self) -> None:
        self.changes: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
        self.acks: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
        self._lock = threading.Lock()

    def ack(self, a) -> None:
        with self._lock:
            self.acks[(a.sku, a.location)].append((time.monotonic(), a.quantity))

    def lags_ms(self) -> tuple[list[float], int]:
        lags, missing = [], 0
        for key, changes in self.changes.items():
            acks = sorted(self.acks.get(key, []))
            times = [t for t, _ in acks]
            for t_change, value in changes:
                i = bisect.bisect_left(times, t_change)
                hit = next((t for t, q in acks[i:] if q >= value), None)
                if hit is None:
                    missing += 1
                else:
                    lags.append((hit - t_change) * 1000)
        return lags, missing


def _drive(hub: Hub, keys: list[tuple[str, str]], start: dict[tuple[str, str], int], rate: float, duration: float,
           rec: _Recorder, threads: int = 24) -> int:
    """Receive one unit per change, `rate` changes a second, keys partitioned per thread
    (so each key's changes commit in order)."""
    per_thread = rate / threads
    stop_at = time.monotonic() + duration
    issued = [0] * threads

    def run(n: int):
        mine = keys[n::threads]
        level = {k: start[k] for k in mine}
        i = 0
        t0 = time.monotonic()
        while time.monotonic() < stop_at:
            due = t0 + i / per_thread
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sku, loc = mine[i % len(mine)]
            level[(sku, loc)] += 1
            t_change = time.monotonic()
            hub.inventory.receive(sku, loc, 1)
            rec.changes[(sku, loc)].append((t_change, level[(sku, loc)]))
            i += 1
        issued[n] = i

    ths = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return sum(issued)


def _wait_idle(sync: ChannelSync, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sync.idle():
            return True
        time.sleep(0.1)
    return False


def bench_shopify(backend: str, *, changes_per_s: float = 500, duration_s: float = 20, skus: int = 5000,
                  base_url: str | None = None, progress=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="omnihub-bench-sync-") as tmp, scratch_database(backend, base_url) as url:
        proc, shop_url = _spawn("shopify", {
            "state_path": str(Path(tmp) / "shopify.sqlite3"), "plan": "plus", "access_tokens": [TOKEN],
            "client_secret": SECRET, "catalog_products": max(1, skus // 5), "catalog_variants_per_product": 5,
            "catalog_stores": 1, "catalog_warehouses": 0, "initial_stock_max": 20}, "/_sandbox/health")
        hub = Hub.open(Settings(database_url=url))
        try:
            conn = build_shopify("shopify", {"shop_url": shop_url, "access_token": TOKEN, "client_secret": SECRET,
                                             "plan": "plus"})
            setup = import_shopify_shop(hub.catalog, conn.client, channel="shopify", progress=progress)
            lines = ["sku,location,on_hand"] + [f"{s},{c},{q}" for (s, c), q in sorted(setup.levels.items())]
            import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="bench")
            now = datetime.now(UTC)
            with hub.engine.begin() as c:
                ChannelSync._upsert_levels(c, [{"channel": "shopify", "sku": s, "location": loc, "confirmed": q,
                                                "confirmed_at": now} for (s, loc), q in setup.levels.items()])
            hub.relay.drain()
            sync = hub.sync
            sync.register("shopify", conn.pusher)
            rec = _Recorder()
            sync.ack_listeners.append(rec.ack)
            sync.start()
            _wait_idle(sync, 60)
            bucket = conn.client.bucket
            bucket.reserve(1)  # refresh the mirror, then let the set-up's spending refill
            time.sleep(min(30.0, (bucket.maximum - bucket.available) / bucket.restore_rate + 0.5))
            stats_before = (bucket.stats.calls, bucket.stats.throttled)
            bucket.stats.peak_used_pct = 0.0
            bucket.stats.points_spent = 0.0
            keys = sorted(setup.levels)
            t0 = time.monotonic()
            changes = _drive(hub, keys, setup.levels, changes_per_s, duration_s, rec)
            elapsed = time.monotonic() - t0
            drained = _wait_idle(sync, 120)
            sync.stop()
            lags, missing = rec.lags_ms()
            st = conn.client.bucket.stats
            return {
                "channel": "shopify", "backend": backend, "plan": "plus", "skus": len(keys), "changes": changes,
                "changes_per_s": round(changes / elapsed, 1), **lag_figures(lags),
                "unacknowledged": missing, "drained": drained, "api_calls": st.calls - stats_before[0],
                "throttled": st.throttled - stats_before[1],
                # Budget used: the larger of the spend rate against the restore rate and the
                # deepest the bucket was drawn down.
                "budget_used_pct": round(max(st.peak_used_pct, 100 * st.points_spent / elapsed / bucket.restore_rate), 1),
                "bucket_peak_used_pct": round(st.peak_used_pct, 1), "restore_rate": bucket.restore_rate,
                "points_per_s": round(st.points_spent / max(elapsed, 1e-9), 1), "peak_rss_mb": peak_rss_mb(),
            }
        finally:
            hub.close()
            proc.terminate()
            proc.wait(10)


def bench_amazon(backend: str, *, changes_per_s: float = 10, duration_s: float = 60, skus: int = 500,
                 base_url: str | None = None, progress=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="omnihub-bench-sync-") as tmp, scratch_database(backend, base_url) as url:
        cfg = {"state_path": str(Path(tmp) / "amazon.db"), "catalog_size": 0, "rate_multiplier": 1.0}
        proc, amz_url = _spawn("amazon", cfg, "/_sandbox/clock")
        hub = Hub.open(Settings(database_url=url))
        try:
            from omnihub_sandbox.amazon.config import AmazonSandboxConfig  # only for its default credentials

            defaults = AmazonSandboxConfig(state_path=Path(tmp) / "unused.db")
            conn = build_amazon("amazon_seller", {
                "endpoint": amz_url, "lwa_url": amz_url + "/auth/o2/token", "client_id": defaults.lwa_client_id,
                "client_secret": defaults.lwa_client_secret, "refresh_token": defaults.lwa_refresh_token,
                "seller_id": defaults.seller_id, "marketplace_id": defaults.marketplace_id})
            hub.catalog.create_location({"code": "WH", "name": "Warehouse", "kind": "warehouse", "capabilities": ["ship"]})
            names = [f"AMZ-{n:05d}" for n in range(skus)]
            for start in range(0, skus, 100):
                hub.catalog.create_product("Bench product", [{"sku": s} for s in names[start:start + 100]])
            hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
            with httpx.Client(base_url=amz_url, timeout=30) as http:
                for s in names:
                    hub.catalog.set_listing("amazon_seller", s, s)
                    http.put(f"/_sandbox/listings/{s}", json={"quantity": 5})
            import_snapshot(hub.writer, "sku,location,on_hand\n" + "".join(f"{s},WH,5\n" for s in names), actor="bench")
            now = datetime.now(UTC)
            with hub.engine.begin() as c:
                ChannelSync._upsert_levels(c, [{"channel": "amazon_seller", "sku": s, "location": "", "confirmed": 5,
                                                "confirmed_at": now} for s in names])
            hub.relay.drain()
            sync = hub.sync
            sync.register("amazon_seller", conn.pusher)
            rec = _Recorder()
            sync.ack_listeners.append(rec.ack)
            sync.start()
            keys = [(s, "WH") for s in names]
            opening = {k: 5 for k in keys}
            # The Amazon figure is the channel total (location ''): record acks under WH.
            sync.ack_listeners[-1] = lambda a: rec.ack(type("A", (), {"sku": a.sku, "location": "WH", "quantity": a.quantity})())
            t0 = time.monotonic()
            changes = _drive(hub, keys, opening, changes_per_s, duration_s, rec, threads=4)
            elapsed = time.monotonic() - t0
            drained = _wait_idle(sync, 600)
            sync.stop()
            lags, missing = rec.lags_ms()
            client = conn.client
            ops: defaultdict[str, int] = defaultdict(int)
            for op, *_ in client.sent:
                ops[op] += 1
            span = time.monotonic() - t0
            from omnihub.adapters.channels.amazon.usage_plans import OFFICIAL_PLANS as plans
            used = max((n / (plans[op].burst + plans[op].rate * span) * 100 for op, n in ops.items()), default=0.0)
            return {
                "channel": "amazon_seller", "backend": backend, "skus": skus, "changes": changes,
                "changes_per_s": round(changes / elapsed, 1), **lag_figures(lags),
                "unacknowledged": missing, "drained": drained, "api_calls": client.calls, "throttled": client.throttled,
                "budget_used_pct": round(used, 1), "calls_by_operation": dict(ops), "feeds": conn.pusher.feeds_submitted,
                "rate_multiplier": 1.0, "peak_rss_mb": peak_rss_mb(),
            }
        finally:
            hub.close()
            proc.terminate()
            proc.wait(10)


def bench_sync(backend: str = "sqlite", *, shopify_changes_per_s: float = 500, shopify_duration_s: float = 20,
               skus: int = 5000, amazon_changes_per_s: float = 10, amazon_duration_s: float = 60, amazon_skus: int = 500,
               base_url: str | None = None, progress=None) -> list[dict]:
    return [
        bench_shopify(backend, changes_per_s=shopify_changes_per_s, duration_s=shopify_duration_s, skus=skus,
                      base_url=base_url, progress=progress),
        bench_amazon(backend, changes_per_s=amazon_changes_per_s, duration_s=amazon_duration_s, skus=amazon_skus,
                     base_url=base_url, progress=progress),
    ]
