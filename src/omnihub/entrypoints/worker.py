"""The worker process: everything that runs in the background, in one place.

- the outbox relay (events → bus → sync intake),
- the inbox processor (webhooks and notifications → order pipeline / observed levels),
- the sync engine (one sender per connected channel),
- the schedules (APScheduler): new orders every 15 min, order updates every 30 min, new
  products every 15 min and product updates every 6 h (incremental, by cursor:
  services/catalog_polling.py), Shopify level snapshots, Amazon orders
  by LastUpdatedAfter, the brokering-queue retry, the sync sweep, and fulfilment status
  back to the channels in batches (every 30 min, services/fulfilment_sync.py).

Stopping is graceful and bounded (SIGTERM or SIGINT): schedules stop first and every
job stops at its next batch (a flag it checks between pages), the inbox finishes the row
in hand and gives back the rest of its batch, senders finish the push in flight and
settle it, all within one budget; whatever is still held then is released, due at once
for the next worker, and the process is gone within EXIT_WITHIN_S of the signal whatever
it was doing (entrypoints/exit_deadline.py). A job cut short moved no cursor past what it
applied, so the next worker redoes the rest. Whatever a killed worker (SIGKILL) held is
leased, not lost: leases expire and the next worker picks the rows up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from omnihub.adapters.channels.connectors import AmazonConnector, ShopifyConnector, build_amazon, build_shopify
from omnihub.adapters.channels.shopify.bulk_levels import BULK_FROM
from omnihub.entrypoints.exit_deadline import ExitDeadline
from omnihub.hub import Hub
from omnihub.services.channel_polling import AmazonPoller, ShopifyPoller
from omnihub.services.reconciliation import RunInProgress
from omnihub.services.catalog_polling import CatalogPoller
from omnihub.services.fulfilment_sync import FulfilmentSync

if TYPE_CHECKING:
    from omnihub.services.reconciliation import Reconciliation

log = structlog.get_logger(__name__)

EXIT_WITHIN_S = 8.0  # from SIGTERM to the process gone (a supervisor's usual grace is 10 s)
STOP_WITHIN_S = 5.0  # the graceful part of it: what is left is the hub's close and the exit


@dataclass
class Schedules:
    """Seconds between runs; the defaults are the seeds' (001/002)."""

    new_orders_s: float = 15 * 60
    order_updates_s: float = 30 * 60
    new_products_s: float = 15 * 60
    product_updates_s: float = 6 * 3600
    level_snapshot_s: float = 15 * 60
    amazon_orders_s: float = 15 * 60
    queue_retry_s: float = 60
    sweep_s: float = 60
    fulfilments_s: float = 30 * 60  # seeds: fulfilled orders go back to Shopify in batches every 30 min
    # How long a claim on an inbox row or a sync intent holds: what a killed worker held
    # waits this long for the next one. None keeps the services' own (60 s inbox, 30 s sync).
    lease_s: float | None = None
    reconcile_s: float = 60 * 60  # each channel's levels and orders compared with the hub's (reconciliation)
    budgets_s: float = 5  # what each channel's rate-limit budget shows, written for the console


