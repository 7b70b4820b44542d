"""The chaos day, start to end: set the world up, start the hub's processes, send shoppers
along the curve while the faults strike at their seeded times, then settle (faults off,
reconciliation through `omnihub sync reconcile`, orders and pushes drained) and count."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

from omnihub.entrypoints.chaos import tally
from omnihub.entrypoints.chaos.faults import Levers
from omnihub.entrypoints.chaos.lag_probe import AmazonLagProbe, LagProbe, ShopifyLagProbe
from omnihub.entrypoints.chaos.private_postgres import PrivatePostgres
from omnihub.entrypoints.chaos.schedule import KINDS, fault_schedule, kinds_for
from omnihub.entrypoints.chaos.shoppers import CurveShoppers
from omnihub.entrypoints.chaos.supervisor import RssWatch
from omnihub.entrypoints.chaos.world import _CLI, ChaosWorld

Say = Callable[[str, float | None, float | None], None]
TOP_SKUS = 3
AMAZON_NIGHT_S = 150.0  # past getOrders' horizon (it serves orders at least 2 minutes old)


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


def _quiet(what: str, done: float | None = None, total: float | None = None) -> None:
    pass


@contextlib.contextmanager
def _day_database(backend: str) -> Iterator[tuple[str, PrivatePostgres | None]]:
    """The day's database: a scratch SQLite file, or on PostgreSQL a scratch database on a
    server of the day's own (private_postgres.py), which the restart fault may stop."""
    from omnihub.benchmarks.scratch_db import scratch_database

    if backend != "postgresql":
        with scratch_database(backend, None) as url:
            yield url, None
        return
    with PrivatePostgres() as server, scratch_database(backend, server.url) as url:
        yield url, server


