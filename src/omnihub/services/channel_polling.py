"""Polling: the safety net under webhooks and notifications (which may never arrive).

- Shopify orders updated since the cursor (`updated_at:>'…'`, sorted by UPDATED_AT,
  paged): new orders, edits, partial and full cancellations all move `updated_at`, which
  is how seeds 001/002 say they are found. The cursor overlaps by a minute: re-reading an
  order is harmless (the pipeline ignores a version it has), missing one is not.
- Amazon orders by LastUpdatedAfter with NextToken; items are fetched only for orders
  whose LastUpdateDate is newer than the hub's version (getOrderItems is 0.5/s).
- Shopify level snapshots: every mapped location's levels compared with what the channel
  last confirmed; a difference (a POS sale whose webhook was lost, an admin edit) is
  recorded and the hub's figure re-asserted, and the order poll runs to find the sales.
  A large estate's levels come from one bulk query (paged, a level costs ~3 points: 5 M
  levels would take a Plus bucket four hours, every snapshot, and starve the pushes).

An order the pipeline refuses for what it says (an unknown SKU, beyond the hub's limits)
is parked once with the reason (services/parked_orders.py); later polls skip the version
parked, so a refusal is neither repeated nor logged again at every poll.

The cursor never passes an order silently: every order a poll sees is in the hub, parked
with its reason, or handed to the inbox (topic order/polled, its payload as the channel
served it) before the cursor moves. An order that cannot be read is parked there; one
whose ingest (or, on Amazon, getOrderItems) failed for the moment is retried there with
back-off and parked after the inbox's cap. A poll that cannot even do that (the hub's
database is down) raises, and its cursor stays where it was.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.db.stored_times import as_utc
from omnihub.adapters.channels.amazon.order_mapping import order_from_sp_api
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_levels import bulk_levels
from omnihub.adapters.channels.shopify.bulk_query import BulkOperationBusy, BulkQuery
from omnihub.adapters.channels.shopify.location_levels import LocationLevel, location_gid, location_levels
from omnihub.adapters.channels.shopify.order_mapping import numeric_id, order_from_graphql
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import for_reading
from omnihub.domain.orders import Order
from omnihub.services.job_spool import JobSpool, pages
from omnihub.services.listing_lookup import ListingIndex
from omnihub.services.parked_orders import PARKED, ParkedOrders, is_refusal

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=1)
LEVEL_PAGE = 250  # Shopify's levels compared at a time (one read of the hub's side per page)


def read_cursor(engine: Engine, channel: str, name: str) -> str | None:
    c = t.channel_cursors
    with engine.connect() as conn:
        return conn.execute(sa.select(c.c.value).where(c.c.channel == channel, c.c.name == name)).scalar()


def write_cursor(engine: Engine, channel: str, name: str, value: str) -> None:
    c = t.channel_cursors
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if not conn.execute(c.update().where(c.c.channel == channel, c.c.name == name).values(value=value, updated_at=now)).rowcount:
            conn.execute(c.insert().values(channel=channel, name=name, value=value, updated_at=now))


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@dataclass
class PollReport:
    seen: int = 0
    ingested: int = 0
    failed: int = 0
    differences: int = 0
    refused: int = 0  # parked (for the first time or again, after a new version)
    parked_skipped: int = 0  # versions parked already: not fetched, not ingested again
    parked: int = 0  # could not be read (or failed for good): parked in the inbox with the reason
    retrying: int = 0  # failed for the moment: handed to the inbox, which tries them again
    stopped: bool = False  # cut short by the worker's stop: the cursor stayed, the next poll reads on from it


def _ingest_isolated(ingest_many: Callable[[list[Order]], list], orders: list[Order]) -> list:
    """One result per order (an exception for a failure): should the call fail as a whole,
    each order is ingested on its own, so one order's trouble is not its neighbours'."""
    try:
        results = ingest_many(orders)
        if len(results) == len(orders):
            return results
    except Exception:
        log.warning("polled batch ingest failed: ingesting its orders one by one", orders=len(orders))
    out: list = []
    for order in orders:
        try:
            out.append(ingest_many([order])[0])
        except Exception as exc:
            out.append(exc)
    return out


def _count_kept(report: PollReport, outcome: str) -> None:
    if outcome == PARKED:
        report.parked += 1
    elif outcome == "retrying":
        report.retrying += 1
    else:
        report.parked_skipped += 1  # this version is in the inbox already


class _Stopped(Exception):
    """The worker stopped while the snapshot waited for Shopify's bulk query."""


