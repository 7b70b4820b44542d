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

An order the pipeline refuses for what it says (an unknown SKU) is parked once with the
reason (services/parked_orders.py); later polls skip the version parked, so a refusal
is neither repeated nor logged again at every poll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.amazon.order_mapping import AmazonPayloadError, order_from_sp_api
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.location_levels import location_levels
from omnihub.adapters.channels.shopify.order_mapping import ShopifyPayloadError, numeric_id, order_from_graphql
from omnihub.adapters.db import tables as t
from omnihub.domain.orders import Order
from omnihub.services.parked_orders import ParkedOrders

log = structlog.get_logger(__name__)

OVERLAP = timedelta(minutes=1)


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


class ShopifyPoller:
    def __init__(self, engine: Engine, client, ingest_many: Callable[[list[Order]], list], *, channel: str = "shopify",
                 observe_level: Callable[[str, str, str, int], None] | None = None, page: int = 5) -> None:
        self.engine = engine
        self.client = client
        self.ingest_many = ingest_many
        self.channel = channel
        self.observe_level = observe_level
        self.page = page
        self.parked = ParkedOrders(engine)

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
        if newest and newest != stored:
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
            orders: list[Order] = []
            for node in conn_["nodes"]:
                report.seen += 1
                if newest is None or _parse(node[time_field]) > _parse(newest):
                    newest = node[time_field]
                try:
                    orders.append(order_from_graphql(node, lambda ext: locs.get(numeric_id(ext))))
                except (ShopifyPayloadError, ValueError) as exc:
                    report.failed += 1
                    log.warning("polled order not understood", channel=self.channel, order=node.get("id"), error=str(exc))
            orders, skipped = self.parked.skip(orders) if orders else (orders, 0)
            report.parked_skipped += skipped
            if orders:
                results = self.ingest_many(orders)
                refused, failed = self.parked.settle("shopify", orders, results)
                report.refused += refused
                report.failed += failed
                report.ingested += len(orders) - refused - failed
            if not conn_["pageInfo"]["hasNextPage"]:
                return newest
            after = conn_["pageInfo"]["endCursor"]

    def snapshot_levels(self) -> PollReport:
        """Compare every mapped level with what Shopify last confirmed (each location read
        as reconciliation reads it: adapters/channels/shopify/location_levels.py)."""
        report = PollReport()
        cl, li, lv = t.channel_locations, t.channel_listings, t.channel_levels
        with self.engine.connect() as conn:
            locations = dict(conn.execute(sa.select(cl.c.external_location_id, cl.c.location).where(cl.c.channel == self.channel)).all())
            skus = {numeric_id(inv): sku for sku, inv in conn.execute(
                sa.select(li.c.sku, li.c.external_inventory_item_id).where(li.c.channel == self.channel)) if inv}
            confirmed = {(r.sku, r.location): r.confirmed for r in conn.execute(sa.select(lv).where(lv.c.channel == self.channel))}
        for ext, code in locations.items():
            for level in location_levels(self.client, ext):
                sku = skus.get(level.item_id)
                if sku is None or level.available is None:
                    continue
                report.seen += 1
                if confirmed.get((sku, code)) != level.available:
                    report.differences += 1
                    if self.observe_level:
                        self.observe_level(self.channel, sku, code, level.available)
        if report.differences:
            self.poll_orders()  # the sales behind the differences, if their webhooks were lost
        return report


class AmazonPoller:
    def __init__(self, engine: Engine, client, ingest_many: Callable[[list[Order]], list], *,
                 channel: str = "amazon_seller") -> None:
        self.engine = engine
        self.client = client
        self.ingest_many = ingest_many
        self.channel = channel
        self.parked = ParkedOrders(engine)

    def _known_versions(self, ids: list[str]) -> dict[str, datetime]:
        o = t.orders
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(o.c.external_id, o.c.channel_updated_at)
                                .where(o.c.channel == self.channel, o.c.external_id.in_(ids))).all()
        return {r[0]: (r[1] if r[1].tzinfo else r[1].replace(tzinfo=UTC)) for r in rows}

    def poll_orders(self, *, since: datetime | None = None, cursor_name: str = "orders.last_updated") -> PollReport:
        report = PollReport()
        stored = read_cursor(self.engine, self.channel, cursor_name)
        start = since or (_parse(stored) - OVERLAP if stored else datetime.now(UTC) - timedelta(days=30))
        payload = self.client.get_orders(last_updated_after=start)
        while True:
            batch = payload.get("Orders") or []
            ids = [o["AmazonOrderId"] for o in batch if isinstance(o, dict) and o.get("AmazonOrderId")]
            known = self._known_versions(ids) if ids else {}
            parked = self.parked.versions(self.channel, ids) if ids else {}
            orders = []
            for o in batch:
                report.seen += 1
                try:
                    updated = _parse(o["LastUpdateDate"])
                    if o["AmazonOrderId"] in known and known[o["AmazonOrderId"]] >= updated:
                        continue
                    if o["AmazonOrderId"] in parked and parked[o["AmazonOrderId"]] >= updated:
                        report.parked_skipped += 1  # refused before at this version: no getOrderItems, no log
                        continue
                    orders.append(order_from_sp_api(o, self.client.get_order_items(o["AmazonOrderId"]), channel=self.channel))
                except (AmazonPayloadError, KeyError, ValueError) as exc:
                    report.failed += 1
                    log.warning("polled Amazon order not understood", order=o.get("AmazonOrderId"), error=str(exc))
            if orders:
                results = self.ingest_many(orders)
                refused, failed = self.parked.settle("amazon", orders, results)
                report.refused += refused
                report.failed += failed
                report.ingested += len(orders) - refused - failed
            token = payload.get("NextToken")
            if not token:
                break
            payload = self.client.get_orders(next_token=token)
        # The window closes at LastUpdatedBefore (Amazon serves nothing newer than 2 min ago).
        until = payload.get("LastUpdatedBefore")
        if until:
            write_cursor(self.engine, self.channel, cursor_name, until)
        return report