def run_chaos_day(*, hours: int, speed: float, seed: int, backend: str = "sqlite", skus: int = 2000,
                  peak_orders_per_s: float = 20.0, kinds: tuple[str, ...] = KINDS, settle_s: float = 300,
                  say: Say | None = None, keep_dir: Path | None = None) -> dict:
    from cryptography.fernet import Fernet

    from omnihub.entrypoints.cli.demo import _credentials

    say = say or _quiet
    started = time.monotonic()
    hour_s = 3600 / speed
    kinds = kinds_for(backend, kinds)
    schedule = fault_schedule(seed, hours, kinds)
    with tempfile.TemporaryDirectory(prefix="omnihub-chaos-") as tmp, _day_database(backend) as (url, server):
        state = keep_dir or Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            url = f"sqlite:///{(state / 'omnihub.db').resolve()}"
        world = ChaosWorld(state, database_url=url, secret_key=Fernet.generate_key().decode(), skus=skus, seed=seed,
                           notification_faults="webhook_chaos" in kinds)
        watch = RssWatch([])
        try:
            say("starting the simulators (Shopify: 3 stores, 2 warehouses; Amazon)", None, None)
            world.start()
            say(f"connecting the channels ({skus} SKUs): catalog, locations, opening stock, listings, webhooks",
                None, None)
            t0 = time.monotonic()
            world.connect()
            creds = _credentials(world.hub, state)
            from omnihub.services.estate_figures import channel_location_ids
            from omnihub.adapters.channels.shopify.order_mapping import numeric_id

            located = {code: int(numeric_id(gid)) for code, gid in channel_location_ids(world.hub.engine,
                                                                                        "shopify").items()}
            feeds = set(world.hub.catalog.get_channel("shopify")["feeds"]) if hasattr(
                world.hub.catalog, "get_channel") else None
            world.close_setup()
            setup_s = time.monotonic() - t0
            # pre-ping: a session the database restart cut is replaced, not handed to a read
            engine = sa.create_engine(url, connect_args={"timeout": 60} if backend == "sqlite" else {},
                                      pool_pre_ping=True)
            say("starting omnihub serve --workers 2 and omnihub worker", None, None)
            world.start_hub_processes(["--new-orders-s", "10", "--order-updates-s", "20", "--amazon-orders-s", "10",
                                       "--level-snapshot-s", "60", "--sweep-s", "10", "--fulfilments-s", "60",
                                       "--lease-s", "5"])
            watch.programs = list(world.programs.values())
            watch.start()
            with httpx.Client(timeout=60) as http:
                catalog = http.get(world.shop + "/_sandbox/catalog").raise_for_status().json()
            kinds_of = {loc["id"]: loc["kind"] for loc in catalog["locations"]}
            store_ids = {c: i for c, i in located.items() if kinds_of.get(i) != "warehouse"
                         and (feeds is None or c in feeds)}
            all_skus = sorted(v["sku"] for v in catalog["variants"])
            top = all_skus  # every SKU's stock is sampled; the busiest are kept at the end
            levers = Levers(world, creds["token"], speed, random.Random(seed), store_ids, database=server)
            every_s = max(0.5, min(2.0, hour_s / 8))
            probes: list[LagProbe] = [ShopifyLagProbe(world.shop, world.api, creds["token"], store_ids, all_skus,
                                                      every_s=every_s, seed=seed)]
            warehouses = sorted(c for c, i in located.items() if kinds_of.get(i) == "warehouse")
            listed = tally.amazon_listings(engine)
            if warehouses and listed:
                probes.append(AmazonLagProbe(world.amazon, world.api, creds["token"], warehouses, listed,
                                             every_s=every_s * 2, seed=seed))
            shoppers = CurveShoppers(world.shop, world.amazon, hours=hours, hour_s=hour_s,
                                     peak_orders_per_s=peak_orders_per_s, seed=seed)
            say("first pushes: until every channel shows the hub's figures (as the demo waits)", None, None)
            first_push_s = _first_pushes(world, engine, store_ids, 180)
            hourly: list[dict] = []
            seen: set[tuple[str, str, str]] = set()  # every position a check saw differ
            day_start = time.monotonic()
            shoppers.start()
            for probe in probes:
                probe.start()
            pending = list(schedule)
            next_hour = 1
            while True:
                now_h = (time.monotonic() - day_start) / hour_s
                while pending and pending[0].at_h <= now_h:
                    fault = pending.pop(0)
                    say(f"fault: {fault.kind} at hour {fault.at_h:.2f}", None, None)
                    levers.pull(fault, time.monotonic() - day_start)
                if now_h >= next_hour or now_h >= hours:
                    hourly.append(_hour_sample(world, engine, store_ids, top, next_hour, probes, seen))
                    next_hour += 1
                if now_h >= hours and not pending:
                    break
                say("the day", min(now_h, hours), hours)
                time.sleep(0.1)
            shoppers.stop()
            for probe in probes:
                probe.stop()
            webhook_stats = levers.webhook_chaos_off() if "webhook_chaos" in kinds else {}
            say("settling: faults off, reconciliation, orders and pushes drained", None, None)
            settle = _settle(world, engine, store_ids, settle_s, say, seen)
            hourly.append(_hour_sample(world, engine, store_ids, top, hours + 1, probes, seen, label="settled"))
            shown = tally.shown_levels(world.shop, world.amazon, store_ids)
            open_at_end = tally.discrepancies(shown, tally.hub_meant(engine))
            orders = tally.order_figures(world.shop, world.amazon, engine)
            over = tally.oversold(world.shop, world.amazon)
            recon = tally.reconcile_figures(engine)
            seen |= tally.finding_keys(engine)
            still = {(d["channel"], d["sku"], d["location"]) for d in open_at_end}
            engine.dispose()
            top = _busiest(hourly, TOP_SKUS)
            for h in hourly:
                if "stock" in h:
                    h["stock"] = {sku: h["stock"][sku] for sku in top if sku in h["stock"]}
        finally:
            watch.stop()
            world.stop()
    lags = [ms for probe in probes for _, ms in probe.samples]
    by_channel = {p.channel: {"sync_lag_p50_ms": _percentile([ms for _, ms in p.samples], 50),
                              "sync_lag_p99_ms": _percentile([ms for _, ms in p.samples], 99),
                              "probes": len(p.samples), "probe_errors": p.errors} for p in probes}
    return {
        "hours": hours, "speed": speed, "seed": seed, "backend": backend, "skus": skus,
        "peak_orders_per_s": peak_orders_per_s,
        **orders, **over,
        # positions a channel showed otherwise than the hub meant, seen by the day's checks
        # (each hour, each settling round: the simulators' levels against the hub's
        # projection) or by a reconciliation run; fixed = no longer so at the end
        "discrepancies_found": len(seen),
        "discrepancies_fixed": len(seen - still),
        "discrepancies_open_at_end": len(open_at_end),
        "discrepancies_open_sample": open_at_end[:20],
        "sync_lag_p50_ms": _percentile(lags, 50), "sync_lag_p99_ms": _percentile(lags, 99),
        "sync_lag_probes": len(lags), "sync_lag_probe_errors": sum(p.errors for p in probes),
        # per channel: Shopify's from its level moving, Amazon's from its own record of the quantity's change
        "sync_lag_by_channel": by_channel,
        "reconcile_runs": recon["reconcile_runs"],
        "reconcile": recon, "settle": settle,
        "faults_injected": dict(levers.counts), "fault_log": levers.log,
        "webhook_stats": {k: webhook_stats.get(k) for k in ("events", "delivered", "lost", "duplicated", "reordered",
                                                            "delayed", "retries", "gave_up")},
        "shoppers": shoppers.placed, "shoppers_error": repr(shoppers.error) if shoppers.error else None,
        "hourly": hourly, "top_skus": top,
        "processes": {name: p.figures() for name, p in world.programs.items()},
        "setup_s": round(setup_s, 1), "first_push_s": first_push_s,
        "seconds": round(time.monotonic() - started, 1),
    }