class ShopifyPoller:
    def __init__(self, engine: Engine, client, ingest_many: Callable[[list[Order]], list], *, channel: str = "shopify",
                 observe_level: Callable[[str, str, str, int, datetime | None], None] | None = None, page: int = 5,
                 level_page: int = LEVEL_PAGE, bulk_from: int | None = None) -> None:
        self.engine = engine
        self.level_page = level_page
        #: mapped levels from which the snapshot reads Shopify's by one bulk query (None:
        #: always page by page; the worker sets bulk_levels.BULK_FROM, as reconciliation)
        self.bulk_from = bulk_from
        self.client = client
        self.ingest_many = ingest_many
        self.channel = channel
        self.observe_level = observe_level
        self.page = page
        self.parked = ParkedOrders(engine)
        self.stopping = threading.Event()  # set by the worker's stop: no further page is taken

    def _locations(self) -> dict[str, int]:
        cl, loc = t.channel_locations, t.locations
        with self.engine.connect() as conn:
            return {numeric_id(ext): lid for ext, lid in conn.execute(
                sa.select(cl.c.external_location_id, loc.c.id).join(loc, loc.c.code == cl.c.location)
                .where(cl.c.channel == self.channel))}

    def poll_orders(self, *, since: datetime | None = None, field: str = "updated_at",
                    history: timedelta = timedelta(days=30)) -> PollReport:
        """Orders whose `field` (updated_at: every change; created_at: new orders only) is
        past the cursor; `history` is how far back the first poll reaches (1, 2 or 6 months
        at set-up, as the merchant chooses)."""
        if field not in ("updated_at", "created_at"):
            raise ValueError("field is updated_at or created_at")
        cursor_name = f"orders.{field}"
        node_field = "updatedAt" if field == "updated_at" else "createdAt"
        report = PollReport()
        stored = read_cursor(self.engine, self.channel, cursor_name)
        start = since or (_parse(stored) - OVERLAP if stored else datetime.now(UTC) - history)
        search = f"{field}:>'{start.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        newest = self.read_orders(search, report, newest=stored, time_field=node_field)
        if newest and newest != stored and not report.stopped:
            write_cursor(self.engine, self.channel, cursor_name, newest)
        return report

    def read_orders(self, search: str, report: PollReport, *, newest: str | None = None,
                    time_field: str = "updatedAt") -> str | None:
        """Every order matching `search` (Shopify search syntax), paged, mapped and handed to
        the idempotent ingest; returns the newest `time_field` seen (for a cursor)."""
        locs = self._locations()
        after = None
        while True:
            data = self.client.execute(docs.ORDERS_UPDATED, {"first": self.page, "after": after, "query": search})
            conn_ = data["orders"]
            self._take(conn_["nodes"], locs, report)
            for node in conn_["nodes"]:
                stamp = node.get(time_field) if isinstance(node, dict) else None
                try:
                    if stamp and (newest is None or _parse(stamp) > _parse(newest)):
                        newest = stamp
                except ValueError:
                    pass  # not a time: that node was parked by _take, and moves no cursor
            if not conn_["pageInfo"]["hasNextPage"]:
                return newest
            if self.stopping.is_set():
                report.stopped = True
                return newest
            after = conn_["pageInfo"]["endCursor"]

    def _take(self, nodes: list, locs: dict[str, int], report: PollReport) -> None:
        """One page of order nodes: mapped, ingested, and each that did not go in parked
        or handed to the inbox (never only counted)."""
        orders: list[tuple[dict, Order]] = []
        for node in nodes:
            report.seen += 1
            try:
                orders.append((node, order_from_graphql(node, lambda ext: locs.get(numeric_id(ext)))))
            except Exception as exc:
                report.failed += 1
                self._keep(node, exc, report)
        kept, skipped = self.parked.skip([o for _, o in orders]) if orders else ([], 0)
        report.parked_skipped += skipped
        still = {id(o) for o in kept}
        orders = [(n, o) for n, o in orders if id(o) in still]
        if not orders:
            return
        results = _ingest_isolated(self.ingest_many, [o for _, o in orders])
        refused, failed = self.parked.settle("shopify", [o for _, o in orders], results)
        report.refused += refused
        report.failed += failed
        report.ingested += len(orders) - refused - failed
        for (node, _), res in zip(orders, results):
            if isinstance(res, Exception) and not is_refusal(res):
                self._keep(node, res, report)

    def _keep(self, node, exc: BaseException, report: PollReport) -> None:
        ext = numeric_id(node.get("id")) if isinstance(node, dict) else ""
        version = str(node.get("updatedAt")) if isinstance(node, dict) else ""
        _count_kept(report, self.parked.keep_polled("shopify", self.channel, ext or "?", version, {"node": node}, exc))

    def fetch_order(self, external_id: str) -> Order:
        """One order as the poll reads it (by its number): how the inbox fetches again a
        refused order an operator sends through."""
        data = self.client.execute(docs.ORDERS_UPDATED, {"first": 1, "after": None, "query": f"id:{int(external_id)}"})
        nodes = data["orders"]["nodes"]
        if not nodes:
            raise LookupError(f"Shopify has no order {external_id}")
        locs = self._locations()
        return order_from_graphql(nodes[0], lambda ext: locs.get(numeric_id(ext)))

    def snapshot_levels(self) -> PollReport:
        """Compare every mapped level with what Shopify last confirmed (each location read
        as reconciliation reads it: adapters/channels/shopify/location_levels.py), one page
        of Shopify's levels at a time: the page's SKUs (listing_lookup.py) and confirmed
        figures are read for that page alone, so memory stays a page whatever the estate's
        size. A snapshot cut short by a stop compares nothing more (the next one redoes it)."""
        report = PollReport()
        cl = t.channel_locations
        with self.engine.connect() as conn:
            locations = dict(conn.execute(sa.select(cl.c.external_location_id, cl.c.location).where(cl.c.channel == self.channel)).all())
        with JobSpool() as spool:
            listings = ListingIndex(spool, self.engine, self.channel, by_external_id=False)
            try:
                for code, page in self._level_pages(locations):
                    if self.stopping.is_set():
                        report.stopped = True
                        return report
                    self._compare_levels(code, page, listings.skus([level.item_id for level in page]), report)
            except _Stopped:
                report.stopped = True
                return report
        if report.differences and not self.stopping.is_set():
            self.poll_orders()  # the sales behind the differences, if their webhooks were lost
        return report

    def _level_pages(self, locations: dict[str, str]) -> Iterator[tuple[str, list[LocationLevel]]]:
        """(location code, a page of Shopify's levels there), every mapped location: by one
        bulk query from `bulk_from` mapped levels, else page by page. A bulk read's figures
        are as of the query's start: Shopify walks the shop after it, so a push
        acknowledged since may be newer than what the file says (and then wins)."""
        if self.bulk_from is not None and self._mapped_levels(len(locations)) >= self.bulk_from:
            asked = datetime.now(UTC)
            try:
                shown = bulk_levels(self.client, list(locations), bulk=BulkQuery(self.client, max_poll_s=5.0,
                                                                                 sleep=self._sleep_unless_stopping))
            except BulkOperationBusy as busy:  # another job's bulk query (reconciliation): paging would cost hours
                log.info("level snapshot skipped: Shopify is running another bulk operation", channel=self.channel,
                         detail=str(busy))
                return
            code_of = {location_gid(ext): code for ext, code in locations.items()}
            for gid, levels in itertools.groupby(shown, key=lambda lv: lv.location_id):
                for shown_page in pages(levels, self.level_page):
                    yield code_of[gid], [LocationLevel(lv.item_id, lv.channel_sku, lv.available, lv.committed, asked)
                                         for lv in shown_page]
            return
        for ext, code in sorted(locations.items()):
            for page in pages(location_levels(self.client, ext, page=self.level_page), self.level_page):
                yield code, page

    def _mapped_levels(self, locations: int) -> int:
        li = t.channel_listings
        with self.engine.connect() as conn:
            listed = conn.execute(sa.select(sa.func.count()).select_from(li).where(li.c.channel == self.channel)).scalar()
        return (listed or 0) * locations

    def _sleep_unless_stopping(self, seconds: float) -> None:
        """The bulk query's wait between polls, cut short by the worker's stop."""
        if self.stopping.wait(seconds):
            raise _Stopped()

    def _compare_levels(self, code: str, page: list, skus: dict[str, str], report: PollReport) -> None:
        lv = t.channel_levels
        confirmed: dict[str, int] = {}
        if skus:
            with for_reading(self.engine).connect() as conn:  # a read: never queued for the write lock
                confirmed = dict(conn.execute(sa.select(lv.c.sku, lv.c.confirmed).where(
                    lv.c.channel == self.channel, lv.c.location == code, lv.c.sku.in_(sorted(set(skus.values()))))).all())
        for level in page:
            sku = skus.get(level.item_id)
            if sku is None or level.available is None:
                continue
            report.seen += 1
            if confirmed.get(sku) != level.available:
                report.differences += 1
                if self.observe_level:
                    # As of when the page was asked for: a push acknowledged since (its
                    # figure read above as confirmed) is newer, and the page's is ignored.
                    self.observe_level(self.channel, sku, code, level.available, level.read_at)