class Worker:
    def __init__(self, hub: Hub, *, shopify: ShopifyConnector | None = None, amazon: AmazonConnector | None = None,
                 schedules: Schedules | None = None, inbox_interval_s: float = 0.1) -> None:
        self.hub = hub
        self.shopify = shopify
        self.amazon = amazon
        self.schedules = schedules or Schedules()
        self.inbox_interval_s = inbox_interval_s
        self._stop = threading.Event()
        self._inbox_thread: threading.Thread | None = None
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "run skipped" is expected under load
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self.shopify_poller: ShopifyPoller | None = None
        self.amazon_poller: AmazonPoller | None = None
        self.catalog_poller: CatalogPoller | None = None
        self.reconciliation: Reconciliation | None = None
        self.fulfilments = fulfilment_sync(hub, shopify=shopify, amazon=amazon)
        hub.sync.sweep_interval_s = self.schedules.sweep_s
        if self.schedules.lease_s:
            hub.sync.lease_s = hub.inbox.lease_s = self.schedules.lease_s
        # A drop the channel shows but the hub cannot explain may be a sale whose webhook
        # was lost: hold the hub's higher figure until the order poll has run twice.
        hub.sync.reassert_after_s = max(30.0, 2 * self.schedules.new_orders_s + 60)
        if shopify:
            hub.sync.register(shopify.channel, shopify.pusher)
            hub.inbox.shopify_channel = shopify.channel
            self.shopify_poller = ShopifyPoller(hub.engine, shopify.client, hub.orders.ingest_many, channel=shopify.channel,
                                                observe_level=hub.sync.observe_level, bulk_from=BULK_FROM)
            hub.inbox.fetch_shopify_order = self.shopify_poller.fetch_order  # a refused order sent again
        if amazon:
            hub.sync.register(amazon.channel, amazon.pusher)
            hub.inbox.amazon_channel = amazon.channel
            hub.inbox.fetch_amazon_order = amazon.fetch_order
            self.amazon_poller = AmazonPoller(hub.engine, amazon.client, hub.orders.ingest_many, channel=amazon.channel)

    @classmethod
    def from_vault(cls, hub: Hub, *, shopify_channel: str = "shopify", amazon_channel: str = "amazon_seller",
                   schedules: Schedules | None = None) -> "Worker":
        shopify = amazon = None
        if secrets := hub.vault.get(shopify_channel):
            shopify = build_shopify(shopify_channel, secrets)
        if secrets := hub.vault.get(amazon_channel):
            amazon = build_amazon(amazon_channel, secrets)
        return cls(hub, shopify=shopify, amazon=amazon, schedules=schedules)

    # -- jobs --------------------------------------------------------------------------------
    def _job(self, name, fn):
        def run():
            try:
                result = fn()
                log.info("scheduled job done", job=name, result=getattr(result, "__dict__", result))
            except Exception:
                log.exception("scheduled job failed", job=name)
        return run

    def _schedule(self) -> None:
        s = self.schedules
        add = self.scheduler.add_job
        add(self._job("brokering_queue_retry", self.hub.orders.retry_queue), "interval", seconds=s.queue_retry_s,
            id="queue_retry")
        if self.shopify and self.shopify_poller:  # the poller is there with the connector
            p = self.shopify_poller
            add(self._job("shopify_new_orders", lambda: p.poll_orders(field="created_at")), "interval",
                seconds=s.new_orders_s, id="shopify_new_orders")
            add(self._job("shopify_order_updates", lambda: p.poll_orders(field="updated_at")), "interval",
                seconds=s.order_updates_s, id="shopify_order_updates")
            add(self._job("shopify_level_snapshot", p.snapshot_levels), "interval", seconds=s.level_snapshot_s,
                id="shopify_level_snapshot")
            # Incremental: only what was created / changed since each poll's cursor.
            catalog = self.catalog_poller = CatalogPoller(self.hub.engine, self.shopify.client, channel=self.shopify.channel)
            add(self._job("shopify_new_products", catalog.poll_new), "interval", seconds=s.new_products_s,
                id="shopify_new_products")
            add(self._job("shopify_product_updates", catalog.poll_updates), "interval", seconds=s.product_updates_s,
                id="shopify_product_updates")
        if self.amazon_poller:
            add(self._job("amazon_orders", self.amazon_poller.poll_orders), "interval", seconds=s.amazon_orders_s,
                id="amazon_orders")
        if self.fulfilments.notifiers:
            add(self._job("channel_fulfilments", self.fulfilments.run_once), "interval", seconds=s.fulfilments_s,
                id="channel_fulfilments")
        if self.shopify or self.amazon:
            add(self._job("channel_budgets", self._report_budgets), "interval", seconds=s.budgets_s, id="channel_budgets",
                next_run_time=datetime.now(UTC))
        if self.shopify or self.amazon:  # the safety net under lost webhooks: classify and repair differences
            from omnihub.entrypoints.reconciliation_wiring import reconciliation

            recon = self.reconciliation = reconciliation(self.hub, shopify=self.shopify, amazon=self.amazon)
            try:  # runs a killed worker (or API) left `running` are reported failed, with why
                recon.fail_abandoned()
            except Exception:
                log.exception("could not check for abandoned reconciliation runs")
            for ch in recon.readers:
                add(self._job(f"reconcile_{ch}", lambda ch=ch: recon.run(ch, trigger="schedule", with_findings=False)), "interval",
                    seconds=s.reconcile_s, id=f"reconcile_{ch}")
            if self._reconcile_recovered not in self.hub.sync.recovery_listeners:
                self.hub.sync.recovery_listeners.append(self._reconcile_recovered)

    def budget_use(self) -> list:
        """What each connected channel's rate-limit mirror shows now (services/channel_budgets.py)."""
        from prometheus_client import REGISTRY

        from omnihub.services.channel_budgets import BudgetUse

        def throttled(channel: str) -> int:
            return int(REGISTRY.get_sample_value("omnihub_channel_throttled_total", {"channel": channel}) or 0)

        uses = []
        if self.shopify:
            bucket = self.shopify.client.bucket
            uses.append(BudgetUse(self.shopify.channel, bucket.used_pct(), bucket.stats.peak_used_pct,
                                  bucket.stats.throttled))
        if self.amazon:
            uses.append(BudgetUse(self.amazon.channel, self.amazon.client.limiter.used_pct(), None,
                                  throttled(self.amazon.channel)))
        return uses

    def _report_budgets(self) -> int:
        """Each connected channel's budget and health, for the console (another process)."""
        from omnihub.services import channel_health_reports
        from omnihub.services.channel_budgets import report

        uses = self.budget_use()
        report(self.hub.engine, uses)
        now = datetime.now(UTC)
        sync = self.hub.sync
        channel_health_reports.report(self.hub.engine, [channel_health_reports.of_health(ch, sync.health.get(ch), now)
                                                        for ch in sorted(sync.pushers)], now=now)
        return len(uses)

    def _reconcile_recovered(self, channel: str) -> None:
        """A channel answers again after an outage (services/channel_sync.py): reconcile it
        now, not at the next schedule: its webhooks were lost and its tills sold meanwhile."""
        recon = self.reconciliation
        if recon is None or channel not in recon.readers or not self.scheduler.running or self._stop.is_set():
            return

        def run():
            try:
                return recon.run(channel, trigger="recovered", with_findings=False)
            except RunInProgress as busy:  # a scheduled or requested run is at it already
                log.info("reconciliation after an outage not started", channel=channel, reason=str(busy))
                return None

        self.scheduler.add_job(self._job(f"reconcile_{channel}_recovered", run), id=f"reconcile_{channel}_recovered",
                               replace_existing=True)

    def _inbox_loop(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.hub.inbox.process_once()
            except Exception:
                log.exception("inbox processing failed; retrying")
                n = 0
            if not n:
                self._stop.wait(self.inbox_interval_s)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        if self.hub.relay._thread is None:
            self.hub.relay.start(interval=0.1)
        self.hub.sync.start()
        self._inbox_thread = threading.Thread(target=self._inbox_loop, name="inbox", daemon=True)
        self._inbox_thread.start()
        self._schedule()
        if self._stop.is_set():  # stopped while starting (run_forever starts in a thread): no schedule runs
            return
        self.scheduler.start()
        log.info("worker started", channels=list(self.hub.sync.pushers))

    def _job_threads(self) -> list[threading.Thread]:
        """The scheduler's worker threads (APScheduler keeps them in its pool executor)."""
        pools = [getattr(ex, "_pool", None) for ex in getattr(self.scheduler, "_executors", {}).values()]
        return [th for pool in pools if pool is not None for th in list(getattr(pool, "_threads", ()))]

    def _stoppable_jobs(self) -> list:
        """The scheduled jobs that look at a stop flag between their batches."""
        return [j for j in (self.shopify_poller, self.amazon_poller, self.catalog_poller, self.reconciliation,
                            self.fulfilments) if j is not None]

    def stop(self, within_s: float = STOP_WITHIN_S) -> None:
        """Stop everything within one budget of `within_s` seconds (not one each): jobs
        finish the batch in hand, the inbox its row, senders the push in flight; what is
        still held at the end is released (or its lease runs out), and a job cut short
        is redone from its cursor next time."""
        deadline = time.monotonic() + within_s

        def left(share: float = 1.0) -> float:
            return max(0.0, (deadline - time.monotonic()) * share)

        jobs = self._job_threads()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # a poll in progress ingests idempotently; cut short, it is redone
        for job in self._stoppable_jobs():
            job.stopping.set()
        self._stop.set()
        self.hub.inbox.stopping.set()
        self.hub.sync._stop.set()  # senders stop taking batches while the inbox finishes its row
        if self._inbox_thread:
            self._inbox_thread.join(timeout=left(0.4))
        self.hub.relay.stop(timeout=left(0.3))  # the outbox keeps whatever it has not relayed
        self.hub.sync.stop(timeout=left(0.5))
        released = self.hub.inbox.release_leases() + self.hub.sync.release_leases()
        if released:
            log.warning("claims released at stop", count=released)
        for conn in (self.shopify, self.amazon):
            if conn:
                conn.client.close()
        # A job still running (a poll, now cut short by its stop flag and the closed
        # clients) holds a database connection: let it end, so that the hub closes every
        # connection (SQLite then checkpoints and removes its -wal file).
        for th in jobs:
            th.join(timeout=left())
        busy = [th.name for th in jobs if th.is_alive()]
        log.info("worker stopped", jobs_still_running=busy or None)

    def run_forever(self, within_s: float = EXIT_WITHIN_S) -> None:
        """Run until SIGINT/SIGTERM, then stop gracefully; the process is gone within
        `within_s` of the signal whatever it was doing (see ExitDeadline).

        The main thread only waits: starting (an initial sweep, the abandoned-run check)
        runs in a thread of its own, because a signal's handler runs in the main thread
        and only between Python steps, so a main thread waiting on the database inside
        SQLite would not even notice the signal until that call returned. It sleeps 0.25 s
        at a time: a signal the kernel hands to another thread only marks the handler due,
        and a main thread asleep in a wait without end would never run it."""
        import signal

        asked: list[int] = []  # the handler only notes the signal and arms the deadline: no lock a wait might hold
        deadline = ExitDeadline(within_s)

        def on_signal(signum, _frame):
            deadline.arm()  # counting from the signal itself, whatever the stop then meets
            asked.append(signum)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        starter = threading.Thread(target=self.start, name="worker-start", daemon=True)
        starter.start()
        try:
            while not asked:
                time.sleep(0.25)  # woken regularly: see above
        finally:
            deadline.arm()
            starter.join(timeout=within_s * 0.2)  # a start still under way is cut short by the stop flags
            self.stop(within_s=within_s * 0.5)


def fulfilment_sync(hub: Hub, *, shopify: ShopifyConnector | None = None,
                    amazon: AmazonConnector | None = None) -> FulfilmentSync:
    """The fulfilment job with a notifier for each connected channel (Shopify online only:
    POS sales are fulfilled at the till)."""
    from omnihub.adapters.channels.amazon.fulfilment import AmazonFulfilmentNotifier
    from omnihub.adapters.channels.shopify.fulfilment import ShopifyFulfilmentNotifier

    job = FulfilmentSync(hub.engine)
    if shopify:
        job.register(shopify.channel, ShopifyFulfilmentNotifier(shopify.client))
    if amazon:
        job.register(amazon.channel, AmazonFulfilmentNotifier(amazon.client))
    return job
