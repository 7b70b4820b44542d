"""The inbox: every webhook and notification is stored raw in the transaction that
accepts it (so the channel can be answered at once, well within its 5 s), then processed
asynchronously by whichever worker claims it.

- De-duplication is the unique (source, delivery id): Shopify's X-Shopify-Webhook-Id,
  Amazon's NotificationMetadata.NotificationId. A second delivery is answered 200 and
  ignored.
- Claims are leases that expire: a worker killed mid-way leaves rows that another (or
  the restarted) worker picks up; processing is idempotent (orders are versioned by the
  channel's updated time, levels are absolute).
- A payload that cannot be understood is marked `failed` with its error, for an operator,
  and never blocks the rows behind it. Transient failures (channel unreachable) go back
  to `pending` with back-off.
- An order the pipeline refuses for what it says (an unknown SKU) is parked once, with
  the reason (services/parked_orders.py); the delivery that brought it is done. Another
  delivery or poll of it counts on the parked row and logs nothing.
- Shopify's privacy topics (customers/redact, shop/redact, customers/data_request) are
  handed to the privacy service (services/customer_privacy.py) after the batch's orders
  are in, so an order version of the same batch cannot write back what was erased.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.amazon.notifications import NotificationError, parse_notification
from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.channels.shopify.order_mapping import (
    ShopifyPayloadError,
    inventory_level_time,
    inventory_level_update,
    numeric_id,
    order_from_rest,
)
from omnihub.adapters.db import tables as t
from omnihub.domain.orders import Order
from omnihub.services.customer_privacy import PRIVACY_TOPICS, PrivacyRequestError
from omnihub.services.parked_orders import PARKED, ParkedOrders, is_refusal

log = structlog.get_logger(__name__)

ORDER_TOPICS = {"orders/create", "orders/updated", "orders/cancelled", "orders/edited", "orders/fulfilled",
                "orders/paid", "orders/partially_fulfilled"}


@dataclass
class _ShopifyNames:
    location_ids: dict[str, int] = field(default_factory=dict)  # Shopify location number → hub location id
    location_codes: dict[str, str] = field(default_factory=dict)  # Shopify location number → hub location code
    skus: dict[str, str] = field(default_factory=dict)  # Shopify inventory item number → SKU


class TransientError(RuntimeError):
    """Worth another try later (the channel was unreachable, rate limited...)."""


@dataclass
class InboxProcessor:
    engine: Engine
    ingest_many: Callable[[list[Order]], list]  # OrderPipeline.ingest_many
    shopify_channel: str = "shopify"
    amazon_channel: str = "amazon_seller"
    observe_level: Callable[..., None] | None = None  # ChannelSync.observe_level (with the event's time)
    fetch_amazon_order: Callable[[str], Order] | None = None  # order id → Order (getOrder + getOrderItems)
    lease_s: float = 60.0
    max_attempts: int = 8
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    stopping: threading.Event = field(default_factory=threading.Event)  # set: finish the row in hand, release the rest
    parked: ParkedOrders | None = None  # orders refused for what they say (default: on this engine)
    privacy: object | None = None  # CustomerPrivacy: Shopify's privacy webhooks (pending until there is one)

    def __post_init__(self) -> None:
        if self.parked is None:
            self.parked = ParkedOrders(self.engine)

    # -- accepting (the webhook endpoints) -------------------------------------------------
    def accept(self, source: str, delivery_id: str, topic: str, headers: dict, body: bytes) -> str:
        """Store a delivery; 'accepted' or 'duplicate'."""
        try:
            with self.engine.begin() as conn:
                conn.execute(t.channel_inbox.insert().values(
                    source=source, delivery_id=delivery_id[:200], topic=topic[:100], headers=headers,
                    body=body.decode("utf-8", "replace"), received_at=datetime.now(UTC), state="pending"))
        except IntegrityError:
            m.WEBHOOKS.labels(source, "duplicate").inc()
            return "duplicate"
        m.WEBHOOKS.labels(source, "accepted").inc()
        return "accepted"

    # -- processing ------------------------------------------------------------------------
    def _shopify_names(self) -> "_ShopifyNames":
        """Shopify's numeric ids → the hub's names, for this batch."""
        cl, loc, li = t.channel_locations, t.locations, t.channel_listings
        names = _ShopifyNames()
        with self.engine.connect() as conn:
            for ext, code, lid in conn.execute(sa.select(cl.c.external_location_id, cl.c.location, loc.c.id)
                                               .join(loc, loc.c.code == cl.c.location).where(cl.c.channel == self.shopify_channel)):
                names.location_ids[numeric_id(ext)] = lid
                names.location_codes[numeric_id(ext)] = code
            for sku, inv in conn.execute(sa.select(li.c.sku, li.c.external_inventory_item_id)
                                         .where(li.c.channel == self.shopify_channel)):
                if inv:
                    names.skus[numeric_id(inv)] = sku
        return names

    def claim(self, limit: int) -> list:
        now = datetime.now(UTC)
        ib = t.channel_inbox
        q = (sa.select(ib.c.id, ib.c.source, ib.c.topic, ib.c.body, ib.c.attempts)
             .where(ib.c.state == "pending", sa.or_(ib.c.lease_until.is_(None), ib.c.lease_until < now))
             .order_by(ib.c.id).limit(limit))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            if rows:
                conn.execute(ib.update().where(ib.c.id.in_([r.id for r in rows]))
                             .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=self.lease_s)))
        return rows

    def process_once(self, limit: int = 200) -> int:
        rows = self.claim(limit)
        if not rows:
            return 0
        names = self._shopify_names()
        done: list[int] = []
        failed: dict[int, str] = {}
        retry: dict[int, str] = {}
        orders: list[tuple[int, Order]] = []
        privacy: list[tuple[int, str, dict]] = []
        released: list[int] = []
        for r in rows:
            if self.stopping.is_set():  # shutting down: the rest goes back to the queue now, not after the lease
                released.append(r.id)
                continue
            try:
                body = json.loads(r.body)
                if r.source == "shopify":
                    if r.topic in ORDER_TOPICS:
                        orders.append((r.id, order_from_rest(body, lambda ext: names.location_ids.get(numeric_id(ext)))))
                        continue
                    if r.topic in PRIVACY_TOPICS:
                        if self.privacy is None:
                            raise TransientError("no privacy service configured")
                        privacy.append((r.id, r.topic, body))
                        continue
                    if r.topic == "inventory_levels/update":
                        item, location, available = inventory_level_update(body)
                        sku, code = names.skus.get(item), names.location_codes.get(location)
                        if sku and code and self.observe_level:
                            self.observe_level(self.shopify_channel, sku, code, available, inventory_level_time(body))
                    done.append(r.id)  # other topics: recorded, nothing to do
                elif r.source == "amazon":
                    note = parse_notification(body)
                    if note.kind == "ORDER_CHANGE" and note.order_id:
                        if self.fetch_amazon_order is None:
                            raise TransientError("no Amazon connector configured")
                        orders.append((r.id, self.fetch_amazon_order(note.order_id)))
                        continue
                    if note.kind == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE" and self.observe_level:
                        self.observe_level(self.amazon_channel, note.sku, "", note.quantity, note.event_time)
                    done.append(r.id)
                else:
                    failed[r.id] = f"unknown source {r.source!r}"
            except (ShopifyPayloadError, NotificationError, ValueError, KeyError, TypeError) as exc:
                failed[r.id] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # the channel could not be reached: try again later
                retry[r.id] = f"{type(exc).__name__}: {exc}"
        if orders:
            # Several versions of one order in a batch: only the newest needs ingesting.
            newest: dict[tuple[str, str], tuple[int, Order]] = {}
            for rid, order in orders:
                cur = newest.get(order.key)
                if cur is None or order.channel_updated_at >= cur[1].channel_updated_at:
                    if cur is not None:
                        done.append(cur[0])
                    newest[order.key] = (rid, order)
                else:
                    done.append(rid)
            orders = list(newest.values())
            results = self.ingest_many([o for _, o in orders])
            source_of = {r.id: r.source for r in rows}
            for (rid, order), res in zip(orders, results):
                if isinstance(res, Exception) and not is_refusal(res):
                    failed[rid] = f"{type(res).__name__}: {res}"
                    log.warning("inbox order failed", order=order.external_id, channel=order.channel, error=str(res))
                else:
                    done.append(rid)  # ingested, or parked with its reason just below
            by_source: dict[str, list[tuple[Order, object]]] = {}
            for (rid, order), res in zip(orders, results):
                by_source.setdefault(source_of[rid], []).append((order, res))
            for source, pairs in by_source.items():
                self.parked.settle(source, [o for o, _ in pairs], [r for _, r in pairs])
        for rid, topic, body in privacy:  # after the orders: nothing of this batch writes back what is erased
            try:
                self.privacy.handle_shopify(topic, body, delivery_id=f"shopify:{rid}")
                done.append(rid)
            except (PrivacyRequestError, ValueError, KeyError, TypeError) as exc:
                failed[rid] = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                retry[rid] = f"{type(exc).__name__}: {exc}"
        self._settle(rows, done, failed, retry)
        self._release(released)
        return len(rows)

    def _release(self, ids: list[int]) -> None:
        if ids:
            ib = t.channel_inbox
            with self.engine.begin() as conn:
                conn.execute(ib.update().where(ib.c.id.in_(ids), ib.c.state == "pending")
                             .values(lease_owner=None, lease_until=None))

    def release_leases(self) -> int:
        """Give back every pending row this processor still holds (a graceful stop)."""
        ib = t.channel_inbox
        with self.engine.begin() as conn:
            return conn.execute(ib.update().where(ib.c.lease_owner == self.owner, ib.c.state == "pending")
                                .values(lease_owner=None, lease_until=None)).rowcount

    def _settle(self, rows, done: list[int], failed: dict[int, str], retry: dict[int, str]) -> None:
        now = datetime.now(UTC)
        ib = t.channel_inbox
        source = {r.id: r.source for r in rows}
        attempts = {r.id: r.attempts for r in rows}
        with self.engine.begin() as conn:
            if done:
                conn.execute(ib.update().where(ib.c.id.in_(done)).values(state="done", processed_at=now, lease_owner=None,
                                                                         lease_until=None))
            for rid, err in failed.items():
                conn.execute(ib.update().where(ib.c.id == rid).values(state="failed", error=err[:4000], processed_at=now,
                                                                      attempts=attempts[rid] + 1, lease_owner=None))
            for rid, err in retry.items():
                n = attempts[rid] + 1
                conn.execute(ib.update().where(ib.c.id == rid).values(
                    state="failed" if n >= self.max_attempts else "pending", error=err[:4000], attempts=n,
                    lease_owner=None, lease_until=now + timedelta(seconds=backoff_delay(n, base=2, cap=600))))
        for rid in done:
            m.INBOX_PROCESSED.labels(source[rid], "done").inc()
        for rid in failed:
            m.INBOX_PROCESSED.labels(source[rid], "failed").inc()
        for rid in retry:
            m.INBOX_PROCESSED.labels(source[rid], "retry").inc()

    def drain(self, limit: int = 200) -> int:
        total = 0
        while n := self.process_once(limit):
            total += n
        return total

    def failures(self, limit: int = 100) -> list[dict]:
        """Deliveries that could not be processed (`failed`) and orders refused for what
        they say (`parked`, topic order/refused, `attempts` = times seen), oldest first."""
        ib = t.channel_inbox
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(ib.c.id, ib.c.source, ib.c.delivery_id, ib.c.topic, ib.c.state, ib.c.error,
                                          ib.c.attempts, ib.c.received_at)
                                .where(ib.c.state.in_(("failed", PARKED))).order_by(ib.c.id).limit(limit))
            return [dict(r._mapping) for r in rows]