class AmazonPoller:
    def __init__(self, engine: Engine, client, ingest_many: Callable[[list[Order]], list], *,
                 channel: str = "amazon_seller") -> None:
        self.engine = engine
        self.client = client
        self.ingest_many = ingest_many
        self.channel = channel
        self.parked = ParkedOrders(engine)
        self.stopping = threading.Event()  # set by the worker's stop: no further page is taken

    def _known_versions(self, ids: list[str]) -> dict[str, datetime]:
        o = t.orders
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(o.c.external_id, o.c.channel_updated_at)
                                .where(o.c.channel == self.channel, o.c.external_id.in_(ids))).all()
        return {r[0]: as_utc(r[1]) for r in rows}

    def _take(self, batch: list, report: PollReport) -> None:
        """One page of getOrders: items fetched for the versions the hub lacks, ingested,
        and each order that did not go in parked or handed to the inbox."""
        ids = [o["AmazonOrderId"] for o in batch if isinstance(o, dict) and isinstance(o.get("AmazonOrderId"), str)]
        known = self._known_versions(ids) if ids else {}
        parked = self.parked.versions(self.channel, ids) if ids else {}
        kept = self.parked.kept_versions(self.channel, [(o["AmazonOrderId"], str(o.get("LastUpdateDate")))
                                                        for o in batch if isinstance(o, dict) and o.get("AmazonOrderId") in ids])
        orders: list[tuple[dict, list, Order]] = []
        for o in batch:
            report.seen += 1
            oid = o.get("AmazonOrderId") if isinstance(o, dict) else None
            try:
                updated = _parse(o["LastUpdateDate"])
                if oid in known and known[oid] >= updated:
                    continue
                if oid in parked and parked[oid] >= updated:
                    report.parked_skipped += 1  # refused before at this version: no getOrderItems, no log
                    continue
                if (oid, str(o["LastUpdateDate"])) in kept:
                    report.parked_skipped += 1  # this version is in the inbox already (parked or retrying)
                    continue
            except Exception as exc:  # not an order we can place in time: parked, never passed over in silence
                report.failed += 1
                self._keep(o, None, exc, report)
                continue
            try:
                items = self.client.get_order_items(oid)
            except Exception as exc:  # throttled past its retries, a timeout...: the inbox fetches it later
                report.failed += 1
                self._keep(o, None, exc, report)
                continue
            try:
                orders.append((o, items, order_from_sp_api(o, items, channel=self.channel)))
            except Exception as exc:
                report.failed += 1
                self._keep(o, items, exc, report)
        if not orders:
            return
        results = _ingest_isolated(self.ingest_many, [order for _, _, order in orders])
        refused, failed = self.parked.settle("amazon", [order for _, _, order in orders], results)
        report.refused += refused
        report.failed += failed
        report.ingested += len(orders) - refused - failed
        for (o, items, _), res in zip(orders, results):
            if isinstance(res, Exception) and not is_refusal(res):
                self._keep(o, items, res, report)

    def _keep(self, raw, items: list | None, exc: BaseException, report: PollReport) -> None:
        oid = raw.get("AmazonOrderId") if isinstance(raw, dict) else None
        version = str(raw.get("LastUpdateDate")) if isinstance(raw, dict) else ""
        payload = {"channel": self.channel, "order": raw, "items": items}
        _count_kept(report, self.parked.keep_polled("amazon", self.channel, str(oid or "?"), version, payload, exc))

    def poll_orders(self, *, since: datetime | None = None, cursor_name: str = "orders.last_updated") -> PollReport:
        report = PollReport()
        stored = read_cursor(self.engine, self.channel, cursor_name)
        start = since or (_parse(stored) - OVERLAP if stored else datetime.now(UTC) - timedelta(days=30))
        payload = self.client.get_orders(last_updated_after=start)
        while True:
            self._take(payload.get("Orders") or [], report)
            token = payload.get("NextToken")
            if not token:
                break
            if self.stopping.is_set():
                report.stopped = True
                return report  # the cursor stays: the next poll reads this window again
            payload = self.client.get_orders(next_token=token)
        # The window closes at LastUpdatedBefore (Amazon serves nothing newer than 2 min ago).
        until = payload.get("LastUpdatedBefore")
        if until:
            write_cursor(self.engine, self.channel, cursor_name, until)
        return report
