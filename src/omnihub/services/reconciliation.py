"""Reconciliation: the safety net under webhooks. A run of one channel reads what the
channel shows, compares it with what the hub says it should show, classifies every
difference (domain/reconciliation.py), repairs what the hub can repair, and stores the
run with its findings for operators (API, CLI) to read.

The order of a run matters, because the channel and the hub keep moving while it reads:

1. The run's start is noted and the channel's levels are asked for (every mapped
   location: one bulk query for a large shop, which Shopify starts working on at once).
2. While the channel works, the hub's intents are copied into the run's spool; then the
   channel's levels are spooled as they stream in.
3. The channel's orders over the window are compared with the hub's; missing orders and
   newer versions are ingested through the same idempotent pipeline as webhooks. A till
   sale that happened before step 2 is an order created before step 3, so it is ingested
   here rather than mistaken for a level difference. An order the hub parked (refused for
   what it says, or failing in the inbox) is known, not missed: reported `order_parked`,
   not ingested again; one the pipeline refuses now is parked the same way. Should the
   level read fail, the orders are compared all the same before the run fails. An order
   the channel cancelled is brought into line or left for a person as
   services/channel_cancellations.py says (missed_cancellation, cancelled_after_shipment).
4. The hub's side is read, a page of SKUs at a time. A key whose figure was written since
   the run started (its `updated_at`), whose push landed since (its level's
   `confirmed_at`, which the acknowledgement writes), or that has an intent at either
   read is `push_pending`: it is not judged on a snapshot that may already be stale.
   Only keys that stood still are judged, which is what keeps a run from recording a
   phantom till sale. (Timestamps, not a second copy of the estate: the database picks
   out the few keys that moved. A write stamped just before the start and committed
   after it has its intent by then: the relay queues it within its interval, and the
   channel's read takes longer.)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import groupby
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.snapshots import ChannelReader, OrderHeader
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.orders import Order
from omnihub.domain.reconciliation import CLOSED_STATES, Kind, judge_level
from omnihub.services.channel_cancellations import ChannelCancellations, HubOrder
from omnihub.services.fulfilment_sync import DEAD, PENDING, SENT
from omnihub.services.inventory import Context
from omnihub.services.job_spool import JobSpool, pages
from omnihub.services.listing_lookup import ListingIndex
from omnihub.services.parked_orders import ParkedOrders, is_refusal, reason_of
from omnihub.services.reconciliation_liveness import Heartbeat, fail_abandoned, process_name

log = structlog.get_logger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"  # see reconciliation_liveness.py for how `running` ends


class RunInProgress(RuntimeError):
    """A run of this channel is already going; two would repair the same difference twice."""


class UnknownChannel(LookupError):
    """No connector for this channel (it is not connected)."""


class RunStopped(RuntimeError):
    """The process is stopping: the run ends failed with what it found and repaired so far."""


LEVEL_PAGE = 1000  # channel levels spooled at a time
ORDER_PAGE = 200  # channel orders compared (and ingested) at a time
SKU_PAGE = 500  # listings judged at a time: one read of the hub's side for their positions
FINDINGS_PAGE = 500  # findings stored a transaction
HUB_PAGE = 5000  # the hub's rows copied into the spool per read
#: A shipment told less than this long ago is not checked yet: a channel may take minutes
#: to show one it accepted (Amazon processes shipment confirmations asynchronously).
SHIPMENT_GRACE = timedelta(minutes=15)

_SPOOL = (
    "CREATE TABLE before_intents (sku TEXT NOT NULL, location TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (sku, location))",
    "CREATE TABLE shown (seq INTEGER PRIMARY KEY, number TEXT NOT NULL, item_id TEXT NOT NULL, code TEXT,"
    " available INTEGER NOT NULL, committed INTEGER NOT NULL, channel_sku TEXT)",
    "CREATE INDEX shown_number ON shown (number)",
)


@dataclass
class Finding:
    kind: Kind
    action: str
    repaired: bool = False
    sku: str | None = None
    location: str | None = None
    external_id: str | None = None
    hub_quantity: int | None = None
    channel_quantity: int | None = None


@dataclass
class _HubSide:
    expected: dict[tuple[str, str], int]
    intents: dict[tuple[str, str], str]
    moved: set[tuple[str, str]]  # figure written or push landed since the run started


class _Findings:
    """A run's findings, stored FINDINGS_PAGE a transaction as they are found (the run
    row's summary counts them): memory holds one page, whatever the run finds."""

    def __init__(self, engine: Engine, run_id: int) -> None:
        self.engine = engine
        self.run_id = run_id
        self.kinds: Counter[str] = Counter()
        self._page: list[dict] = []

    def add(self, finding: Finding) -> None:
        self.kinds[finding.kind.value] += 1
        self._page.append({**asdict(finding), "kind": finding.kind.value, "run_id": self.run_id})
        if len(self._page) >= FINDINGS_PAGE:
            self.flush()

    def flush(self) -> None:
        if self._page:
            with self.engine.begin() as conn:
                conn.execute(t.reconciliation_findings.insert(), self._page)
            self._page = []


