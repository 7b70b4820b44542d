"""The sync engine: every change of what a channel may sell becomes an intent "channel C
should show Q for SKU S at location L", and intents are pushed within each channel's
budget until the channel acknowledges them.

- Intake. ChannelAvailabilityChanged events (from the outbox, at least once) are
  coalesced in memory (latest wins per key) and written to `sync_intents` in pages of
  `flush_page` keys, one transaction each: a burst of 100 changes to one SKU is one row
  and one push, and a flood of changes never holds the write lock for more than a page.
  A new value for a row that is waiting, in back-off or parked replaces its target (a
  parked row comes back to life: the new figure deserves a fresh try).
- Safety net. The in-memory buffer can die with the process; `sweep` re-derives intents
  from the difference between what the hub shows (`channel_availability`) and what the
  channel last confirmed (`channel_levels`), so nothing committed is lost, and it also
  re-asserts the hub's figure where a channel drifted. It walks the listings in pages of
  SKUs, each read and written on its own, so its memory does not grow with the estate.
- Sending. One sender per channel claims due intents (most urgent first: going to zero
  or near zero, then decreases, then increases; oldest first) under a lease that expires,
  so a killed worker's claims are picked up again after `lease_s`. The channel's pusher
  (adapters/channels/*/inventory_push.py) batches them; compare-and-swap refusals are
  re-read and re-decided (domain.channel_sync.redecide) and resent in the same round.
- Settling. An acknowledged value becomes the channel's confirmed level and the intent is
  deleted unless a newer target arrived meanwhile (generation check). Failures back off
  exponentially with jitter; after `max_attempts` (or at once for a refusal a retry cannot
  fix) the intent is parked as a dead letter, visible in the API and CLI, with a retry.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import for_reading
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.channel_health import OUTAGE_AFTER_S, ChannelHealth
from omnihub.domain.channel_sync import IntentState, PushItem, PushOutcome, PushStatus, priority, redecide
from omnihub.domain.events import ChannelAvailabilityChanged
from omnihub.services import push_path

log = structlog.get_logger(__name__)

PENDING, DEAD = IntentState.PENDING, IntentState.DEAD


class InventoryPusher(Protocol):
    """A channel's pusher (adapters/channels/*/inventory_push.py). It may also say
    `per_location`, `max_batch` and offer a `bulk` road (services/push_path.py)."""

    def push(self, items: list[PushItem], mapping: ChannelMapping) -> list[PushOutcome]: ...


def is_late(observed_at: datetime, last: datetime | None) -> bool:
    """Older than the figure already held. A time with whole seconds (Shopify's
    updated_at) is compared with the held one cut to whole seconds: within the same
    second the order cannot be told, and the newer-looking observation is kept."""
    if last is None:
        return False
    if observed_at.microsecond == 0:
        last = last.replace(microsecond=0)
    return observed_at < last


@dataclass(slots=True)
class _Claimed:
    id: int
    sku: str
    location: str
    target: int
    generation: int
    first_changed_at: datetime
    attempts: int
    confirmed: int | None


@dataclass(slots=True)
class Ack:
    channel: str
    sku: str
    location: str
    quantity: int | None  # what landed (PushOutcome.landed, which the pushers give with every OK)
    first_changed_at: datetime
    acked_at: datetime


#: PostgreSQL advisory lock that orders the commits of buffered intents (see flush_in).
INTENT_FLUSH_LOCK = 0x0A11_5E7C

Key = tuple[str, str, str]  # (channel, sku, location)
#: Keys looked up per statement (SQLite and PostgreSQL bound the parameters of one).
LOOKUP_CHUNK = 500
#: Outcomes settled per write transaction: the API's writes wait for the write lock
#: between pieces, not behind a whole round's (1,000 claimed: up to 0.7 s on SQLite,
#: 250 still 0.16 s on a busy machine).
SETTLE_PIECE = 100


def _lookups(keys: Iterable[Key]) -> Iterable[tuple[str, str, list[str]]]:
    """(channel, location, up to LOOKUP_CHUNK SKUs) covering `keys` exactly: a statement
    per group fetches only the keys asked for, by the tables' (channel, sku, location) key."""
    groups: dict[tuple[str, str], list[str]] = {}
    for c, s, loc in keys:
        groups.setdefault((c, loc), []).append(s)
    for (c, loc), skus in groups.items():
        for start in range(0, len(skus), LOOKUP_CHUNK):
            yield c, loc, skus[start:start + LOOKUP_CHUNK]


def _held_rows(held: Iterable[tuple[str, str, str, int, datetime]], now: datetime) -> list[dict]:
    return [{"channel": c, "sku": s, "location": loc, "target": q, "priority": priority(q, None), "generation": 0,
             "first_changed_at": now, "changed_at": now, "state": PENDING, "attempts": 0, "next_attempt_at": nb}
            for c, s, loc, q, nb in held]


