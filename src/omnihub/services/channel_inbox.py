"""The inbox: every webhook and notification is stored raw in the transaction that
accepts it (so the channel can be answered at once, well within its 5 s), then processed
asynchronously by whichever worker claims it.

- De-duplication is the unique (source, delivery id): Shopify's X-Shopify-Webhook-Id,
  Amazon's NotificationMetadata.NotificationId. A second delivery is answered 200 and
  ignored.
- Claims are leases that expire: a worker killed mid-way leaves rows that another (or
  the restarted) worker picks up; processing is idempotent (orders are versioned by the
  channel's updated time, levels are absolute).
- Each row is settled on its own merits (services/parked_orders.py says how failures
  are told apart): a payload that cannot be an order, or a channel answering 404 for the
  order it notified, is parked at once with its reason; a transient failure (the
  database busy, a channel call timing out) goes back to `pending` with back-off, its
  next attempt stored and its attempts counted, and is parked after `max_attempts`. One
  bad row in a claimed batch never fails the others.
- An order the pipeline refuses for what it says (an unknown SKU, a quantity or price
  beyond the hub's limits, no lines) is parked once, with the reason
  (services/parked_orders.py); the delivery that brought it is done. Another delivery or
  poll of it counts on the parked row and logs nothing.
- Polled orders that failed are handed here (topic order/polled) by the pollers, and a
  refused order an operator sends again (topic order/refused, no delivery of its own) is
  fetched anew from its channel: both are then processed like any delivery.
- Shopify's privacy topics (customers/redact, shop/redact, customers/data_request) are
  handed to the privacy service (services/customer_privacy.py) after the batch's orders
  are in, so an order version of the same batch cannot write back what was erased.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.amazon.notifications import parse_notification
from omnihub.adapters.channels.amazon.order_mapping import order_from_sp_api
from omnihub.adapters.channels.shopify.order_mapping import (
    inventory_level_time,
    inventory_level_update,
    numeric_id,
    order_from_graphql,
    order_from_rest,
)
from omnihub.adapters.db import tables as t
from omnihub.domain.orders import Order
from omnihub.services.customer_privacy import PRIVACY_TOPICS, CustomerPrivacy, PrivacyRequestError
from omnihub.services.parked_orders import (
    DONE,
    MAX_ATTEMPTS,
    PARKED,
    PENDING,
    POLLED,
    TOPIC,
    TRANSIENT,
    ParkedOrders,
    TransientError,
    failure_kind,
    is_refusal,
    next_attempt,
    reason_of,
)

log = structlog.get_logger(__name__)

ORDER_TOPICS = {"orders/create", "orders/updated", "orders/cancelled", "orders/edited", "orders/fulfilled",
                "orders/paid", "orders/partially_fulfilled"}


@dataclass
class _ShopifyNames:
    location_ids: dict[str, int] = field(default_factory=dict)  # Shopify location number → hub location id
    location_codes: dict[str, str] = field(default_factory=dict)  # Shopify location number → hub location code
    skus: dict[str, str] = field(default_factory=dict)  # Shopify inventory item number → SKU


@dataclass
class _Outcomes:
    """How each row of a batch ends: done, parked (with its reason), or retried."""

    done: list[int] = field(default_factory=list)
    parked: dict[int, str] = field(default_factory=dict)
    retry: dict[int, str] = field(default_factory=dict)

    def fail(self, rid: int, exc: BaseException) -> None:
        if failure_kind(exc) == TRANSIENT:
            self.retry[rid] = reason_of(exc)
        else:
            self.parked[rid] = reason_of(exc)

    def retry_instead(self, rid: int, exc: BaseException) -> None:
        self.done = [d for d in self.done if d != rid]
        self.retry[rid] = reason_of(exc)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class InboxProcessor:
    engine: Engine
    ingest_many: Callable[[list[Order]], list]  # OrderPipeline.ingest_many
    shopify_channel: str = "shopify"
    amazon_channel: str = "amazon_seller"
    observe_level: Callable[..., None] | None = None  # ChannelSync.observe_level (with the event's time)
    fetch_amazon_order: Callable[[str], Order] | None = None  # order id → Order (getOrder + getOrderItems)
    fetch_shopify_order: Callable[[str], Order] | None = None  # order number → Order (ShopifyPoller.fetch_order)
    lease_s: float = 60.0
    max_attempts: int = MAX_ATTEMPTS  # a transient failure's tries before its row is parked
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    stopping: threading.Event = field(default_factory=threading.Event)  # set: finish the row in hand, release the rest
    parked: ParkedOrders = field(init=False)  # orders refused for what they say, on this engine
    privacy: CustomerPrivacy | None = None  # Shopify's privacy webhooks (pending until there is one)
    clock: Callable[[], datetime] = field(default=_wall_clock)  # leases and next attempts (tests move it)

    def __post_init__(self) -> None:
        self.parked = ParkedOrders(self.engine, clock=lambda: self.clock())

    # -- accepting (the webhook endpoints) -------------------------------------------------
    def accept(self, source: str, delivery_id: str, topic: str, headers: dict, body: bytes) -> str:
        """Store a delivery; 'accepted' or 'duplicate'."""
        try:
            with self.engine.begin() as conn:
                conn.execute(t.channel_inbox.insert().values(
                    source=source, delivery_id=delivery_id[:200], topic=topic[:100], headers=headers,
                    body=body.decode("utf-8", "replace"), received_at=self.clock(), state=PENDING))
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

    def claim(self, limit: int) -> Sequence[sa.Row]:
        now = self.clock()
        ib = t.channel_inbox
        q = (sa.select(ib.c.id, ib.c.source, ib.c.topic, ib.c.headers, ib.c.body, ib.c.attempts)
             .where(ib.c.state == PENDING, sa.or_(ib.c.lease_until.is_(None), ib.c.lease_until < now))
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
        """Claim up to `limit` rows and settle each on its own merits: a row that fails
        (whatever the stage: reading, fetching, ingesting) fails alone, never its
        neighbours (see `_ingest` for the orders, which share the pipeline's batch)."""
        rows = self.claim(limit)
        if not rows:
            return 0
        names = self._shopify_names()
        out = _Outcomes()
        orders: list[tuple[sa.Row, Order]] = []
        privacy: list[tuple[int, str, dict]] = []
        released: list[int] = []
        for r in rows:
            if self.stopping.is_set():  # shutting down: the rest goes back to the queue now, not after the lease
                released.append(r.id)
                continue
            try:
                order = self._read(r, names, out, privacy)
            except Exception as exc:
                out.fail(r.id, exc)
                continue
            if order is not None:
                orders.append((r, order))
        if orders:
            self._ingest_orders(orders, out)
        for rid, topic, body in privacy:  # after the orders: nothing of this batch writes back what is erased
            try:
                if self.privacy is None:  # gone since _read queued it
                    raise TransientError("no privacy service configured")
                self.privacy.handle_shopify(topic, body, delivery_id=f"shopify:{rid}")
                out.done.append(rid)
            except PrivacyRequestError as exc:
                out.parked[rid] = reason_of(exc)
            except Exception as exc:
                out.fail(rid, exc)
        self._settle(rows, out)
        self._release(released)
        return len(rows)

    def _read(self, r: sa.Row, names: "_ShopifyNames", out: "_Outcomes",
              privacy: list[tuple[int, str, dict]]) -> Order | None:
        """One row: the order it brings (to ingest with the batch's), or None when it is
        settled here (done, or handed to `privacy`). Raises what stops it."""
        if r.topic == TOPIC:  # a refused order sent through again: fetched anew from its channel
            headers = r.headers if isinstance(r.headers, dict) else json.loads(r.headers)
            fetch = self.fetch_amazon_order if r.source == "amazon" else self.fetch_shopify_order
            if fetch is None:
                raise TransientError(f"no {r.source} connector configured to fetch order {headers['external_id']}")
            return fetch(headers["external_id"])
        body = json.loads(r.body)
        if r.topic == POLLED:  # a polled order that failed: its payload as the channel served it
            if r.source == "shopify":
                return order_from_graphql(body["node"], lambda ext: names.location_ids.get(numeric_id(ext)))
            if body.get("items") is None:  # its items could not be read then
                if self.fetch_amazon_order is None:
                    raise TransientError("no Amazon connector configured")
                return self.fetch_amazon_order(body["order"]["AmazonOrderId"])
            return order_from_sp_api(body["order"], body["items"], channel=body.get("channel") or self.amazon_channel)
        if r.source == "shopify":
            if r.topic in ORDER_TOPICS:
                return order_from_rest(body, lambda ext: names.location_ids.get(numeric_id(ext)))
            if r.topic in PRIVACY_TOPICS:
                if self.privacy is None:
                    raise TransientError("no privacy service configured")
                privacy.append((r.id, r.topic, body))
                return None
            if r.topic == "inventory_levels/update":
                item, location, available = inventory_level_update(body)
                sku, code = names.skus.get(item), names.location_codes.get(location)
                if sku and code and self.observe_level:
                    self.observe_level(self.shopify_channel, sku, code, available, inventory_level_time(body))
            out.done.append(r.id)  # other topics: recorded, nothing to do
            return None
        if r.source == "amazon":
            note = parse_notification(body)
            if note.kind == "ORDER_CHANGE" and note.order_id:
                if self.fetch_amazon_order is None:
                    raise TransientError("no Amazon connector configured")
                # Amazon answering 404 for the order it notified: permanent (parked), not retried
                # for ever; should the order show up later, the poll takes it in.
                return self.fetch_amazon_order(note.order_id)
            if note.kind == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE" and self.observe_level:
                self.observe_level(self.amazon_channel, note.sku, "", note.quantity, note.event_time)
            out.done.append(r.id)
            return None
        raise ValueError(f"unknown source {r.source!r}")

    def _ingest(self, orders: list[Order]) -> list:
        """One result per order. The pipeline answers each order with its own result
        already; should the call itself fail (a writer's answer timing out...), each order
        is tried on its own, so one order's trouble is never its neighbours'."""
        try:
            results = self.ingest_many(orders)
            if len(results) == len(orders):
                return results
        except Exception:
            log.warning("inbox batch ingest failed: ingesting its orders one by one", orders=len(orders))
        alone: list = []
        for order in orders:
            try:
                alone.append(self.ingest_many([order])[0])
            except Exception as exc:
                alone.append(exc)
        return alone

    def _ingest_orders(self, orders: list[tuple[sa.Row, Order]], out: "_Outcomes") -> None:
        # Several versions of one order in a batch: only the newest needs ingesting.
        newest: dict[tuple[str, str], tuple[sa.Row, Order]] = {}
        for r, order in orders:
            cur = newest.get(order.key)
            if cur is None or order.channel_updated_at >= cur[1].channel_updated_at:
                if cur is not None:
                    out.done.append(cur[0].id)
                newest[order.key] = (r, order)
            else:
                out.done.append(r.id)
        todo = list(newest.values())
        results = self._ingest([o for _, o in todo])
        by_source: dict[str, list[tuple[sa.Row, Order, object]]] = {}
        for (r, order), res in zip(todo, results):
            if not isinstance(res, Exception):
                out.done.append(r.id)
            elif is_refusal(res):  # parked with its reason just below; the delivery is done
                if r.topic != TOPIC:  # (a refused order's own row is parked again by settle)
                    out.done.append(r.id)
            else:
                out.fail(r.id, res)
                log.warning("inbox order not ingested", order=order.external_id, channel=order.channel,
                            error=str(res)[:500])
            by_source.setdefault(r.source, []).append((r, order, res))
        for source, triples in by_source.items():
            try:
                self.parked.settle(source, [o for _, o, _ in triples], [res for _, _, res in triples],
                                   [None if r.topic == TOPIC else r.id for r, _, _ in triples])
            except Exception as exc:  # could not park or un-park them now: their rows come round again
                for r, _, res in triples:
                    if is_refusal(res) or not isinstance(res, Exception):
                        out.retry_instead(r.id, exc)
    def _release(self, ids: list[int]) -> None:
        if ids:
            ib = t.channel_inbox
            with self.engine.begin() as conn:
                conn.execute(ib.update().where(ib.c.id.in_(ids), ib.c.state == PENDING)
                             .values(lease_owner=None, lease_until=None))

    def release_leases(self) -> int:
        """Give back every pending row this processor still holds (a graceful stop)."""
        ib = t.channel_inbox
        with self.engine.begin() as conn:
            return conn.execute(ib.update().where(ib.c.lease_owner == self.owner, ib.c.state == PENDING)
                                .values(lease_owner=None, lease_until=None)).rowcount

    def _settle(self, rows, out: "_Outcomes") -> None:
        """Done rows done; permanent failures parked with their reason; transient ones
        pending again, their next attempt stored, attempts counted, parked at the cap."""
        now = self.clock()
        ib = t.channel_inbox
        source = {r.id: r.source for r in rows}
        attempts = {r.id: r.attempts for r in rows}
        parked = dict(out.parked)
        retry: dict[int, tuple[int, str]] = {}
        for rid, err in out.retry.items():
            n = attempts[rid] + 1
            if n >= self.max_attempts:
                parked[rid] = f"gave up after {n} attempts: {err}"[:4000]
            else:
                retry[rid] = (n, err)
        done = [rid for rid in dict.fromkeys(out.done) if rid not in parked and rid not in retry]
        with self.engine.begin() as conn:
            if done:
                conn.execute(ib.update().where(ib.c.id.in_(done)).values(state=DONE, processed_at=now, lease_owner=None,
                                                                         lease_until=None))
            for rid, err in parked.items():
                conn.execute(ib.update().where(ib.c.id == rid).values(state=PARKED, error=err[:4000], processed_at=now,
                                                                      attempts=attempts[rid] + 1, lease_owner=None,
                                                                      lease_until=None))
            for rid, (n, err) in retry.items():
                conn.execute(ib.update().where(ib.c.id == rid).values(
                    state=PENDING, error=err[:4000], attempts=n, lease_owner=None, lease_until=next_attempt(now, n)))
        for rid, err in parked.items():
            log.warning("inbox delivery parked", row=rid, source=source[rid], reason=err[:500])
        for rid in done:
            m.INBOX_PROCESSED.labels(source[rid], "done").inc()
        for rid in parked:
            m.INBOX_PROCESSED.labels(source[rid], "parked").inc()
        for rid in retry:
            m.INBOX_PROCESSED.labels(source[rid], "retry").inc()

    def drain(self, limit: int = 200) -> int:
        total = 0
        while n := self.process_once(limit):
            total += n
        return total

    # -- for an operator (services/parked_orders.py) ---------------------------------------
    def failures(self, limit: int = 100, *, after: int | None = None, source: str | None = None) -> list[dict]:
        """Rows that did not go in, oldest first from after `after`: deliveries parked with
        their reason or retrying (`next_attempt_at`), orders refused for what they say
        (topic order/refused, `attempts` = times seen) and polled orders that failed
        (topic order/polled); of one source (shopify, amazon) or of all."""
        return self.parked.page(after=after, limit=limit, source=source)

    def failure(self, row_id: int) -> dict | None:
        """One inbox row with its headers and stored body."""
        return self.parked.get(row_id)

    def retry(self, row_id: int) -> int | None:
        """Send a parked or retrying row through again now; the id queued, or None."""
        return self.parked.retry(row_id)

    def retry_all(self, *, source: str | None = None, page: int = 500) -> int:
        """Every parked or retrying row (of one source, or all) sent through again, each
        as `retry` sends one (a refused order by the delivery that brought it); how many.
        Read a page of ids at a time, from the oldest: a row sent again leaves the list."""
        sent, after = 0, 0
        while rows := self.parked.page(after=after, limit=page, source=source):
            for row in rows:
                if self.parked.retry(row["id"]) is not None:
                    sent += 1
            after = rows[-1]["id"]
        return sent