def _keyset(engine: Engine, query, key: tuple, page: int | None = None) -> Iterator[Sequence[sa.Row]]:
    """`query`'s rows in pages of `page`, ordered by `key` (a unique pair of columns),
    each page read on its own connection: no read holds the database for the whole pass."""
    after = None
    while True:
        q = query.order_by(*key).limit(page or HUB_PAGE)
        if after is not None:
            q = q.where(sa.tuple_(*key) > after)
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][:len(key)])


def _num(ext: str | None) -> str:
    return (ext or "").rsplit("/", 1)[-1]


class Reconciliation:
    def __init__(self, engine: Engine, sync, ingest_many: Callable[[list], list], record_sale: Callable[..., object],
                 readers: dict[str, ChannelReader] | None = None, *, window: timedelta = timedelta(hours=48),
                 lease: timedelta = timedelta(minutes=2), shipment_grace: timedelta = SHIPMENT_GRACE) -> None:
        self.engine = engine
        self.sync = sync  # ChannelSync: observe_level, request
        self.ingest_many = ingest_many  # OrderPipeline.ingest_many
        self.record_sale = record_sale  # Inventory.record_sale
        self.readers: dict[str, ChannelReader] = dict(readers or {})
        self.window = window
        self.lease = lease  # a running run whose heartbeat is older than this has no process behind it
        self.shipment_grace = shipment_grace  # a shipment told more recently is not checked yet (_shipments)
        self.parked = ParkedOrders(engine)  # orders the hub knows it does not hold
        self.cancellations = ChannelCancellations(engine)  # orders the channel cancelled behind the hub's back
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # set by the worker's stop: the run ends at its next page, failed

    # -- runs ---------------------------------------------------------------------------
    def open_run(self, channel: str, trigger: str) -> int:
        """Record a run as started; refuses while another run of the channel is alive (its
        heartbeat within the lease). One whose process died is marked failed first."""
        if channel not in self.readers:
            raise UnknownChannel(channel)
        r = t.reconciliation_runs
        now = datetime.now(UTC)
        with self._lock, self.engine.begin() as conn:
            fail_abandoned(conn, self.lease, channel=channel, now=now)
            busy = conn.execute(sa.select(r.c.id, r.c.owner).where(r.c.channel == channel, r.c.state == RUNNING)).first()
            if busy:
                raise RunInProgress(f"run {busy.id} of {channel} is still going ({busy.owner or 'another process'})")
            return conn.execute(r.insert().values(channel=channel, state=RUNNING, trigger=trigger,
                                                  window_start=now - self.window, started_at=now, summary={},
                                                  heartbeat_at=now, owner=process_name())
                                .returning(r.c.id)).scalar_one()

    def fail_abandoned(self) -> list[int]:
        """Mark every run whose process died as failed (worker start-up, API reads)."""
        with self.engine.begin() as conn:
            return fail_abandoned(conn, self.lease)

    def run(self, channel: str, *, trigger: str = "cli", run_id: int | None = None,
            with_findings: bool = True) -> dict | None:
        """Run one reconciliation of `channel` to the end; returns the stored run (with its
        findings, unless `with_findings` is False: the worker logs only the summary), None
        if the run was gone by then (its database emptied under it)."""
        run_id = run_id or self.open_run(channel, trigger)
        r = t.reconciliation_runs
        with self.engine.connect() as conn:
            since = as_utc(conn.execute(sa.select(r.c.window_start).where(r.c.id == run_id)).scalar_one())
        findings = _Findings(self.engine, run_id)
        counts = {"levels_compared": 0, "orders_compared": 0}
        error = None
        try:
            with Heartbeat(self.engine, run_id, self.lease.total_seconds() / 4):
                self._reconcile(channel, self.readers[channel], since, run_id, findings, counts)
        except Exception as exc:  # the run is kept, with what it found before the failure
            if isinstance(exc, RunStopped):
                log.warning("reconciliation stopped part-way", channel=channel, run=run_id)
            else:
                log.exception("reconciliation failed", channel=channel, run=run_id)
            error = f"{type(exc).__name__}: {exc}"
        self._finish(run_id, findings, counts, error)
        log.info("reconciliation done", channel=channel, run=run_id, summary=dict(findings.kinds))
        return self.get(run_id) if with_findings else self.runs(run_id=run_id)[0]

    def _reconcile(self, channel: str, reader: ChannelReader, since: datetime, run_id: int, findings: "_Findings",
                   counts: dict) -> None:
        per_location, locations, kinds = self._locations(channel)
        with JobSpool(_SPOOL) as spool:
            started = datetime.now(UTC)
            try:
                shown = self._ask_shown(reader, per_location, locations)  # a bulk query starts now
                self._spool_intents(spool, channel)  # while the channel works
                self._spool_shown(spool, shown, per_location, locations)
            except Exception:  # the orders are compared all the same: a level read failing must not hide a missed order
                log.exception("reconciliation could not read the channel's levels; comparing its orders", channel=channel)
                counts["orders_compared"] = self._orders(channel, reader, since, findings)
                raise
            counts["orders_compared"] = self._orders(channel, reader, since, findings)
            self._shipments(reader, since, run_id, findings)
            counts["levels_compared"] = self._levels(channel, run_id, spool, per_location, locations, kinds, started,
                                                     findings)
        self.sync.flush()  # the repairs are intents in the database before the run says so

    def _check_stop(self) -> None:
        if self.stopping.is_set():
            raise RunStopped("stopped with the worker; the next run compares everything again")

    # -- orders ---------------------------------------------------------------------------
    def _orders(self, channel: str, reader: ChannelReader, since: datetime, findings: "_Findings") -> int:
        """Every order the channel shows in the window against the hub's, a page of
        ORDER_PAGE at a time: one it lacks is a missed order (ingested now), one it holds
        an older version of a missed update; one parked in the inbox (refused for what it
        says, or failing) is known: reported as parked, neither missing nor ingested
        again. Returns the orders compared."""
        failing: dict[str, tuple[datetime | None, str]] = {}
        for ch in reader.order_channels:
            failing.update(self.parked.failing_polled(ch))
        locate = self._locator(channel)
        compared = 0
        for headers in pages(reader.order_headers(since), ORDER_PAGE):
            self._check_stop()
            compared += len(headers)
            self._orders_page(channel, reader, headers, failing, locate, findings)
        return compared

    def _orders_page(self, channel: str, reader: ChannelReader, headers: list[OrderHeader],
                     failing: dict[str, tuple[datetime | None, str]], locate: Callable[[str], int | None],
                     findings: "_Findings") -> None:
        ids = [h.external_id for h in headers]
        known = self._known_orders(reader.order_channels, ids)
        refused: dict[str, tuple[datetime, str]] = {}
        for ch in reader.order_channels:
            reasons = self.parked.reasons(ch, ids)
            refused.update({e: (v, reasons.get(e, "")) for e, v in self.parked.versions(ch, ids).items()})
        # The orders the channel shows cancelled that the hub holds: one read for the page.
        held = self.cancellations.hub_orders(reader.order_channels, [h.external_id for h in headers
                                                                     if h.cancelled and h.external_id in known])
        todo: list[tuple[Kind, OrderHeader, Order]] = []
        for h in headers:
            have = known.get(h.external_id)
            newer = have is None or as_utc(h.updated_at).replace(microsecond=0) > have.replace(microsecond=0)
            hub = held.get(h.external_id)
            cancellation = self.cancellations.judge(hub, newer) if hub is not None else None
            if not newer:
                if cancellation is Kind.CANCELLED_AFTER_SHIPMENT and hub is not None:  # heard, kept shipped
                    self._after_shipment(h, hub, findings, released=False)
                continue
            parked = refused.get(h.external_id)
            if parked is not None and as_utc(h.updated_at).replace(microsecond=0) <= parked[0].replace(microsecond=0):
                findings.add(Finding(Kind.ORDER_PARKED, f"parked in the inbox: {parked[1]}"[:500], external_id=h.external_id))
                continue
            stuck = failing.get(h.external_id)
            if stuck is not None and (stuck[0] is None or as_utc(h.updated_at).replace(microsecond=0)
                                      <= stuck[0].replace(microsecond=0)):
                findings.add(Finding(Kind.ORDER_PARKED, f"in the inbox, failing: {stuck[1]}"[:500],
                                     external_id=h.external_id))
                continue
            kind = cancellation or (Kind.MISSED_ORDER if have is None else Kind.MISSED_ORDER_UPDATE)
            try:
                todo.append((kind, h, reader.order(h, locate)))
            except (ValueError, KeyError, TypeError) as exc:
                findings.add(Finding(Kind.ORDER_NOT_UNDERSTOOD, f"not ingested: {exc}"[:500], external_id=h.external_id))
        results = self.ingest_many([o for _, _, o in todo]) if todo else []
        for (kind, h, _order), res in zip(todo, results):
            if is_refusal(res):
                findings.add(Finding(Kind.ORDER_PARKED, f"refused, parked in the inbox: {reason_of(res)}"[:500],
                                     external_id=h.external_id))
            elif isinstance(res, Exception):
                findings.add(Finding(kind, f"the pipeline could not take it now: {res}; the next run tries again"[:500],
                                     external_id=h.external_id))
            elif kind is Kind.CANCELLED_AFTER_SHIPMENT:
                self._after_shipment(h, held[h.external_id], findings, released=True)
            elif kind is Kind.MISSED_CANCELLATION:
                self._missed_cancellation(reader, h, held[h.external_id], res, findings)
            else:
                what = "ingested" if kind is Kind.MISSED_ORDER else "newer version ingested"
                findings.add(Finding(kind, f"{what} through the order pipeline", True, external_id=h.external_id))
        if todo:  # refused ones parked as the inbox and the pollers park them; those that went in un-parked
            self.parked.settle(getattr(reader, "inbox_source", channel), [o for _, _, o in todo], results)

    def _missed_cancellation(self, reader: ChannelReader, header: OrderHeader, hub: HubOrder, result,
                             findings: "_Findings") -> None:
        """The cancelled version went in: the order is cancelled now, unless a unit left the
        hub between the read and the ingest (then it is a person's, as after a shipment)."""
        if result.state in CLOSED_STATES:
            findings.add(Finding(Kind.MISSED_CANCELLATION, self.cancellations.missed_action(header, hub), True,
                                 external_id=header.external_id))
            return
        now = self.cancellations.hub_orders(reader.order_channels, [header.external_id]).get(header.external_id)
        if now is not None and now.units_gone and not now.reported:
            self._after_shipment(header, now, findings, released=True)
            return
        findings.add(Finding(Kind.MISSED_CANCELLATION, f"the cancelled version went in, yet the hub shows the order "
                             f"{result.state}: look at hub order {hub.order_id}"[:500], external_id=header.external_id))

    def _after_shipment(self, header: OrderHeader, hub: HubOrder, findings: "_Findings", *, released: bool) -> None:
        """Left for a person, reported by this run only if no run did before."""
        reason = self.cancellations.after_shipment_reason(header, hub, released)
        if self.cancellations.record_after_shipment(findings.run_id, header, hub, reason):
            findings.add(Finding(Kind.CANCELLED_AFTER_SHIPMENT, reason, external_id=header.external_id))

    def _shipments(self, reader: ChannelReader, since: datetime, run_id: int, findings: "_Findings") -> None:
        """Shipments the hub told the channel about (since the window opened, at least
        `shipment_grace` ago) whose order the channel still shows unshipped are made due
        again: the fulfilment job tells them again, and its notifiers never fulfil twice
        (a tracking number or a line already fulfilled is recognised). Parked ones on such
        orders are left for an operator with the channel's last answer. The channel is
        asked only when the hub has shipments to check."""
        cf, o = t.channel_fulfilments, t.orders
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(cf.c.id, cf.c.state, cf.c.attempts, cf.c.last_error, cf.c.created_at,
                                          o.c.external_id, o.c.placed_at)
                                .join(o, o.c.id == cf.c.order_id)
                                .where(cf.c.channel.in_(reader.order_channels), sa.or_(
                                    sa.and_(cf.c.state == SENT, cf.c.sent_at >= since - self.shipment_grace,
                                            cf.c.sent_at <= now - self.shipment_grace),
                                    cf.c.state == DEAD))
                                .order_by(cf.c.id)).all()
        if not rows:
            return
        self._check_stop()
        placed = [as_utc(r.placed_at) if r.placed_at is not None else as_utc(r.created_at) - timedelta(days=30)
                  for r in rows]
        unshipped = set(reader.unshipped(min(placed) - timedelta(hours=1)))
        for r in rows:
            if r.external_id not in unshipped:
                continue
            if r.state == DEAD:
                findings.add(Finding(Kind.SHIPMENT_UNMARKED, (
                    f"parked after {r.attempts} attempt(s): {r.last_error or 'refused'}; "
                    f"`omnihub sync fulfilment-retry {r.id}` once that is put right")[:500], external_id=r.external_id))
                continue
            with self.engine.begin() as conn:
                again = conn.execute(sa.update(cf).where(cf.c.id == r.id, cf.c.state == SENT).values(
                    state=PENDING, attempts=0, next_attempt_at=now, lease_until=None,
                    last_error=f"reconciliation run {run_id}: the channel showed the order unshipped after it was told",
                )).rowcount
            if again:
                findings.add(Finding(Kind.SHIPMENT_UNMARKED, "the channel showed the order unshipped after it was told: "
                                     "told again", True, external_id=r.external_id))

    def _known_orders(self, channels: tuple[str, ...], ids: list[str]) -> dict[str, datetime]:
        o = t.orders
        out: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for ext, updated in conn.execute(sa.select(o.c.external_id, o.c.channel_updated_at).where(
                        o.c.channel.in_(channels), o.c.external_id.in_(ids[start:start + 500]))):
                    out[ext] = as_utc(updated)
        return out

    def _locator(self, channel: str) -> Callable[[str], int | None]:
        cl, loc = t.channel_locations, t.locations
        with self.engine.connect() as conn:
            ids = {_num(ext): lid for ext, lid in conn.execute(
                sa.select(cl.c.external_location_id, loc.c.id).join(loc, loc.c.code == cl.c.location)
                .where(cl.c.channel == channel))}
        return lambda ext: ids.get(_num(ext))

    # -- levels ---------------------------------------------------------------------------
    def _locations(self, channel: str) -> tuple[bool, dict[str, str], dict[str, str]]:
        ch, cl, loc = t.channels, t.channel_locations, t.locations
        with self.engine.connect() as conn:
            per_location = bool(conn.execute(sa.select(ch.c.per_location).where(ch.c.code == channel)).scalar())
            locations = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id).where(cl.c.channel == channel)).all())
            kinds = dict(conn.execute(sa.select(loc.c.code, loc.c.kind)).all())
        return per_location, locations, kinds

    def _spool_intents(self, spool: JobSpool, channel: str) -> None:
        """The channel's intents as the run starts, copied into its spool in keyset pages
        (a key with an intent at either end of the run is not judged)."""
        i = t.sync_intents
        for rows in _keyset(self.engine, sa.select(i.c.sku, i.c.location, i.c.state).where(i.c.channel == channel),
                            (i.c.sku, i.c.location)):
            spool.put("INSERT INTO before_intents VALUES (?, ?, ?)", [tuple(r) for r in rows])

    def _ask_shown(self, reader: ChannelReader, per_location: bool, locations: dict[str, str]):
        """The channel's levels, asked for now and read as they are consumed. The reader
        is told about how many the hub maps: it may take its bulk road by it."""
        li = t.channel_listings
        with self.engine.connect() as conn:
            listed = conn.execute(sa.select(sa.func.count()).select_from(li).where(li.c.channel == reader.channel)).scalar_one()
        return reader.levels(list(locations.values()) if per_location else [],
                             expected=listed * (len(locations) if per_location else 1))

    def _spool_shown(self, spool: JobSpool, shown, per_location: bool, locations: dict[str, str]) -> None:
        """What the channel shows, page by page into the spool (judged after the orders)."""
        code_of = {_num(ext): code for code, ext in locations.items()}
        for page in pages(shown, LEVEL_PAGE):
            self._check_stop()
            spool.put("INSERT INTO shown (number, item_id, code, available, committed, channel_sku) VALUES (?, ?, ?, ?, ?, ?)",
                      [(_num(lv.item_id), lv.item_id, code_of.get(_num(lv.location_id)) if per_location else "",
                        lv.available, lv.committed, lv.channel_sku) for lv in page])

    def _hub_side_of(self, channel: str, skus: list[str], started: datetime) -> _HubSide:
        """The hub's side now, for one page of SKUs (indexed by channel and SKU): expected
        figures, intents, and which keys moved since the run `started` (the database
        compares the timestamps, and only the levels confirmed since are read)."""
        av, i, lv, fd = t.channel_availability, t.sync_intents, t.channel_levels, t.channel_feeds
        expected: dict[tuple[str, str], int] = {}
        moved: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            fed = set(conn.execute(sa.select(fd.c.location).where(fd.c.channel == channel)).scalars())
            for s, loc, q, written in conn.execute(
                    sa.select(av.c.sku, av.c.location, av.c.quantity, av.c.updated_at >= started)
                    .where(av.c.channel == channel, av.c.sku.in_(skus))):
                if loc == "" or loc in fed:  # a location that does not feed the channel shows nothing there
                    expected[(s, loc)] = q
                    if written:
                        moved.add((s, loc))
            intents = {(s, loc): st for s, loc, st in conn.execute(
                sa.select(i.c.sku, i.c.location, i.c.state).where(i.c.channel == channel, i.c.sku.in_(skus)))}
            moved.update((s, loc) for s, loc in conn.execute(sa.select(lv.c.sku, lv.c.location).where(
                lv.c.channel == channel, lv.c.sku.in_(skus), lv.c.confirmed_at >= started)))
        return _HubSide(expected, intents, moved)

    @staticmethod
    def _spooled_intents(spool: JobSpool, skus: list[str]) -> dict[tuple[str, str], str]:
        return {(s, loc): st for s, loc, st in spool.lookup("SELECT sku, location, state FROM before_intents WHERE sku", skus)}

    def _levels(self, channel: str, run_id: int, spool: JobSpool, per_location: bool, locations: dict[str, str],
                kinds: dict[str, str], started: datetime, findings: "_Findings") -> int:
        """Judge what the channel showed against the hub, a page of SKU_PAGE listings at a
        time (the spool holds the channel's side and the first read of the hub's)."""
        ListingIndex(spool, self.engine, channel)  # the listings as they are now, after the orders
        self._unknown_items(channel, spool, findings)
        codes = sorted(locations) if per_location else [""]
        compared, after_sku = 0, ""
        while True:
            self._check_stop()
            skus = [r[0] for r in spool.rows("SELECT DISTINCT sku FROM listing_items WHERE sku > ? ORDER BY sku LIMIT ?",
                                             (after_sku, SKU_PAGE))]
            if not skus:
                return compared
            after_sku = skus[-1]
            seen: dict[tuple[str, str], tuple[int, int]] = {}
            for sku, code, available, committed in spool.lookup(
                    "SELECT l.sku, s.code, s.available, s.committed FROM shown s JOIN listing_items l ON l.number = s.number "
                    "WHERE s.code IS NOT NULL AND l.sku", skus, "ORDER BY s.seq"):
                seen[(sku, code)] = (available, committed)
            on_channel = {sku for sku, _ in seen}
            before, after = self._spooled_intents(spool, skus), self._hub_side_of(channel, skus, started)
            for sku in skus:
                if sku not in on_channel:
                    findings.add(Finding(Kind.UNSOLD_ON_CHANNEL, f"mapped in the hub but {channel} does not show it: "
                                         "list it (or fix the mapping)", sku=sku,
                                         hub_quantity=sum(after.expected.get((sku, c), 0) for c in codes)))
                    continue
                for code in codes:
                    key, level = (sku, code), seen.get((sku, code))
                    expected = after.expected.get(key, 0)
                    if level is None:
                        if expected > 0:
                            findings.add(Finding(Kind.UNSOLD_ON_CHANNEL, f"{channel} does not stock it at {code}: the "
                                                 "hub's figure cannot be shown there", sku=sku, location=code or None,
                                                 hub_quantity=expected))
                        continue
                    compared += 1
                    available, committed = level
                    if available == expected:  # what judge_level says first, without building its verdict
                        continue
                    moving = key in after.moved or key in before
                    state = after.intents.get(key) or before.get(key) or ("pending" if moving else None)
                    verdict = judge_level(expected=expected, shown=available, intent_state=state,
                                          pos_location=per_location and kinds.get(code) == "store",
                                          committed_there=committed)
                    if verdict.kind is None:
                        continue
                    findings.add(self._act(channel, run_id, sku, code, expected, available, verdict))
            self.sync.flush()  # this page's repairs are intents now: the sync buffer holds a page at most

    @staticmethod
    def _unknown_items(channel: str, spool: JobSpool, findings: "_Findings") -> None:
        """Items the channel shows that no listing maps, one finding per item (in item order)."""
        rows = spool.rows("SELECT s.item_id, s.channel_sku, s.available FROM shown s "
                          "LEFT JOIN listing_items l ON l.number = s.number WHERE l.sku IS NULL ORDER BY s.item_id, s.seq")
        for item, group in groupby(rows, key=lambda r: r[0]):
            levels = list(group)
            label = levels[0][1] or item
            findings.add(Finding(Kind.UNKNOWN_SKU, f"listed on {channel} as {label!r} but not mapped in the hub: "
                                 "import the channel's catalog or map the listing", external_id=item,
                                 sku=levels[0][1], channel_quantity=sum(r[2] for r in levels)))

    def _act(self, channel: str, run_id: int, sku: str, code: str, expected: int, available: int, verdict) -> Finding:
        f = Finding(verdict.kind, "", sku=sku, location=code or None, hub_quantity=expected, channel_quantity=available)
        if verdict.kind is Kind.PUSH_PENDING:
            f.action = "a push is queued or in flight (or landed during the run): not a drift"
        elif verdict.kind is Kind.DEAD_LETTER:
            f.action = "the push is parked: see `omnihub sync dead-letters` and retry it"
        elif verdict.kind is Kind.MISSED_POS_SALE:
            observed_at = datetime.now(UTC)  # the level was read before now: a sale rung up later is another
            self.record_sale(sku, code, verdict.sold_at_till, ctx=Context(
                actor="reconciliation", channel="shopify_pos", reference=f"reconciliation run {run_id}",
                idempotency_key=f"reconcile:{run_id}:{channel}:{sku}:{code}"))
            # Kept only once the sale is: its order, when it comes, sells no unit twice (domain/till_sales.py).
            with self.engine.begin() as conn:
                conn.execute(t.till_sales_recorded.insert().values(
                    sku=sku, location=code, units=verdict.sold_at_till, units_left=verdict.sold_at_till,
                    observed_at=observed_at, run_id=run_id))
            self.sync.observe_level(channel, sku, code, available)
            f.action, f.repaired = f"recorded a till sale of {verdict.sold_at_till} at {code} (its webhook was lost)", True
        else:  # drift: the channel's figure is recorded as confirmed and the hub's pushed
            self.sync.observe_level(channel, sku, code, available)
            if available > expected:
                self.sync.request(channel, sku, code, expected)
                f.action = f"the channel showed more: pushing {expected} now"
            else:
                f.action = f"the channel showed less: {expected} is re-asserted after the hold"
            f.repaired = True
        return f

    # -- storing and reading ------------------------------------------------------------------
    def _finish(self, run_id: int, findings: "_Findings", counts: dict, error: str | None) -> None:
        r = t.reconciliation_runs
        findings.flush()
        summary = dict(sorted(findings.kinds.items()))
        with self.engine.begin() as conn:
            conn.execute(r.update().where(r.c.id == run_id).values(
                state=FAILED if error else DONE, finished_at=datetime.now(UTC), summary=summary, error=error, **counts))

    def runs(self, channel: str | None = None, limit: int = 50, *, run_id: int | None = None) -> list[dict]:
        self.fail_abandoned()  # a dead run is reported failed, not running
        r = t.reconciliation_runs
        q = sa.select(r).order_by(r.c.id.desc()).limit(limit)
        if channel:
            q = q.where(r.c.channel == channel)
        if run_id is not None:
            q = q.where(r.c.id == run_id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(q).mappings()]

    def get(self, run_id: int) -> dict | None:
        self.fail_abandoned()
        r, fi = t.reconciliation_runs, t.reconciliation_findings
        with self.engine.connect() as conn:
            run = conn.execute(sa.select(r).where(r.c.id == run_id)).mappings().first()
            if run is None:
                return None
            rows = conn.execute(sa.select(fi).where(fi.c.run_id == run_id).order_by(fi.c.id)).mappings().all()
        return {**dict(run), "findings": [{k: v for k, v in dict(f).items() if k != "run_id"} for f in rows]}