def _hour_sample(world: ChaosWorld, engine, store_ids: dict[str, int], top: list[str], hour: int,
                 probes: list[LagProbe], seen: set, label: str | None = None) -> dict:
    """One point of each chart: orders so far per channel, discrepancies, the top SKUs' stock."""
    try:
        shown = tally.shown_levels(world.shop, world.amazon, store_ids)
        meant = tally.hub_meant(engine)
        taken = tally.sandbox_orders(world.shop, world.amazon)
    except (httpx.HTTPError, sa.exc.OperationalError) as exc:
        return {"hour": hour, "error": str(exc)}
    shop_shown: dict[str, int] = {}
    shop_meant: dict[str, int] = {}
    for totals, levels in ((shop_shown, shown), (shop_meant, meant)):
        for (c, s, _), v in levels.items():
            if c == "shopify":
                totals[s] = totals.get(s, 0) + v
    stock = {sku: {"shopify_shown": shop_shown.get(sku), "shopify_hub": shop_meant.get(sku),
                   "amazon_shown": shown.get(("amazon_seller", sku, "")), "amazon_hub": meant.get(("amazon_seller", sku, ""))}
             for sku in top}
    recent = [ms for p in probes for _, ms in p.samples[-50:]]
    lag_by_channel = {p.channel: _percentile([ms for _, ms in p.samples[-50:]], 50) for p in probes}
    differ = tally.discrepancies(shown, meant)
    seen.update((d["channel"], d["sku"], d["location"]) for d in differ)
    return {"hour": hour, "label": label or f"h{hour}", "orders": {c: len(v) for c, v in taken.items()},
            "discrepancies": len(differ), "lag_p50_ms": _percentile(recent, 50),
            "lag_p99_ms": _percentile(recent, 99), "lag_p50_ms_by_channel": lag_by_channel, "stock": stock}


def _first_pushes(world: ChaosWorld, engine, store_ids: dict[str, int], timeout: float) -> float | None:
    """Seconds until the channels show what the hub means (the opening push), None if not
    within `timeout`: the day's discrepancies are the day's, not the set-up's."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        shown = tally.shown_levels(world.shop, world.amazon, store_ids)
        if not tally.discrepancies(shown, tally.hub_meant(engine)):
            return round(time.monotonic() - t0, 1)
        time.sleep(1.0)
    return None


def _busiest(hourly: list[dict], n: int) -> list[str]:
    """The `n` SKUs whose shown stock fell most over the day (the most sold, roughly)."""
    points = [h["stock"] for h in hourly if "stock" in h]
    if not points:
        return []

    def shown(stock: dict) -> int:
        return (stock["shopify_shown"] or 0) + (stock["amazon_shown"] or 0)

    return sorted(points[0], key=lambda sku: (-(shown(points[0][sku]) - shown(points[-1].get(sku, points[0][sku]))),
                                              sku))[:n]


def _settle(world: ChaosWorld, engine, store_ids: dict[str, int], timeout: float, say: Say, seen: set) -> dict:
    """Reconcile each channel through its real door (`omnihub sync reconcile`), then wait until
    every order the channels took is in the hub and every channel shows the hub's figure."""
    from omnihub.entrypoints.cli.demo_report import hub_backlog

    deadline = time.monotonic() + timeout
    # The day is over and the night passes: Amazon's clock (real time, where the day's is
    # compressed) is moved on by AMAZON_NIGHT_S, past getOrders' two-minute horizon, so
    # that the day's last orders (whose notifications were lost, or refused while the
    # database restarted) are there for the hub's polls and reconciliation to find.
    with httpx.Client(timeout=60) as http:
        http.post(world.amazon + "/_sandbox/clock/advance", json={"seconds": AMAZON_NIGHT_S}).raise_for_status()
    runs = 0
    rounds = 0
    open_now = -1
    lost = -1
    while time.monotonic() < deadline:
        rounds += 1
        with httpx.Client(timeout=130) as http:
            http.post(world.shop + "/_sandbox/webhooks/wait-idle", params={"timeout": 10})
        for channel in ("shopify", "amazon_seller"):
            done = subprocess.run([sys.executable, "-c", _CLI, "sync", "reconcile", channel], env=world.env,
                                  capture_output=True, text=True, timeout=600)
            runs += 1
            if done.returncode != 0:
                say(f"reconcile {channel} failed: {done.stdout[-300:]}{done.stderr[-300:]}", None, None)
        time.sleep(3)  # the worker pushes what the runs corrected
        orders = tally.order_figures(world.shop, world.amazon, engine)
        lost = orders["orders_lost"]
        backlog = hub_backlog(engine)
        differ = tally.discrepancies(tally.shown_levels(world.shop, world.amazon, store_ids), tally.hub_meant(engine))
        seen.update((d["channel"], d["sku"], d["location"]) for d in differ)
        open_now = len(differ)
        missing = {c: n for c, n in orders["orders_lost_by_channel"].items() if n}
        say(f"settling: {lost} orders not in the hub {missing or ''}{orders['orders_lost_sample'][:3] or ''}, "
            f"{open_now} positions differ, "
            f"{backlog['inbox_pending']} deliveries in the inbox", None, None)
        if lost == 0 and open_now == 0 and backlog["inbox_pending"] == 0:
            break
    return {"settled": lost == 0 and open_now == 0, "rounds": rounds, "cli_reconcile_runs": runs}
