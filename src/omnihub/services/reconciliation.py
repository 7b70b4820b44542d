"""Reconciliation: the safety net under webhooks. A run of one channel reads what the
channel shows, compares it with what the hub says it should show, classifies every
difference (domain/reconciliation.py), repairs what the hub can repair, and stores the
run with its findings for operators (API, CLI) to read.

The order of a run matters, because the channel and the hub keep moving while it reads:

1. The hub's side is read first (expected figures, intents, when each level was last
   confirmed).
2. The channel's levels are read (every mapped location, paged).
3. The channel's orders over the window are compared with the hub's; missing orders and
   newer versions are ingested through the same idempotent pipeline as webhooks. A till
   sale that happened before step 2 is an order created before step 3, so it is ingested
   here rather than mistaken for a level difference. An order the hub parked (refused for
   what it says, or failing in the inbox) is known, not missed: reported `order_parked`,
   not ingested again; one the pipeline refuses now is parked the same way. Should the
   level read fail, the orders are compared all the same before the run fails.
4. The hub's side is read again. A key whose figure moved during the run, whose push
   landed during it, or that has an intent at either read is `push_pending`: it is not
   judged on a snapshot that may already be stale. Only keys that stood still are judged,
   which is what keeps a run from recording a phantom till sale.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.snapshots import ChannelReader, OrderHeader, ShownLevel
from omnihub.adapters.db import tables as t
from omnihub.domain.reconciliation import Kind, judge_level
from omnihub.services.inventory import Context
from omnihub.services.parked_orders import ParkedOrders, is_refusal, reason_of
from omnihub.services.reconciliation_liveness import Heartbeat, fail_abandoned, process_name

log = structlog.get_logger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"  # see reconciliation_liveness.py for how `running` ends


class RunInProgress(RuntimeError):
    """A run of this channel is already going; two would repair the same difference twice."""


class UnknownChannel(LookupError):
    """No connector for this channel (it is not connected)."""


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
    confirmed_at: dict[tuple[str, str], datetime]


def _num(ext: str | None) -> str:
    return (ext or "").rsplit("/", 1)[-1]


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Reconciliation:
    def __init__(self, engine: Engine, sync, ingest_many: Callable[[list], list], record_sale: Callable[..., object],
                 readers: dict[str, ChannelReader] | None = None, *, window: timedelta = timedelta(hours=48),
                 lease: timedelta = timedelta(minutes=2)) -> None:
        self.engine = engine
        self.sync = sync  # ChannelSync: observe_level, request
        self.ingest_many = ingest_many  # OrderPipeline.ingest_many
        self.record_sale = record_sale  # Inventory.record_sale
        self.readers: dict[str, ChannelReader] = dict(readers or {})
        self.window = window
        self.lease = lease  # a running run whose heartbeat is older than this has no process behind it
        self.parked = ParkedOrders(engine)  # orders the hub knows it does not hold
        self._lock = threading.Lock()

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

    def run(self, channel: str, *, trigger: str = "cli", run_id: int | None = None) -> dict:
        """Run one reconciliation of `channel` to the end; returns the stored run with its findings."""
        run_id = run_id or self.open_run(channel, trigger)
        r = t.reconciliation_runs
        with self.engine.connect() as conn:
            since = _aware(conn.execute(sa.select(r.c.window_start).where(r.c.id == run_id)).scalar_one())
        findings: list[Finding] = []
        counts = {"levels_compared": 0, "orders_compared": 0}
        error = None
        try:
            with Heartbeat(self.engine, run_id, self.lease.total_seconds() / 4):
                self._reconcile(channel, self.readers[channel], since, run_id, findings, counts)
        except Exception as exc:  # the run is kept, with what it found before the failure
            log.exception("reconciliation failed", channel=channel, run=run_id)
            error = f"{type(exc).__name__}: {exc}"
        self._finish(run_id, findings, counts, error)
        log.info("reconciliation done", channel=channel, run=run_id, summary=dict(Counter(f.kind.value for f in findings)))
        return self.get(run_id)

    def _reconcile(self, channel: str, reader: ChannelReader, since: datetime, run_id: int, findings: list[Finding],
                   counts: dict) -> None:
        per_location, locations, kinds = self._locations(channel)
        before = self._hub_side(channel)
        started = datetime.now(UTC)
        try:
            shown = reader.levels(list(locations.values())) if per_location else reader.levels([])
        except Exception:  # the orders are compared all the same: a level read failing must not hide a missed order
            log.exception("reconciliation could not read the channel's levels; comparing its orders", channel=channel)
            counts["orders_compared"] = self._orders(channel, reader, since, findings)
            raise
        counts["orders_compared"] = self._orders(channel, reader, since, findings)
        after = self._hub_side(channel)
        counts["levels_compared"] = self._levels(channel, run_id, shown, per_location, locations, kinds, before, after,
                                                 started, findings)
        self.sync.flush()  # the repairs are intents in the database before the run says so

    # -- orders ---------------------------------------------------------------------------
    def _orders(self, channel: str, reader: ChannelReader, since: datetime, findings: list[Finding]) -> int:
        """Every order the channel shows in the window against the hub's: one it lacks is
        a missed order (ingested now), one it holds an older version of a missed update;
        one parked in the inbox (refused for what it says, or failing) is known: reported
        as parked, neither missing nor ingested again. Returns the orders compared."""
        headers = reader.order_headers(since)
        ids = [h.external_id for h in headers]
        known = self._known_orders(reader.order_channels, ids)
        refused: dict[str, tuple[datetime, str]] = {}
        failing: dict[str, tuple[datetime | None, str]] = {}
        for ch in reader.order_channels:
            reasons = self.parked.reasons(ch, ids)
            refused.update({e: (v, reasons.get(e, "")) for e, v in self.parked.versions(ch, ids).items()})
            failing.update(self.parked.failing_polled(ch))
        locate = self._locator(channel)
        todo: list[tuple[Kind, OrderHeader, object]] = []
        for h in headers:
            have = known.get(h.external_id)
            if have is not None and _aware(h.updated_at).replace(microsecond=0) <= have.replace(microsecond=0):
                continue
            parked = refused.get(h.external_id)
            if parked is not None and _aware(h.updated_at).replace(microsecond=0) <= parked[0].replace(microsecond=0):
                findings.append(Finding(Kind.ORDER_PARKED, f"parked in the inbox: {parked[1]}"[:500], external_id=h.external_id))
                continue
            stuck = failing.get(h.external_id)
            if stuck is not None and (stuck[0] is None or _aware(h.updated_at).replace(microsecond=0)
                                      <= stuck[0].replace(microsecond=0)):
                findings.append(Finding(Kind.ORDER_PARKED, f"in the inbox, failing: {stuck[1]}"[:500],
                                        external_id=h.external_id))
                continue
            kind = Kind.MISSED_ORDER if have is None else Kind.MISSED_ORDER_UPDATE
            try:
                todo.append((kind, h, reader.order(h, locate)))
            except (ValueError, KeyError, TypeError) as exc:
                findings.append(Finding(Kind.ORDER_NOT_UNDERSTOOD, f"not ingested: {exc}"[:500], external_id=h.external_id))
        results = self.ingest_many([o for _, _, o in todo]) if todo else []
        for (kind, h, _order), res in zip(todo, results):
            if is_refusal(res):
                findings.append(Finding(Kind.ORDER_PARKED, f"refused, parked in the inbox: {reason_of(res)}"[:500],
                                        external_id=h.external_id))
            elif isinstance(res, Exception):
                findings.append(Finding(kind, f"the pipeline could not take it now: {res}; the next run tries again"[:500],
                                        external_id=h.external_id))
            else:
                what = "ingested" if kind is Kind.MISSED_ORDER else "newer version ingested"
                findings.append(Finding(kind, f"{what} through the order pipeline", True, external_id=h.external_id))
        if todo:  # refused ones parked as the inbox and the pollers park them; those that went in un-parked
            self.parked.settle(getattr(reader, "inbox_source", channel), [o for _, _, o in todo], results)
        return len(headers)

    def _known_orders(self, channels: tuple[str, ...], ids: list[str]) -> dict[str, datetime]:
        o = t.orders
        out: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                for ext, updated in conn.execute(sa.select(o.c.external_id, o.c.channel_updated_at).where(
                        o.c.channel.in_(channels), o.c.external_id.in_(ids[start:start + 500]))):
                    out[ext] = _aware(updated)
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

    def _hub_side(self, channel: str) -> _HubSide:
        av, i, lv, fd = t.channel_availability, t.sync_intents, t.channel_levels, t.channel_feeds
        with self.engine.connect() as conn:
            fed = set(conn.execute(sa.select(fd.c.location).where(fd.c.channel == channel)).scalars())
            expected = {(s, loc): q for s, loc, q in conn.execute(
                sa.select(av.c.sku, av.c.location, av.c.quantity).where(av.c.channel == channel))
                if loc == "" or loc in fed}  # a location that does not feed the channel shows nothing there
            intents = {(s, loc): st for s, loc, st in conn.execute(
                sa.select(i.c.sku, i.c.location, i.c.state).where(i.c.channel == channel))}
            confirmed_at = {(s, loc): _aware(at) for s, loc, at in conn.execute(
                sa.select(lv.c.sku, lv.c.location, lv.c.confirmed_at).where(lv.c.channel == channel))}
        return _HubSide(expected, intents, confirmed_at)

    def _listings(self, channel: str) -> dict[str, str]:
        """The channel's item id → hub SKU (Shopify inventory item number, Amazon seller SKU)."""
        li = t.channel_listings
        with self.engine.connect() as conn:
            return {_num(inv or ext): sku for sku, ext, inv in conn.execute(
                sa.select(li.c.sku, li.c.external_id, li.c.external_inventory_item_id).where(li.c.channel == channel))}

    def _levels(self, channel: str, run_id: int, shown: list[ShownLevel], per_location: bool, locations: dict[str, str],
                kinds: dict[str, str], before: _HubSide, after: _HubSide, started: datetime,
                findings: list[Finding]) -> int:
        skus = self._listings(channel)
        code_of = {_num(ext): code for code, ext in locations.items()}
        seen: dict[tuple[str, str], ShownLevel] = {}
        unknown: dict[str, list[ShownLevel]] = {}
        for level in shown:
            sku = skus.get(_num(level.item_id))
            code = code_of.get(_num(level.location_id)) if per_location else ""
            if sku is None:
                unknown.setdefault(level.item_id, []).append(level)
            elif code is not None:
                seen[(sku, code)] = level
        for item, levels in sorted(unknown.items()):
            label = levels[0].channel_sku or item
            findings.append(Finding(Kind.UNKNOWN_SKU, f"listed on {channel} as {label!r} but not mapped in the hub: "
                                    "import the channel's catalog or map the listing", external_id=item,
                                    sku=levels[0].channel_sku, channel_quantity=sum(lv.available for lv in levels)))
        on_channel = {sku for sku, _ in seen}
        codes = sorted(locations) if per_location else [""]
        compared = 0
        for sku in sorted(set(skus.values())):
            if sku not in on_channel:
                findings.append(Finding(Kind.UNSOLD_ON_CHANNEL, f"mapped in the hub but {channel} does not show it: "
                                        "list it (or fix the mapping)", sku=sku,
                                        hub_quantity=sum(after.expected.get((sku, c), 0) for c in codes)))
                continue
            for code in codes:
                key, level = (sku, code), seen.get((sku, code))
                expected = after.expected.get(key, 0)
                if level is None:
                    if expected > 0:
                        findings.append(Finding(Kind.UNSOLD_ON_CHANNEL, f"{channel} does not stock it at {code}: the "
                                                "hub's figure cannot be shown there", sku=sku, location=code or None,
                                                hub_quantity=expected))
                    continue
                compared += 1
                moving = (before.expected.get(key, 0) != expected or key in before.intents
                          or (key in after.confirmed_at and after.confirmed_at[key] >= started))
                state = after.intents.get(key) or before.intents.get(key) or ("pending" if moving else None)
                verdict = judge_level(expected=expected, shown=level.available, intent_state=state,
                                      pos_location=per_location and kinds.get(code) == "store",
                                      committed_there=level.committed)
                if verdict.kind is None:
                    continue
                findings.append(self._act(channel, run_id, sku, code, expected, level, verdict))
        return compared

    def _act(self, channel: str, run_id: int, sku: str, code: str, expected: int, level: ShownLevel, verdict) -> Finding:
        f = Finding(verdict.kind, "", sku=sku, location=code or None, hub_quantity=expected, channel_quantity=level.available)
        if verdict.kind is Kind.PUSH_PENDING:
            f.action = "a push is queued or in flight (or landed during the run): not a drift"
        elif verdict.kind is Kind.DEAD_LETTER:
            f.action = "the push is parked: see `omnihub sync dead-letters` and retry it"
        elif verdict.kind is Kind.MISSED_POS_SALE:
            self.record_sale(sku, code, verdict.sold_at_till, ctx=Context(
                actor="reconciliation", channel="shopify_pos", reference=f"reconciliation run {run_id}",
                idempotency_key=f"reconcile:{run_id}:{channel}:{sku}:{code}"))
            self.sync.observe_level(channel, sku, code, level.available)
            f.action, f.repaired = f"recorded a till sale of {verdict.sold_at_till} at {code} (its webhook was lost)", True
        else:  # drift: the channel's figure is recorded as confirmed and the hub's pushed
            self.sync.observe_level(channel, sku, code, level.available)
            if level.available > expected:
                self.sync.request(channel, sku, code, expected)
                f.action = f"the channel showed more: pushing {expected} now"
            else:
                f.action = f"the channel showed less: {expected} is re-asserted after the hold"
            f.repaired = True
        return f

    # -- storing and reading ------------------------------------------------------------------
    def _finish(self, run_id: int, findings: list[Finding], counts: dict, error: str | None) -> None:
        r, fi = t.reconciliation_runs, t.reconciliation_findings
        summary = dict(sorted(Counter(f.kind.value for f in findings).items()))
        with self.engine.begin() as conn:
            if findings:
                conn.execute(fi.insert(), [{**asdict(f), "kind": f.kind.value, "run_id": run_id} for f in findings])
            conn.execute(r.update().where(r.c.id == run_id).values(
                state=FAILED if error else DONE, finished_at=datetime.now(UTC), summary=summary, error=error, **counts))

    def runs(self, channel: str | None = None, limit: int = 50) -> list[dict]:
        self.fail_abandoned()  # a dead run is reported failed, not running
        r = t.reconciliation_runs
        q = sa.select(r).order_by(r.c.id.desc()).limit(limit)
        if channel:
            q = q.where(r.c.channel == channel)
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
