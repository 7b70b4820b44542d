"""Fulfilment status back to the channels, in batches (seeds: "the OMS updates the status
of fulfilled orders in Shopify through batch processing every 30 minutes").

A shipment the hub records (order_operations.ship) is a set of `order_assignments` rows
in state "shipped" sharing a shipment id, with carrier and tracking number; a pickup
handed over at a store (order_operations.hand_over) is one too, in state "picked_up",
without tracking (POS sales rung up at the till, `till-<order>`, are not: their channel
rang them up). Each run:

1. Discover: every shipment of an order of a connected channel that has no row in
   `channel_fulfilments` yet gets one (pending). The row is the durable "not yet told /
   told" flag: whatever happens to the process, a shipment is told at most once by this
   job, and the channels' notifiers also recognise a notice that landed before its answer
   was lost (tracking number already on Shopify, order already Shipped on Amazon).
2. Send: due pending rows are claimed under a short lease (a CLI run and the worker's
   schedule may overlap), told to their channel, and settled: sent; or, for a transport
   failure, retried later with exponential back-off and jitter; or, when the channel
   refuses for good or `max_attempts` is reached, parked as dead with the error, listed
   by `failures()` and revived by `retry()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.channel_fulfilment import FulfilmentNotifier, NoticeRefused, ShipmentNotice

log = structlog.get_logger(__name__)

PENDING, SENT, DEAD = "pending", "sent", "dead"
#: the assignment states of a parcel that has left: shipped, or collected at the store
TOLD_STATES = ("shipped", "picked_up")


@dataclass
class FulfilmentRun:
    discovered: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[dict] = field(default_factory=list)


class FulfilmentSync:
    def __init__(self, engine: Engine, notifiers: dict[str, FulfilmentNotifier] | None = None, *, max_attempts: int = 8,
                 backoff_base_s: float = 60.0, backoff_cap_s: float = 3600.0, lease_s: float = 300.0,
                 batch: int = 200) -> None:
        self.engine = engine
        self.notifiers: dict[str, FulfilmentNotifier] = {}
        for channel, notifier in (notifiers or {}).items():
            self.register(channel, notifier)
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.lease_s = lease_s
        self.batch = batch
        self.stopping = threading.Event()  # set by the worker's stop: no further batch is taken

    def register(self, channel: str, notifier: FulfilmentNotifier) -> None:
        self.notifiers[channel] = notifier
        for counter in (m.FULFILMENTS_SENT, m.FULFILMENTS_FAILED, m.FULFILMENTS_RETRIED, m.FULFILMENTS_PARKED):
            counter.labels(channel)  # a connected channel shows its zeros, not nothing

    # -- discovery --------------------------------------------------------------------------
    def discover(self, now: datetime | None = None) -> int:
        """Create a pending row for every shipment of a connected channel not seen before,
        `batch` shipments a transaction in (order, shipment) order, so a first run over
        years of shipped orders holds the write lock one batch at a time."""
        if not self.notifiers:
            return 0
        now = now or datetime.now(UTC)
        oa, o, cf = t.order_assignments, t.orders, t.channel_fulfilments
        seen = sa.select(cf.c.id).where(cf.c.order_id == oa.c.order_id, cf.c.shipment_id == oa.c.shipment_id)
        query = (sa.select(oa.c.order_id, oa.c.shipment_id, o.c.channel).distinct()
                 .join(o, o.c.id == oa.c.order_id)
                 .where(oa.c.state.in_(TOLD_STATES), oa.c.shipment_id.is_not(None), ~oa.c.shipment_id.like("till-%"),
                        o.c.channel.in_(sorted(self.notifiers)),
                        ~sa.exists(seen))
                 .order_by(oa.c.order_id, oa.c.shipment_id).limit(self.batch))
        found, after = 0, None
        while not self.stopping.is_set():
            page = query if after is None else query.where(sa.tuple_(oa.c.order_id, oa.c.shipment_id) > after)
            with self.engine.begin() as conn:
                rows = [{"channel": ch, "order_id": oid, "shipment_id": sid, "state": PENDING, "attempts": 0,
                         "next_attempt_at": now, "created_at": now} for oid, sid, ch in conn.execute(page)]
                if rows:
                    conn.execute(_insert_ignore(conn, cf), rows)
            found += len(rows)
            if len(rows) < self.batch:
                break
            after = (rows[-1]["order_id"], rows[-1]["shipment_id"])
        return found

    # -- sending ----------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> FulfilmentRun:
        """Discover, then tell every due shipment to its channel; returns the counts."""
        run = FulfilmentRun(discovered=self.discover(now))
        while not self.stopping.is_set():  # a stop lets the batch in hand finish; the rest stays due
            claimed = self._claim(datetime.now(UTC))
            if not claimed:
                return run
            for n, row in enumerate(claimed):
                if self.stopping.is_set():  # the rest goes back now, not after the lease
                    self._release([r.id for r in claimed[n:]])
                    return run
                self._send(row, run)
            if len(claimed) < self.batch:
                return run
        return run

    def _release(self, ids: list[int]) -> None:
        cf = t.channel_fulfilments
        with self.engine.begin() as conn:
            conn.execute(sa.update(cf).where(cf.c.id.in_(ids), cf.c.state == PENDING).values(lease_until=None))

    def _claim(self, now: datetime) -> list:
        cf = t.channel_fulfilments
        with self.engine.begin() as conn:
            due = conn.execute(sa.select(cf).where(cf.c.state == PENDING, cf.c.next_attempt_at <= now,
                                                   cf.c.channel.in_(sorted(self.notifiers)),
                                                   sa.or_(cf.c.lease_until.is_(None), cf.c.lease_until < now))
                               .order_by(cf.c.next_attempt_at, cf.c.id).limit(self.batch)).all()
            mine = []
            for row in due:  # a conditional update per row: only one claimer wins each row
                won = conn.execute(sa.update(cf).where(cf.c.id == row.id, cf.c.state == PENDING,
                                                       sa.or_(cf.c.lease_until.is_(None), cf.c.lease_until < now))
                                   .values(lease_until=now + timedelta(seconds=self.lease_s))).rowcount
                if won:
                    mine.append(row)
        return mine

    def notice(self, row) -> ShipmentNotice:
        oa, o, cl = t.order_assignments, t.orders, t.channel_locations
        with self.engine.connect() as conn:
            external_id = conn.execute(sa.select(o.c.external_id).where(o.c.id == row.order_id)).scalar_one()
            parts = conn.execute(sa.select(oa.c.line_id, oa.c.quantity, oa.c.carrier, oa.c.tracking_number, oa.c.updated_at,
                                           cl.c.external_location_id)
                                 .outerjoin(cl, sa.and_(cl.c.channel == row.channel, cl.c.location == oa.c.location))
                                 .where(oa.c.order_id == row.order_id, oa.c.shipment_id == row.shipment_id)
                                 .order_by(oa.c.id)).all()
        if not parts:
            raise NoticeRefused(f"shipment {row.shipment_id} of order {row.order_id} has no lines any more")
        lines: dict[str, int] = {}
        for p in parts:
            lines[p.line_id] = lines.get(p.line_id, 0) + int(p.quantity)
        first = parts[0]
        return ShipmentNotice(order_external_id=str(external_id), shipment_id=row.shipment_id, carrier=first.carrier,
                              tracking_number=first.tracking_number, shipped_at=as_utc(first.updated_at),
                              lines=tuple(lines.items()), reference=int(row.id), location_id=first.external_location_id)

    def _send(self, row, run: FulfilmentRun) -> None:
        ctx = {"channel": row.channel, "order_id": row.order_id, "shipment_id": row.shipment_id}
        try:
            told = self.notifiers[row.channel].tell(self.notice(row))
        except NoticeRefused as exc:
            self._settle(row, DEAD, error=str(exc))
            m.FULFILMENTS_FAILED.labels(row.channel).inc()
            m.FULFILMENTS_PARKED.labels(row.channel).inc()
            run.dead += 1
            run.errors.append({**ctx, "error": str(exc), "final": True})
            log.warning("fulfilment refused by the channel", error=str(exc), **ctx)
            return
        except Exception as exc:  # transport, throttling exhausted, 5xx: try again later
            attempts = row.attempts + 1
            final = attempts >= self.max_attempts
            delay = backoff_delay(attempts, base=self.backoff_base_s, cap=self.backoff_cap_s)
            self._settle(row, DEAD if final else PENDING, error=f"{type(exc).__name__}: {exc}", attempts=attempts,
                         next_at=datetime.now(UTC) + timedelta(seconds=delay))
            m.FULFILMENTS_FAILED.labels(row.channel).inc()
            (m.FULFILMENTS_PARKED if final else m.FULFILMENTS_RETRIED).labels(row.channel).inc()
            run.dead += final
            run.retrying += not final
            run.errors.append({**ctx, "error": str(exc), "final": final})
            log.warning("fulfilment not sent; will retry" if not final else "fulfilment parked", error=str(exc), **ctx)
            return
        self._settle(row, SENT, external_id=told.external_id, error=told.note or None)
        m.FULFILMENTS_SENT.labels(row.channel).inc()
        run.sent += 1
        log.info("fulfilment told to the channel", external_id=told.external_id, note=told.note, **ctx)

    def _settle(self, row, state: str, *, error: str | None = None, attempts: int | None = None,
                next_at: datetime | None = None, external_id: str | None = None) -> None:
        cf = t.channel_fulfilments
        values: dict = {"state": state, "lease_until": None, "last_error": error}
        if attempts is not None:
            values["attempts"] = attempts
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if state == SENT:
            values.update(sent_at=datetime.now(UTC), external_id=external_id)
        with self.engine.begin() as conn:
            conn.execute(sa.update(cf).where(cf.c.id == row.id).values(**values))

    # -- operators --------------------------------------------------------------------------
    def failures(self) -> list[dict]:
        """Dead rows, and pending rows whose last attempt failed: what an operator should see."""
        cf = t.channel_fulfilments
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(cf).where(sa.or_(cf.c.state == DEAD,
                                                           sa.and_(cf.c.state == PENDING, cf.c.attempts > 0)))
                                .order_by(cf.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def retry(self, row_id: int | None = None) -> int:
        """Give dead rows (one, or all) a fresh set of attempts, due now. Named by id, a
        row waiting out its back-off is also made due now (an operator who fixed the
        cause need not wait up to an hour)."""
        cf = t.channel_fulfilments
        failed = sa.or_(cf.c.state == DEAD, sa.and_(cf.c.state == PENDING, cf.c.attempts > 0))
        where = [cf.c.state == DEAD] if row_id is None else [failed, cf.c.id == row_id]
        with self.engine.begin() as conn:
            return conn.execute(sa.update(cf).where(*where).values(state=PENDING, attempts=0, lease_until=None,
                                                                    next_attempt_at=datetime.now(UTC))).rowcount


def _insert_ignore(conn, table):
    """INSERT ... ON CONFLICT DO NOTHING: two runs discovering the same shipment at once
    both succeed, and the unique key keeps one row."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=["order_id", "shipment_id"])