def _insert_missing(conn, rows: list[dict]) -> None:
    """Insert intents for keys that have none; an existing intent is left as it is.
    Rows go in key order, as every writer of intents does (no deadlock on PostgreSQL)."""
    i = t.sync_intents
    rows = sorted(rows, key=lambda r: (r["channel"], r["sku"], r["location"]))
    ins = postgresql.insert(i) if conn.dialect.name == "postgresql" else sqlite.insert(i)
    stmt = ins.on_conflict_do_nothing(index_elements=[i.c.channel, i.c.sku, i.c.location])
    for start in range(0, len(rows), LOOKUP_CHUNK):
        conn.execute(stmt, rows[start:start + LOOKUP_CHUNK])


class ChannelSync:
    def __init__(self, engine: Engine, *, lease_s: float = 30.0, max_attempts: int = 8, backoff_base_s: float = 1.0,
                 backoff_cap_s: float = 300.0, reassert_after_s: float = 30.0, claim_batch: int = 1000,
                 flush_interval_s: float = 0.01, sweep_interval_s: float = 60.0, owner: str | None = None,
                 flush_page: int = 2000, sweep_page: int = 2000) -> None:
        self.engine = engine
        # Reads that write nothing (the sweep's pages, the mapping, counts) begin DEFERRED
        # on SQLite: they never queue for the write lock (engine.for_reading).
        self.reader = for_reading(engine)
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.reassert_after_s = reassert_after_s
        self.claim_batch = claim_batch
        self.flush_interval_s = flush_interval_s
        self.sweep_interval_s = sweep_interval_s
        self.flush_page = flush_page  # intents written per transaction by the flusher
        self.sweep_page = sweep_page  # figures read and written per transaction by the sweep
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.pushers: dict[str, InventoryPusher] = {}
        self._mappings: dict[str, tuple[float, ChannelMapping]] = {}
        self._per_location: dict[str, bool] = {}  # channels' shape, for requests without a pusher here
        self._buffer: dict[Key, tuple[int, datetime]] = {}
        # Pages taken from the buffer and not written yet, oldest first (see _take).
        self._taken: deque[dict[Key, tuple[int, datetime]]] = deque()
        self._lock = threading.Lock()
        self._wake = {"flush": threading.Event()}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.ack_listeners: list[Callable[[Ack], None]] = []
        #: called with a channel's name when it answers again after an outage (the worker
        #: reconciles it at once: domain/channel_health.py); in the sender's thread
        self.recovery_listeners: list[Callable[[str], None]] = []
        self.outage_after_s = OUTAGE_AFTER_S
        self.health: dict[str, ChannelHealth] = {}

    # -- configuration ---------------------------------------------------------------------
    def register(self, channel: str, pusher: InventoryPusher) -> None:
        self.pushers[channel] = pusher
        self._wake[channel] = threading.Event()

    def attach(self, bus) -> None:
        bus.subscribe(ChannelAvailabilityChanged.topic, self.on_availability_changed)
        if hasattr(bus, "before_published"):
            bus.before_published(self.flush_in)

    def mapping(self, channel: str, *, max_age_s: float = 5.0) -> ChannelMapping:
        cached = self._mappings.get(channel)
        if cached and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        mp = ChannelMapping(channel)
        with self.reader.connect() as conn:
            li = t.channel_listings
            for sku, ext, inv in conn.execute(sa.select(li.c.sku, li.c.external_id, li.c.external_inventory_item_id)
                                              .where(li.c.channel == channel)):
                mp.items[sku] = inv or ext
            cl = t.channel_locations
            for code, ext in conn.execute(sa.select(cl.c.location, cl.c.external_location_id).where(cl.c.channel == channel)):
                mp.locations[code] = ext
        self._mappings[channel] = (time.monotonic(), mp)
        return mp

    def _wants(self, channel: str, location: str) -> bool:
        pusher = self.pushers.get(channel)
        if pusher is None:
            return False
        return (location != "") if getattr(pusher, "per_location", False) else (location == "")

    # -- intake ----------------------------------------------------------------------------
    def on_availability_changed(self, topic: str, payload: dict) -> None:
        channel, location = payload.get("channel"), payload.get("location", "")
        if channel is not None and self._wants(channel, location):
            self._buffer_intent(channel, payload["sku"], location, int(payload["new"]))

    def _buffer_intent(self, channel: str, sku: str, location: str, quantity: int) -> None:
        now = datetime.now(UTC)
        with self._lock:
            key = (channel, sku, location)
            prev = self._buffer.get(key)
            self._buffer[key] = (quantity, prev[1] if prev else now)
        self._wake["flush"].set()

    def request(self, channel: str, sku: str, location: str, quantity: int) -> None:
        """Ask for a push directly (reconciliation's repairs, tests). It becomes an intent
        at the next flush whether or not this process sends to the channel: the hubs of
        `omnihub sync reconcile` and of the API have no pushers, and the worker sends what
        they ask (before, their repairs were dropped here and waited for the worker's
        sweep)."""
        shows = self._wants(channel, location) if channel in self.pushers else self._channel_shows(channel, location)
        if shows:
            self._buffer_intent(channel, sku, location, int(quantity))

    def _channel_shows(self, channel: str, location: str) -> bool:
        """Whether the channel, as configured in the database, shows a figure at
        `location` (a per-location channel at its locations, any other as one total)."""
        per_location = self._per_location.get(channel)
        if per_location is None:
            with self.engine.connect() as conn:
                per_location = conn.execute(sa.select(t.channels.c.per_location)
                                            .where(t.channels.c.code == channel)).scalar()
            if per_location is None:
                return False  # no such channel
            self._per_location[channel] = bool(per_location)
        return (location != "") if per_location else (location == "")

    def flush(self) -> int:
        """Write every buffered intent, a page (`flush_page` keys) per transaction: the
        API's writes get the write lock between pages."""
        total = 0
        while n := self.flush_one_page():
            total += n
        return total

    def flush_one_page(self) -> int:
        with self.engine.begin() as conn:
            return self._write_taken(conn, self.flush_page)

    def flush_in(self, conn) -> int:
        """Write the buffered intents in `conn`'s transaction. The outbox relay calls it
        before it marks the events it relayed as published: a worker killed between the
        two used to lose the buffered raises, and the restart sweep then held them back
        (reassert_after_s) as if the channel had sold the difference. The relay's page is
        bounded, and so is what its events buffered."""
        return self._write_taken(conn, None)

    def _write_taken(self, conn, limit: int | None) -> int:
        with self._lock:
            if not self._buffer and not self._taken:
                return 0
        if conn.dialect.name == "postgresql":
            # Two threads write intents (the flusher, and the relay before it marks a page
            # published), each taking from the buffer and then committing. Pages must commit
            # in the order they were taken, or an older target overwrites a newer one and
            # the channel is shown stock the hub no longer has. SQLite's BEGIN IMMEDIATE
            # already orders them; on PostgreSQL a transaction lock held to commit does.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": INTENT_FLUSH_LOCK})
        with self._lock:
            batch = self._take(limit)
        if not batch:
            return 0
        try:
            with conn.begin_nested():  # a failed upsert must not spoil the caller's transaction
                self._upsert(conn, batch)
        except Exception:
            with self._lock:  # first again: everything taken after it is newer
                self._taken.appendleft(batch)
            raise
        for channel in {k[0] for k in batch}:
            if channel in self._wake:
                self._wake[channel].set()
        return len(batch)

    def _take(self, limit: int | None) -> dict[Key, tuple[int, datetime]]:
        """The oldest `limit` buffered intents (all of them if None), under `_lock`. A
        buffer larger than a page is cut into pages once, in order, and the pages are
        handed out one by one: taking a page off the front of a dict again and again
        would walk the holes the earlier pages left, a quadratic cost."""
        if limit is None:
            batch: dict[Key, tuple[int, datetime]] = {}
            while self._taken:
                batch.update(self._taken.popleft())  # a later page holds the newer value
            batch.update(self._buffer)
            self._buffer = {}
            return batch
        if not self._taken:
            buffered, self._buffer = self._buffer, {}
            if len(buffered) <= limit:
                return buffered
            items = iter(buffered.items())
            while page := dict(islice(items, limit)):
                self._taken.append(page)
        return self._taken.popleft()

    def _upsert(self, conn, batch: dict[Key, tuple[int, datetime]]) -> None:
        now = datetime.now(UTC)
        i = t.sync_intents
        confirmed = self._confirmed(conn, batch)
        # Already what the channel shows and nothing queued for it: no push needed.
        same = {k for k, (q, _) in batch.items() if confirmed.get(k) == q}
        if same:
            queued = self._existing(conn, same)
            batch = {k: v for k, v in batch.items() if k not in same or k in queued}
            if not batch:
                return
        rows = [{"channel": c, "sku": s, "location": loc, "target": q, "priority": priority(q, confirmed.get((c, s, loc))),
                 "generation": 0, "first_changed_at": first, "changed_at": now, "state": PENDING, "attempts": 0,
                 "next_attempt_at": now} for (c, s, loc), (q, first) in sorted(batch.items())]
        ins = (postgresql.insert(i) if conn.dialect.name == "postgresql" else sqlite.insert(i))
        ex = ins.excluded
        revive = sa.or_(i.c.state == DEAD, i.c.attempts == 0)
        stmt = ins.on_conflict_do_update(
            index_elements=[i.c.channel, i.c.sku, i.c.location],
            set_={
                "target": ex.target, "priority": ex.priority, "generation": i.c.generation + 1,
                "changed_at": ex.changed_at, "state": PENDING,
                "attempts": sa.case((i.c.state == DEAD, 0), else_=i.c.attempts),
                "next_attempt_at": sa.case((revive, ex.next_attempt_at), else_=i.c.next_attempt_at),
            },
        )
        for start in range(0, len(rows), LOOKUP_CHUNK):
            conn.execute(stmt, rows[start:start + LOOKUP_CHUNK])

    def defer(self, rows: list[tuple[str, str, str, int, datetime]]) -> None:
        """Intents (channel, sku, location, target, not_before) that must wait: the hub's
        figure is above what the channel shows, and the channel may have sold the
        difference in an order not ingested yet (see domain.channel_sync). An existing
        intent for the key is left as it is."""
        if not rows:
            return
        with self.engine.begin() as conn:
            _insert_missing(conn, _held_rows(rows, datetime.now(UTC)))

    @staticmethod
    def _existing(conn, keys: Iterable[Key]) -> set[Key]:
        i = t.sync_intents
        out: set[Key] = set()
        for c, loc, skus in _lookups(keys):
            q = sa.select(i.c.sku).where(i.c.channel == c, i.c.location == loc, i.c.sku.in_(skus))
            out.update((c, s, loc) for s in conn.execute(q).scalars())
        return out

    @staticmethod
    def _confirmed(conn, keys: Iterable[Key]) -> dict[Key, int]:
        lv = t.channel_levels
        out: dict[Key, int] = {}
        for c, loc, skus in _lookups(keys):
            q = sa.select(lv.c.sku, lv.c.confirmed).where(lv.c.channel == c, lv.c.location == loc, lv.c.sku.in_(skus))
            for s, v in conn.execute(q):
                out[(c, s, loc)] = v
        return out

    def sweep(self, channel: str | None = None) -> int:
        """Intents for every listed (SKU, location) where the hub's figure differs from
        what the channel last confirmed and no intent exists; how many it queued or held.

        The channel's listings are walked in SKU order, a page of about `sweep_page`
        figures at a time: each page is read, then written in its own short transaction,
        so memory stays flat however large the estate, and the API's writes get the
        write lock between pages. A stop request ends the sweep after the page in hand
        (the next one starts over; an intent written is never half-written)."""
        total = 0
        for ch in ([channel] if channel else list(self.pushers)):
            per_location = getattr(self.pushers[ch], "per_location", False)
            skus_per_page = max(1, self.sweep_page // self._figures_per_sku(ch, per_location))
            after: str | None = None
            while not self._stop.is_set():
                page = self._sweep_page(ch, per_location, after, skus_per_page)
                if page is None:
                    break
                after, found, held = page
                self._queue_swept(ch, found, held)
                total += len(found) + len(held)
        return total

    def _figures_per_sku(self, channel: str, per_location: bool) -> int:
        if not per_location:
            return 1
        cl = t.channel_locations
        with self.reader.connect() as conn:
            return max(1, conn.execute(sa.select(sa.func.count()).select_from(cl).where(cl.c.channel == channel)).scalar_one())

    def _sweep_page(self, ch: str, per_location: bool, after: str | None, skus: int):
        """The next `skus` listed SKUs after `after`: (last SKU, found, held), or None at
        the end. `found` are figures to push now, `held` raises to push after the hold.

        Each table is read on its own by its key (the channel and the page's SKUs), and
        the page is put together here. One statement joining them was planned by
        PostgreSQL's statistics, and on tables not analysed yet (a first start after a
        bulk load) it scanned the listings from their start for every figure, a page
        costing more the further the sweep got (204,000 positions: 2,418 s). Single-table
        reads by the primary key cannot be planned any other way
        (tests/sync/test_sweep_page_work.py counts the work of the first and last page)."""
        av, lv, i, li = t.channel_availability, t.channel_levels, t.sync_intents, t.channel_listings
        found: dict[Key, tuple[int, int | None]] = {}
        held: list[tuple[str, str, str, int, datetime]] = []
        with self.reader.connect() as conn:
            listed = sa.select(li.c.sku).where(li.c.channel == ch)
            if after is not None:
                listed = listed.where(li.c.sku > after)
            page = conn.execute(listed.order_by(li.c.sku).limit(skus)).scalars().all()
            if not page:
                return None
            lo, hi = page[0], page[-1]

            def of_page(table):  # the page's rows of a table keyed (channel, sku, location)
                return sa.and_(table.c.channel == ch, table.c.sku >= lo, table.c.sku <= hi, table.c.sku.in_(page))

            if per_location:
                cl, fd = t.channel_locations, t.channel_feeds
                mapped = set(conn.execute(sa.select(cl.c.location).where(cl.c.channel == ch)).scalars())
                fed = mapped & set(conn.execute(sa.select(fd.c.location).where(fd.c.channel == ch)).scalars())
                unfed = sorted(mapped - fed)  # a mapped location that does not feed the channel shows nothing
            else:
                fed, unfed = {""}, []
            shown = conn.execute(sa.select(av.c.sku, av.c.location, av.c.quantity).where(of_page(av))).all()
            levels = {(s, loc): (q, at) for s, loc, q, at in conn.execute(
                sa.select(lv.c.sku, lv.c.location, lv.c.confirmed, lv.c.confirmed_at).where(of_page(lv)))}
            queued = {(s, loc) for s, loc in conn.execute(sa.select(i.c.sku, i.c.location).where(of_page(i)))}
        for sku in page:
            for loc in unfed:
                if (sku, loc) in queued:
                    continue
                confirmed = levels.get((sku, loc), (None, None))[0]
                if confirmed != 0:
                    found[(ch, sku, loc)] = (0, confirmed)
        for sku, loc, qty in shown:
            if loc not in fed or (sku, loc) in queued:
                continue
            confirmed, confirmed_at = levels.get((sku, loc), (None, None))
            if confirmed == qty:
                continue
            if confirmed is not None and confirmed < qty:  # raise only after the hold
                held.append((ch, sku, loc, qty, as_utc(confirmed_at) + timedelta(seconds=self.reassert_after_s)))
            else:
                found[(ch, sku, loc)] = (qty, confirmed)
        return hi, found, held

    def _queue_swept(self, channel: str, found: dict[Key, tuple[int, int | None]],
                     held: list[tuple[str, str, str, int, datetime]]) -> None:
        """One page of the sweep, in one transaction. An intent that appeared since the
        page was read is newer than what the page saw, and is left as it is."""
        if not found and not held:
            return
        now = datetime.now(UTC)
        rows = [{"channel": c, "sku": s, "location": loc, "target": q, "priority": priority(q, confirmed),
                 "generation": 0, "first_changed_at": now, "changed_at": now, "state": PENDING, "attempts": 0,
                 "next_attempt_at": now} for (c, s, loc), (q, confirmed) in found.items()]
        rows += _held_rows(held, now)
        with self.engine.begin() as conn:
            _insert_missing(conn, rows)
        if found and channel in self._wake:
            self._wake[channel].set()

    # -- sending ---------------------------------------------------------------------------
    def claim(self, channel: str, limit: int) -> list[_Claimed]:
        """Lease the `limit` most urgent due intents of `channel` to this engine.

        On SQLite the candidates are chosen by a read (it sorts every due intent, which
        under BEGIN IMMEDIATE held the write lock up to 0.5 s with 80,000 due), then
        leased by their ids in a short write that checks again that each is still free
        and due; the claimed rows are read back inside that write, as they are now. On
        PostgreSQL one transaction locks them (FOR UPDATE SKIP LOCKED)."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.lease_s)
        i, lv = t.sync_intents, t.channel_levels
        free = sa.and_(i.c.state == PENDING, i.c.next_attempt_at <= now,
                       sa.or_(i.c.lease_until.is_(None), i.c.lease_until < now))
        q = (
            sa.select(i.c.id, i.c.sku, i.c.location, i.c.target, i.c.generation, i.c.first_changed_at, i.c.attempts, lv.c.confirmed)
            .outerjoin(lv, sa.and_(lv.c.channel == i.c.channel, lv.c.sku == i.c.sku, lv.c.location == i.c.location))
            .order_by(i.c.priority, i.c.first_changed_at, i.c.id)
        )
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                rows = conn.execute(q.where(i.c.channel == channel, free).limit(limit)
                                    .with_for_update(of=i, skip_locked=True)).all()
                if rows:
                    conn.execute(i.update().where(i.c.id.in_([r.id for r in rows]))
                                 .values(lease_owner=self.owner, lease_until=until))
        else:
            ids = self.due_ids(channel, limit)
            if not ids:
                return []
            return self.lease(ids)
        return [_Claimed(r.id, r.sku, r.location, r.target, r.generation, as_utc(r.first_changed_at), r.attempts, r.confirmed)
                for r in rows]

    def _free(self, now: datetime):
        i = t.sync_intents
        return sa.and_(i.c.state == PENDING, i.c.next_attempt_at <= now,
                       sa.or_(i.c.lease_until.is_(None), i.c.lease_until < now))

    def due_ids(self, channel: str, limit: int) -> list[int]:
        """The ids of the `limit` most urgent intents due now and not leased, by a read
        (no write lock, no row locks): what `lease` then takes."""
        i = t.sync_intents
        with self.reader.connect() as conn:
            return list(conn.execute(sa.select(i.c.id).where(i.c.channel == channel, self._free(datetime.now(UTC)))
                                     .order_by(i.c.priority, i.c.first_changed_at, i.c.id).limit(limit)).scalars())

    def lease(self, ids: list[int]) -> list[_Claimed]:
        """Lease to this engine those of `ids` still due and free, in one short write
        that checks each again (a row another worker took meanwhile is skipped; on
        PostgreSQL the update waits for its lock and then sees it taken), and read them
        back as they are now."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.lease_s)
        i, lv = t.sync_intents, t.channel_levels
        with self.engine.begin() as conn:
            conn.execute(i.update().where(i.c.id.in_(ids), self._free(now)).values(lease_owner=self.owner, lease_until=until))
            rows = conn.execute(
                sa.select(i.c.id, i.c.sku, i.c.location, i.c.target, i.c.generation, i.c.first_changed_at, i.c.attempts,
                          lv.c.confirmed)
                .outerjoin(lv, sa.and_(lv.c.channel == i.c.channel, lv.c.sku == i.c.sku, lv.c.location == i.c.location))
                .where(i.c.id.in_(ids), i.c.lease_owner == self.owner, i.c.lease_until == until)
                .order_by(i.c.priority, i.c.first_changed_at, i.c.id)).all()
        return [_Claimed(r.id, r.sku, r.location, r.target, r.generation, as_utc(r.first_changed_at), r.attempts, r.confirmed)
                for r in rows]

    def run_channel_once(self, channel: str) -> int:
        """Claim, push and settle one batch; returns how many intents were handled."""
        bulk = push_path.bulk_round(self, channel)  # many due: one bulk file (services/push_path.py)
        if bulk is not None:
            return bulk
        pusher = self.pushers[channel]
        claimed = self.claim(channel, min(self.claim_batch, getattr(pusher, "max_batch", 250) * 4))
        if not claimed:
            return 0
        by_id = {c.id: c for c in claimed}
        mapping = self.mapping(channel)
        if any(c.sku not in mapping.items for c in claimed):
            mapping = self.mapping(channel, max_age_s=0)
        items = [PushItem(c.id, c.sku, c.location, c.target, c.confirmed) for c in claimed]
        sent_at = datetime.now(UTC)
        final: dict[int, PushOutcome] = {}
        reassert: set[int] = set()
        observed: dict[int, int] = {}
        for _round in range(4):
            if not items:
                break
            try:
                outcomes = pusher.push(items, mapping)
            except Exception as exc:  # a pusher bug must not lose the claim
                log.exception("push failed", channel=channel)
                outcomes = [PushOutcome(it.intent_id, PushStatus.RETRY, error=f"{type(exc).__name__}: {exc}") for it in items]
            sent = {it.intent_id: it for it in items}
            items = []
            for o in outcomes:
                it = sent[o.intent_id]
                if o.status == PushStatus.STALE and o.observed is not None:
                    observed[o.intent_id] = o.observed
                    decision = redecide(by_id[o.intent_id].target, it.confirmed, o.observed)
                    if decision.reassert:
                        reassert.add(o.intent_id)
                    items.append(PushItem(it.intent_id, it.sku, it.location, decision.send, o.observed))
                elif o.status == PushStatus.AGAIN:
                    items.append(it)
                else:
                    final[o.intent_id] = o
        for it in items:  # still stale after the rounds: retry later
            final[it.intent_id] = PushOutcome(it.intent_id, PushStatus.RETRY, error="still stale after re-reading")
        self._settle(channel, by_id, final, reassert, observed)
        self._note_health(channel, final, answered=bool(observed), sent_at=sent_at)
        return len(claimed)

    def _note_health(self, channel: str, outcomes: dict[int, PushOutcome], *, answered: bool, sent_at: datetime) -> None:
        """Whether the channel answered this batch (RETRY is no answer: network, 5xx,
        throttled; DEFERRED was not sent); on its first answer after an outage, tell the
        recovery listeners."""
        statuses = {o.status for o in outcomes.values()}
        answered = answered or bool(statuses & {PushStatus.OK, PushStatus.FAILED})
        if not answered and PushStatus.RETRY not in statuses:
            return  # nothing was sent
        health = self.health.get(channel)
        if health is None:
            health = self.health[channel] = ChannelHealth(self.outage_after_s)
        error = next((o.error for o in outcomes.values() if o.status in (PushStatus.RETRY, PushStatus.FAILED) and o.error),
                     None)
        if not health.observe(answered=answered, sent_at=sent_at, now=datetime.now(UTC),
                              confirmed=PushStatus.OK in statuses, error=error):
            return
        log.warning("channel answers again after an outage", channel=channel)
        for listener in self.recovery_listeners:
            try:
                listener(channel)
            except Exception:
                log.exception("recovery listener failed", channel=channel)

    def _settle(self, channel: str, by_id: dict[int, _Claimed], outcomes: dict[int, PushOutcome],
                reassert: set[int], observed: dict[int, int]) -> None:
        """Settle the outcomes `SETTLE_PIECE` intents per write transaction; an intent's
        confirmed level and its own row always commit together."""
        ids = sorted(set(outcomes) | set(observed))
        for start in range(0, len(ids), SETTLE_PIECE):
            piece = ids[start:start + SETTLE_PIECE]
            self._settle_piece(channel, by_id, {iid: outcomes[iid] for iid in piece if iid in outcomes}, reassert,
                               {iid: observed[iid] for iid in piece if iid in observed})

    def _settle_piece(self, channel: str, by_id: dict[int, _Claimed], outcomes: dict[int, PushOutcome],
                      reassert: set[int], observed: dict[int, int]) -> None:
        now = datetime.now(UTC)
        i = t.sync_intents
        acks: list[Ack] = []
        with self.engine.begin() as conn:
            levels = []
            for iid, seen in observed.items():
                if outcomes.get(iid) is None or outcomes[iid].status != PushStatus.OK:
                    c = by_id[iid]
                    levels.append({"channel": channel, "sku": c.sku, "location": c.location, "confirmed": seen, "confirmed_at": now})
            for iid, o in outcomes.items():
                c = by_id[iid]
                if o.status == PushStatus.OK:
                    levels.append({"channel": channel, "sku": c.sku, "location": c.location, "confirmed": o.landed, "confirmed_at": now})
            self._upsert_levels(conn, levels)
            # The common outcomes go a statement for the whole piece, not one per intent:
            # 250 statements held SQLite's write lock ~0.1 s. Rows in key order, as every
            # writer of intents goes (no deadlock on PostgreSQL).
            by_key = sorted(outcomes, key=lambda iid: (by_id[iid].sku, by_id[iid].location))
            landed = [iid for iid in by_key if outcomes[iid].status == PushStatus.OK]
            done = [iid for iid in landed if iid not in reassert]
            ours = i.c.lease_owner == self.owner
            free = {"lease_owner": None, "lease_until": None}
            if done:
                conn.execute(i.delete().where(i.c.id == sa.bindparam("b_id"), ours, i.c.generation == sa.bindparam("b_gen")),
                             [{"b_id": iid, "b_gen": by_id[iid].generation} for iid in done])
                # Still there: a newer target arrived while we pushed, due again now.
                newer = conn.execute(sa.select(i.c.id).where(i.c.id.in_(done), ours)).scalars().all()
                if newer:
                    conn.execute(i.update().where(i.c.id.in_(newer), ours).values(**free))
                for iid in done:
                    c = by_id[iid]
                    acks.append(Ack(channel, c.sku, c.location, outcomes[iid].landed, c.first_changed_at, now))
            held = [iid for iid in landed if iid in reassert]
            if held:  # landed the safe figure; the hub's own figure goes again after the hold
                conn.execute(i.update().where(i.c.id.in_(held), ours).values(
                    **free, next_attempt_at=now + timedelta(seconds=self.reassert_after_s)))
            deferred = [iid for iid in by_key if outcomes[iid].status == PushStatus.DEFERRED]
            if deferred:
                conn.execute(i.update().where(i.c.id.in_(deferred), ours).values(
                    **free, next_attempt_at=now + timedelta(seconds=1)))
            for iid in by_key:
                o = outcomes[iid]
                if o.status in (PushStatus.OK, PushStatus.DEFERRED):
                    continue
                c = by_id[iid]
                attempts = c.attempts + 1
                park = o.status == PushStatus.FAILED or attempts >= self.max_attempts
                delay = backoff_delay(attempts, base=self.backoff_base_s, cap=self.backoff_cap_s)
                conn.execute(i.update().where(i.c.id == iid, ours).values(
                    **free, attempts=attempts, last_error=o.error[:2000],
                    state=DEAD if park else PENDING, next_attempt_at=now + timedelta(seconds=delay)))
                if park:
                    m.PARKED.labels(channel).inc()
                    log.warning("sync intent parked", channel=channel, sku=c.sku, location=c.location, error=o.error)
                else:
                    m.RETRIES.labels(channel).inc()
        for a in acks:
            m.SYNC_LAG.labels(channel).observe((a.acked_at - a.first_changed_at).total_seconds())
            m.PUSHED.labels(channel).inc()
            for listener in self.ack_listeners:
                listener(a)

    @staticmethod
    def _upsert_levels(conn, rows: list[dict]) -> None:
        if not rows:
            return
        lv = t.channel_levels
        ins = postgresql.insert(lv) if conn.dialect.name == "postgresql" else sqlite.insert(lv)
        stmt = ins.on_conflict_do_update(index_elements=[lv.c.channel, lv.c.sku, lv.c.location],
                                         set_={"confirmed": ins.excluded.confirmed, "confirmed_at": ins.excluded.confirmed_at,
                                               "observed_at": ins.excluded.observed_at})
        # A push acknowledgement is the channel's figure as of now.
        rows = [r if r.get("observed_at") else {**r, "observed_at": r["confirmed_at"]} for r in rows]
        dedup = {(r["channel"], r["sku"], r["location"]): r for r in rows}
        conn.execute(stmt, [dedup[k] for k in sorted(dedup)])

    def observe_level(self, channel: str, sku: str, location: str, quantity: int,
                      observed_at: datetime | None = None) -> None:
        """The channel told us what it shows (inventory_levels/update, a notification, a
        snapshot): record it as confirmed, and if it is not the hub's figure, an intent
        will put it right.

        `observed_at` is the channel's time of the figure (None: now, for a read just
        made). Webhooks and notifications arrive late and out of order: one older than
        the level already confirmed (a push acknowledged since, a newer notification)
        describes a past the hub has moved beyond, and changes nothing: recording it
        would lower the confirmed level and hold a needless re-assert."""
        now = datetime.now(UTC)
        at = as_utc(observed_at) or now
        with self.engine.begin() as conn:
            if is_late(at, self._observed_at(conn, channel, sku, location)):
                m.LATE_OBSERVATIONS.labels(channel).inc()
                log.info("late channel level ignored", channel=channel, sku=sku, location=location, quantity=quantity,
                         observed_at=at.isoformat())
                return
            self._upsert_levels(conn, [{"channel": channel, "sku": sku, "location": location, "confirmed": quantity,
                                        "confirmed_at": now, "observed_at": at}])
            shown = conn.execute(sa.select(t.channel_availability.c.quantity).where(
                t.channel_availability.c.channel == channel, t.channel_availability.c.sku == sku,
                t.channel_availability.c.location == location)).scalar()
            if location and not conn.execute(sa.select(t.channel_feeds.c.mode).where(
                    t.channel_feeds.c.channel == channel, t.channel_feeds.c.location == location)).first():
                shown = 0  # a location that does not feed the channel shows nothing there
        if shown is None or shown == quantity:
            return
        if quantity > shown:  # the channel shows too much: lowering is always safe, now
            self.request(channel, sku, location, shown)
        else:  # it shows less: perhaps a sale we have not ingested yet; re-assert after the hold
            self.defer([(channel, sku, location, shown, now + timedelta(seconds=self.reassert_after_s))])

    @staticmethod
    def _observed_at(conn, channel: str, sku: str, location: str) -> datetime | None:
        lv = t.channel_levels
        q = sa.select(sa.func.coalesce(lv.c.observed_at, lv.c.confirmed_at)).where(
            lv.c.channel == channel, lv.c.sku == sku, lv.c.location == location)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()  # two observations of one key decide one after the other
        return as_utc(conn.execute(q).scalar())

    # -- dead letters and status -----------------------------------------------------------
    def dead_letters(self, channel: str | None = None, limit: int = 100) -> list[dict]:
        i = t.sync_intents
        q = sa.select(i.c.id, i.c.channel, i.c.sku, i.c.location, i.c.target, i.c.attempts, i.c.last_error,
                      i.c.first_changed_at, i.c.changed_at).where(i.c.state == DEAD)
        if channel:
            q = q.where(i.c.channel == channel)
        with self.reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(i.c.id).limit(limit))]

    def retry_dead_letter(self, intent_id: int) -> bool:
        i = t.sync_intents
        with self.engine.begin() as conn:
            n = conn.execute(i.update().where(i.c.id == intent_id, i.c.state == DEAD).values(
                state=PENDING, attempts=0, next_attempt_at=datetime.now(UTC), lease_owner=None, lease_until=None)).rowcount
            ch = conn.execute(sa.select(i.c.channel).where(i.c.id == intent_id)).scalar()
        if n and ch in self._wake:
            self._wake[ch].set()
        return bool(n)

    def retry_dead_letters(self, channel: str | None = None) -> int:
        """Every dead letter (of one channel, or of all) back in the queue, due now, with a
        fresh set of attempts: what `retry_dead_letter` does to one. How many."""
        i = t.sync_intents
        where = [i.c.state == DEAD] + ([i.c.channel == channel] if channel else [])
        with self.engine.begin() as conn:
            n = conn.execute(i.update().where(*where).values(
                state=PENDING, attempts=0, next_attempt_at=datetime.now(UTC), lease_owner=None, lease_until=None)).rowcount
        for ch, wake in self._wake.items():
            if n and ch != "flush" and channel in (None, ch):
                wake.set()
        return int(n)

    def pending(self) -> dict[str, dict[str, int]]:
        i = t.sync_intents
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(i.c.channel, i.c.state, sa.func.count()).group_by(i.c.channel, i.c.state)).all()
        out: dict[str, dict[str, int]] = {}
        for ch, state, n in rows:
            out.setdefault(ch, {PENDING: 0, DEAD: 0})[state] = n
        for ch, counts in out.items():
            m.INTENTS_PENDING.labels(ch).set(counts.get(PENDING, 0))
            m.DEAD_LETTERS.labels(ch).set(counts.get(DEAD, 0))
        return out

    def idle(self) -> bool:
        with self._lock:
            if self._buffer:
                return False
        i = t.sync_intents
        with self.reader.connect() as conn:
            return not conn.execute(sa.select(sa.func.count()).select_from(i).where(i.c.state == PENDING)).scalar()

    # -- threads ---------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()

        def flusher():
            while not self._stop.is_set():
                self._wake["flush"].wait(0.5)
                self._wake["flush"].clear()
                time.sleep(self.flush_interval_s)  # let a burst gather
                try:
                    while self.flush_one_page() and not self._stop.is_set():
                        pass  # what a stop leaves buffered, stop's own flush writes
                except Exception:
                    log.exception("sync intake flush failed; retrying")

        def sender(channel: str):
            while not self._stop.is_set():
                try:
                    n = self.run_channel_once(channel)
                except Exception:
                    log.exception("sync sender failed; retrying", channel=channel)
                    n = 0
                if not n:
                    self._wake[channel].wait(0.2)
                    self._wake[channel].clear()

        def sweeper():  # the first sweep at once: what a dead worker left buffered
            while not self._stop.is_set():
                try:
                    self.sweep()
                    self.pending()
                except Exception:
                    log.exception("sync sweep failed")
                if self._stop.wait(self.sweep_interval_s):
                    break

        self._threads = [threading.Thread(target=flusher, name="sync-intake", daemon=True),
                         threading.Thread(target=sweeper, name="sync-sweep", daemon=True)]
        self._threads += [threading.Thread(target=sender, args=(c,), name=f"sync-{c}", daemon=True) for c in self.pushers]
        for th in self._threads:
            th.start()

    def release_leases(self) -> int:
        """Give back every intent this engine still holds (a graceful stop whose push did
        not finish in time): due again at once for the next worker, not after `lease_s`.
        A push that lands later cannot settle it any more (settling checks the owner)."""
        i = t.sync_intents
        with self.engine.begin() as conn:
            return conn.execute(i.update().where(i.c.lease_owner == self.owner)
                                .values(lease_owner=None, lease_until=None)).rowcount

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; a push in flight finishes and settles (its lease would expire anyway)."""
        self._stop.set()
        for ev in self._wake.values():
            ev.set()
        deadline = time.monotonic() + timeout  # one budget for all the threads, not one each
        for th in self._threads:
            th.join(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self.flush()
        except Exception:
            log.exception("final sync flush failed")
        self._threads = []
