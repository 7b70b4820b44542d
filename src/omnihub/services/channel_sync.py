"""The sync engine: every change of what a channel may sell becomes an intent "channel C
should show Q for SKU S at location L", and intents are pushed within each channel's
budget until the channel acknowledges them.

- Intake. ChannelAvailabilityChanged events (from the outbox, at least once) are
  coalesced in memory (latest wins per key) and written to `sync_intents` in one upsert
  per flush: a burst of 100 changes to one SKU is one row and one push. A new value for a
  row that is waiting, in back-off or parked replaces its target (a parked row comes back
  to life: the new figure deserves a fresh try).
- Safety net. The in-memory buffer can die with the process; `sweep` re-derives intents
  from the difference between what the hub shows (`channel_availability`) and what the
  channel last confirmed (`channel_levels`), so nothing committed is lost, and it also
  re-asserts the hub's figure where a channel drifted.
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.db import tables as t
from omnihub.domain.channel_sync import PushItem, PushOutcome, PushStatus, priority, redecide
from omnihub.domain.events import ChannelAvailabilityChanged
from omnihub.services import push_path

log = structlog.get_logger(__name__)

PENDING, DEAD = "pending", "dead"


def is_late(observed_at: datetime, last: datetime | None) -> bool:
    """Older than the figure already held. A time with whole seconds (Shopify's
    updated_at) is compared with the held one cut to whole seconds: within the same
    second the order cannot be told, and the newer-looking observation is kept."""
    if last is None:
        return False
    if observed_at.microsecond == 0:
        last = last.replace(microsecond=0)
    return observed_at < last


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


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
    quantity: int
    first_changed_at: datetime
    acked_at: datetime


#: PostgreSQL advisory lock that orders the commits of buffered intents (see flush_in).
INTENT_FLUSH_LOCK = 0x0A11_5E7C


class ChannelSync:
    def __init__(self, engine: Engine, *, lease_s: float = 30.0, max_attempts: int = 8, backoff_base_s: float = 1.0,
                 backoff_cap_s: float = 300.0, reassert_after_s: float = 30.0, claim_batch: int = 1000,
                 flush_interval_s: float = 0.01, sweep_interval_s: float = 60.0, owner: str | None = None) -> None:
        self.engine = engine
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.reassert_after_s = reassert_after_s
        self.claim_batch = claim_batch
        self.flush_interval_s = flush_interval_s
        self.sweep_interval_s = sweep_interval_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.pushers: dict[str, object] = {}
        self._mappings: dict[str, tuple[float, ChannelMapping]] = {}
        self._buffer: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        self._lock = threading.Lock()
        self._wake = {"flush": threading.Event()}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.ack_listeners: list[Callable[[Ack], None]] = []

    # -- configuration ---------------------------------------------------------------------
    def register(self, channel: str, pusher) -> None:
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
        with self.engine.connect() as conn:
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
        if not self._wants(channel, location):
            return
        now = datetime.now(UTC)
        with self._lock:
            key = (channel, payload["sku"], location)
            prev = self._buffer.get(key)
            self._buffer[key] = (int(payload["new"]), prev[1] if prev else now)
        self._wake["flush"].set()

    def request(self, channel: str, sku: str, location: str, quantity: int) -> None:
        """Ask for a push directly (used by reconciliation and tests)."""
        self.on_availability_changed(ChannelAvailabilityChanged.topic,
                                     {"channel": channel, "sku": sku, "location": location, "new": quantity})

    def flush(self) -> int:
        with self.engine.begin() as conn:
            return self.flush_in(conn)

    def flush_in(self, conn) -> int:
        """Write the buffered intents in `conn`'s transaction. The outbox relay calls it
        before it marks the events it relayed as published: a worker killed between the
        two used to lose the buffered raises, and the restart sweep then held them back
        (reassert_after_s) as if the channel had sold the difference."""
        if not self._buffer:
            return 0
        if conn.dialect.name == "postgresql":
            # Two threads write intents (the flusher, and the relay before it marks a page
            # published), each taking the buffer and then committing. Buffers must commit
            # in the order they were taken, or an older target overwrites a newer one and
            # the channel is shown stock the hub no longer has. SQLite's BEGIN IMMEDIATE
            # already orders them; on PostgreSQL a transaction lock held to commit does.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": INTENT_FLUSH_LOCK})
        with self._lock:
            batch, self._buffer = self._buffer, {}
        if not batch:
            return 0
        try:
            with conn.begin_nested():  # a failed upsert must not spoil the caller's transaction
                self._upsert(conn, batch)
        except Exception:
            with self._lock:  # put it back; newer values already buffered win
                for k, v in batch.items():
                    self._buffer.setdefault(k, v)
            raise
        for channel in {k[0] for k in batch}:
            if channel in self._wake:
                self._wake[channel].set()
        return len(batch)

    def _upsert(self, conn, batch: dict[tuple[str, str, str], tuple[int, datetime]]) -> None:
        now = datetime.now(UTC)
        i = t.sync_intents
        confirmed = self._confirmed(conn, list(batch))
        # Already what the channel shows and nothing queued for it: no push needed.
        same = [k for k, (q, _) in batch.items() if confirmed.get(k) == q]
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
        for start in range(0, len(rows), 500):
            conn.execute(stmt, rows[start:start + 500])

    def defer(self, rows: list[tuple[str, str, str, int, datetime]]) -> None:
        """Intents (channel, sku, location, target, not_before) that must wait: the hub's
        figure is above what the channel shows, and the channel may have sold the
        difference in an order not ingested yet (see domain.channel_sync). An existing
        intent for the key is left as it is."""
        if not rows:
            return
        now = datetime.now(UTC)
        i = t.sync_intents
        with self.engine.begin() as conn:
            ins = postgresql.insert(i) if conn.dialect.name == "postgresql" else sqlite.insert(i)
            stmt = ins.on_conflict_do_nothing(index_elements=[i.c.channel, i.c.sku, i.c.location])
            conn.execute(stmt, [{"channel": c, "sku": s, "location": loc, "target": q, "priority": priority(q, None),
                                 "generation": 0, "first_changed_at": now, "changed_at": now, "state": PENDING,
                                 "attempts": 0, "next_attempt_at": nb} for c, s, loc, q, nb in rows])

    @staticmethod
    def _existing(conn, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        i = t.sync_intents
        out: set[tuple[str, str, str]] = set()
        by_channel: dict[str, list[str]] = {}
        for c, s, _ in keys:
            by_channel.setdefault(c, []).append(s)
        for c, skus in by_channel.items():
            for start in range(0, len(skus), 500):
                q = sa.select(i.c.sku, i.c.location).where(i.c.channel == c, i.c.sku.in_(skus[start:start + 500]))
                out.update((c, s, loc) for s, loc in conn.execute(q))
        return out

    @staticmethod
    def _confirmed(conn, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        out: dict[tuple[str, str, str], int] = {}
        lv = t.channel_levels
        by_channel: dict[str, list[str]] = {}
        for c, s, _ in keys:
            by_channel.setdefault(c, []).append(s)
        for c, skus in by_channel.items():
            for start in range(0, len(skus), 500):
                q = sa.select(lv.c.sku, lv.c.location, lv.c.confirmed).where(lv.c.channel == c, lv.c.sku.in_(skus[start:start + 500]))
                for s, loc, v in conn.execute(q):
                    out[(c, s, loc)] = v
        return out

    def sweep(self, channel: str | None = None) -> int:
        """Intents for every listed (SKU, location) where the hub's figure differs from
        what the channel last confirmed and no intent exists."""
        av, lv, i, li = t.channel_availability, t.channel_levels, t.sync_intents, t.channel_listings
        found: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        held: list[tuple[str, str, str, int, datetime]] = []
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            for ch in ([channel] if channel else list(self.pushers)):
                per_location = getattr(self.pushers[ch], "per_location", False)
                q = (
                    sa.select(av.c.sku, av.c.location, av.c.quantity, lv.c.confirmed, lv.c.confirmed_at)
                    .join(li, sa.and_(li.c.channel == av.c.channel, li.c.sku == av.c.sku))
                    .outerjoin(lv, sa.and_(lv.c.channel == av.c.channel, lv.c.sku == av.c.sku, lv.c.location == av.c.location))
                    .outerjoin(i, sa.and_(i.c.channel == av.c.channel, i.c.sku == av.c.sku, i.c.location == av.c.location))
                    .where(av.c.channel == ch, i.c.id.is_(None),
                           sa.or_(lv.c.confirmed.is_(None), lv.c.confirmed != av.c.quantity),
                           (av.c.location != "") if per_location else (av.c.location == ""))
                )
                if per_location:
                    cl, fd = t.channel_locations, t.channel_feeds
                    q = q.join(cl, sa.and_(cl.c.channel == av.c.channel, cl.c.location == av.c.location)).join(
                        fd, sa.and_(fd.c.channel == av.c.channel, fd.c.location == av.c.location))
                if per_location:  # a mapped location that does not feed the channel shows nothing
                    cl, f = t.channel_locations, t.channel_feeds
                    unfed = (
                        sa.select(li.c.sku, cl.c.location)
                        .join(cl, cl.c.channel == li.c.channel)
                        .outerjoin(f, sa.and_(f.c.channel == cl.c.channel, f.c.location == cl.c.location))
                        .outerjoin(lv, sa.and_(lv.c.channel == li.c.channel, lv.c.sku == li.c.sku, lv.c.location == cl.c.location))
                        .outerjoin(i, sa.and_(i.c.channel == li.c.channel, i.c.sku == li.c.sku, i.c.location == cl.c.location))
                        .where(li.c.channel == ch, f.c.location.is_(None), i.c.id.is_(None),
                               sa.or_(lv.c.confirmed.is_(None), lv.c.confirmed != 0))
                    )
                    for sku, loc in conn.execute(unfed):
                        found[(ch, sku, loc)] = (0, now)
                for sku, loc, qty, confirmed, confirmed_at in conn.execute(q):
                    if confirmed is not None and confirmed < qty:  # raise only after the hold
                        held.append((ch, sku, loc, qty, _aware(confirmed_at) + timedelta(seconds=self.reassert_after_s)))
                    else:
                        found[(ch, sku, loc)] = (qty, now)
        self.defer(held)
        if found:
            with self._lock:
                for k, v in found.items():
                    self._buffer.setdefault(k, v)
            self.flush()
        return len(found) + len(held)

    # -- sending ---------------------------------------------------------------------------
    def claim(self, channel: str, limit: int) -> list[_Claimed]:
        now = datetime.now(UTC)
        i, lv = t.sync_intents, t.channel_levels
        q = (
            sa.select(i.c.id, i.c.sku, i.c.location, i.c.target, i.c.generation, i.c.first_changed_at, i.c.attempts, lv.c.confirmed)
            .outerjoin(lv, sa.and_(lv.c.channel == i.c.channel, lv.c.sku == i.c.sku, lv.c.location == i.c.location))
            .where(i.c.channel == channel, i.c.state == PENDING, i.c.next_attempt_at <= now,
                   sa.or_(i.c.lease_until.is_(None), i.c.lease_until < now))
            .order_by(i.c.priority, i.c.first_changed_at, i.c.id).limit(limit)
        )
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(of=i, skip_locked=True)
            rows = conn.execute(q).all()
            if rows:
                conn.execute(i.update().where(i.c.id.in_([r.id for r in rows]))
                             .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=self.lease_s)))
        return [_Claimed(r.id, r.sku, r.location, r.target, r.generation, _aware(r.first_changed_at), r.attempts, r.confirmed)
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
        return len(claimed)

    def _settle(self, channel: str, by_id: dict[int, _Claimed], outcomes: dict[int, PushOutcome],
                reassert: set[int], observed: dict[int, int]) -> None:
        now = datetime.now(UTC)
        i, lv = t.sync_intents, t.channel_levels
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
            for iid, o in outcomes.items():
                c = by_id[iid]
                mine = sa.and_(i.c.id == iid, i.c.lease_owner == self.owner)
                same = sa.and_(mine, i.c.generation == c.generation)
                if o.status == PushStatus.OK:
                    if iid in reassert:
                        # Landed the safe figure; the hub's own figure goes again after the hold.
                        conn.execute(i.update().where(mine).values(
                            lease_owner=None, lease_until=None,
                            next_attempt_at=now + timedelta(seconds=self.reassert_after_s)))
                        continue
                    if conn.execute(i.delete().where(same)).rowcount:
                        acks.append(Ack(channel, c.sku, c.location, o.landed, c.first_changed_at, now))
                    else:  # a newer target arrived while we pushed: due again now
                        conn.execute(i.update().where(mine).values(lease_owner=None, lease_until=None))
                        acks.append(Ack(channel, c.sku, c.location, o.landed, c.first_changed_at, now))
                elif o.status == PushStatus.DEFERRED:
                    conn.execute(i.update().where(mine).values(lease_owner=None, lease_until=None,
                                                               next_attempt_at=now + timedelta(seconds=1)))
                else:
                    attempts = c.attempts + 1
                    park = o.status == PushStatus.FAILED or attempts >= self.max_attempts
                    delay = backoff_delay(attempts, base=self.backoff_base_s, cap=self.backoff_cap_s)
                    conn.execute(i.update().where(mine).values(
                        lease_owner=None, lease_until=None, attempts=attempts, last_error=o.error[:2000],
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
        at = _aware(observed_at) or now
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
        return _aware(conn.execute(q).scalar())

    # -- dead letters and status -----------------------------------------------------------
    def dead_letters(self, channel: str | None = None, limit: int = 100) -> list[dict]:
        i = t.sync_intents
        q = sa.select(i.c.id, i.c.channel, i.c.sku, i.c.location, i.c.target, i.c.attempts, i.c.last_error,
                      i.c.first_changed_at, i.c.changed_at).where(i.c.state == DEAD)
        if channel:
            q = q.where(i.c.channel == channel)
        with self.engine.connect() as conn:
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

    def pending(self) -> dict[str, dict[str, int]]:
        i = t.sync_intents
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
                    self.flush()
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

        def sweeper():
            while not self._stop.wait(self.sweep_interval_s):
                try:
                    self.sweep()
                    self.pending()
                except Exception:
                    log.exception("sync sweep failed")

        try:
            self.sweep()
        except Exception:
            log.exception("initial sync sweep failed")
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
