"""The order pipeline: ingest → brokering queue → route → reserve → events, in one
transaction per batch of orders.

Every channel's orders come here (webhooks, polling, the POS, the API). A batch runs on
the group-commit writer: it locks every position of the SKUs the batch's orders name (in
key order), then for each order in turn decides what its newest version means, holds it
if a fraud rule says so, fulfils POS sales on the spot, or routes it and reserves the
chosen stock against the same locked positions (so the next order in the batch sees the
reservation), and finally writes orders, assignments, decisions, queue entries, ledger
movements and events with a handful of statements. The pipeline is a kind of writer job
(adapters/db/batch_jobs.py): it names what each incoming order touches and decides
batches through a staged transaction; how the writer claims, takes turns and caches is
not its concern.

The brokering queue is two things kept together: `brokering_queue` rows (which orders
wait, and when to retry them) and `sku_demand` (how many units of each SKU wait, which ATP
subtracts on every channel at once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import (
    db_json,
    db_time,
    delete_by_ids,
    fetch_by_keys,
    insert_many,
    update_many,
    upsert_many,
)
from omnihub.adapters.db.channel_config import StockConfig, policies_for, rules_for_sku
from omnihub.adapters.db.batch_jobs import StagedTransaction, StockView, TouchedKeys
from omnihub.adapters.db.order_documents import order_from_doc, order_to_doc
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.atp import location_atp, resolve_policy
from omnihub.domain.events import DomainEvent, OrderAccepted, OrderRouted, OrderStateChanged
from omnihub.domain.ledger import LedgerError, Movement, Reason, StockState as S
from omnihub.domain.limits import check_order
from omnihub.domain.order_states import IllegalTransition, OrderState, can_transition, transition
from omnihub.domain.orders import (
    RELEASABLE_ASSIGNMENT_STATES,
    ROUTING_REJECTED,
    AssignmentState,
    FulfilmentAssignment,
    Order,
    OrderDiff,
    VersionVerdict,
    apply_newer_version,
    cancellation_path,
    copy_line,
    copy_order,
    with_assignments,
)
from omnihub.domain.routing import RoutingDecision, RoutingOutcome, route_order
from omnihub.domain.stock_commands import Plan
from omnihub.domain.till_sales import RecordedTillSale, units_already_sold
from omnihub.services.order_screening import customer_keys
from omnihub.services.routing_rules_store import RuleStore

RETRY_AFTER = timedelta(minutes=5)


def wall_clock() -> datetime:
    return datetime.now(UTC)


def capacity_day(time_zone: str, now: datetime) -> str:
    """The day a location's daily order capacity counts under: its own local date at `now`.
    Read and counted with the same `now` (the batch's), or an order near midnight would
    read one day's count and add to the other's."""
    return now.astimezone(ZoneInfo(time_zone)).date().isoformat()


@dataclass(slots=True)
class OrderResult:
    order_id: int
    verdict: str
    state: str
    outcome: str | None = None
    assignments: list[dict] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    alternatives: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "order_id": self.order_id, "verdict": self.verdict, "state": self.state, "outcome": self.outcome,
            "assignments": self.assignments, "holds": self.holds, "alternatives": self.alternatives,
        }


class OrderError(LedgerError):
    """An order the pipeline refuses (HTTP 422): unknown SKU, bad reference..."""


@dataclass(slots=True)
class _Work:
    """What one batch will write besides the ledger."""

    now: datetime
    orders: dict[int, Order] = field(default_factory=dict)  # id → final order
    is_new: set[int] = field(default_factory=set)
    #: orders whose only news is a newer channel version (UNCHANGED): that alone is written
    versions_seen: dict[int, Order] = field(default_factory=dict)
    decisions: list[tuple[int, RoutingDecision]] = field(default_factory=list)
    queue_upserts: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (reason, attempts+)
    queue_deletes: set[int] = field(default_factory=set)
    capacity: dict[tuple[str, str], int] = field(default_factory=dict)  # (location, day) → orders
    events: list[DomainEvent] = field(default_factory=list)
    shipments: list[tuple[int, str, str | None, str | None, str]] = field(default_factory=list)
    #: till sales reconciliation recorded before their order, by (SKU, location code), as read
    till_recorded: dict[tuple[str, str], list[RecordedTillSale]] = field(default_factory=dict)
    till_taken: list[tuple[int, int]] = field(default_factory=list)  # (row id, units) now an order's

    def till_left(self, sku: str, location: str) -> list[RecordedTillSale]:
        """The recorded till sales at `location` for `sku`, less what this batch took."""
        recorded = self.till_recorded.get((sku, location))
        if not recorded:
            return []
        taken: dict[int, int] = {}
        for row_id, n in self.till_taken:
            taken[row_id] = taken.get(row_id, 0) + n
        return [RecordedTillSale(r.row_id, r.units_left - taken.get(r.row_id, 0), r.observed_at) for r in recorded]

    def checkpoint(self, order_id: int | None) -> tuple:
        """A mark to roll back to. A job touches only its own order's entries (an existing
        id, or ids added after the mark), so only those are saved: copying the whole
        work set per order would cost more than the order."""
        saved = None
        if order_id is not None:
            saved = (self.orders.get(order_id), order_id in self.is_new, self.queue_upserts.get(order_id),
                     order_id in self.queue_deletes)
        return (order_id, saved, len(self.orders), len(self.queue_upserts), dict(self.capacity),
                len(self.decisions), len(self.events), len(self.shipments), len(self.till_taken))

    def rollback(self, mark: tuple) -> None:
        order_id, saved, n_orders, n_upserts, capacity, decisions, events, shipments, till_taken = mark
        for name, n in (("orders", n_orders), ("queue_upserts", n_upserts)):
            d = getattr(self, name)
            for k in list(d)[n:]:  # ids first written after the mark
                self.is_new.discard(k)
                self.queue_deletes.discard(k)
                del d[k]
        if order_id is not None:
            order, new, upsert, delete = saved
            for d, v in ((self.orders, order), (self.queue_upserts, upsert)):
                if v is None:
                    d.pop(order_id, None)
                else:
                    d[order_id] = v
            (self.is_new.add if new else self.is_new.discard)(order_id)
            (self.queue_deletes.add if delete else self.queue_deletes.discard)(order_id)
        self.capacity = capacity
        del self.decisions[decisions:]
        del self.events[events:]
        del self.shipments[shipments:]
        del self.till_taken[till_taken:]


@dataclass(slots=True)
class OpContext:
    """What an order operation may use inside the batch: the stock view, what the batch
    will write, the stock configuration, and the pipeline's own steps."""

    batch: StockView
    work: _Work
    cfg: StockConfig
    route: Callable[[Order, str], "OrderResult"]  # (order, verdict): route what is unassigned

    def move(self, order: Order, new: OrderState, reason: str = "") -> Order:
        """The order in state `new`, the move checked and announced."""
        return _move(order, new, self.work, reason)

    def walk(self, order: Order, path: Sequence[OrderState], reason: str = "") -> Order:
        """The order moved along `path`, each move checked and announced."""
        return _walk(order, path, self.work, reason)

    def apply_line_changes(self, order: Order, diff: OrderDiff) -> None:
        """Units added to or leaving the order's lines: to the queue, or released."""
        _apply_diff(order, diff, self.batch)

    def cancel_remaining(self, order: Order, reason: str) -> Order:
        """What is still reserved released, the order moved as its units say."""
        return _cancel_remaining(order, self.batch, self.work, reason)

    def release_reservations(self, order: Order, reason: str) -> Order:
        """Its reserved units back in the brokering queue, to be routed again."""
        return release_reservations(order, self.batch, self.work, reason)


def stored_id(order: Order) -> int:
    """The id of an order past its version check: a stored one's, or the one a new order
    was just given (`Order.id` is None only before that)."""
    if order.id is None:
        raise AssertionError(f"order {order.key} has no id yet")
    return order.id


def _move(order: Order, new: OrderState, work: _Work, reason: str = "") -> Order:
    return _steps(order, ((new, reason),), work)


def _steps(order: Order, steps: Sequence[tuple[OrderState, str]], work: _Work) -> Order:
    """`_move` along several states, each checked and announced, with one copy of the
    order at the end (a copy of an order costs more than checking its moves)."""
    state = order.state
    for new, reason in steps:
        if new == state:
            continue
        transition(state, new)
        work.events.append(OrderStateChanged(order.id or 0, order.channel, order.external_id, state.value, new.value, reason))
        state = new
    return order if state is order.state else copy_order(order, state=state)


def _walk(order: Order, path: Sequence[OrderState], work: _Work, reason: str = "") -> Order:
    return _steps(order, [(state, reason) for state in path], work)


def _apply_diff(order: Order, diff: OrderDiff, batch: StockView) -> None:
    """The diff's line changes in stock: added units wait in the queue, units leaving it
    are taken from the queue or released where they were reserved."""
    cfg = batch.cfg
    demand: dict[str, int] = {}
    movements: list[Movement] = []
    for ch in diff.line_changes:
        if ch.added:
            demand[ch.sku] = demand.get(ch.sku, 0) + ch.added
        if ch.released_from_queue:
            demand[ch.sku] = demand.get(ch.sku, 0) - ch.released_from_queue
        for loc_id, units in ch.released_from_locations:
            movements.append(Movement(ch.sku, cfg.code_of[loc_id], units, S.RESERVED, S.ON_HAND, Reason.RELEASE,
                                      reference=f"order:{order.id}", channel=order.channel))
    if demand or movements:
        batch.apply(Plan(movements, demand))


def _cancel_remaining(order: Order, batch: StockView, work: _Work, reason: str) -> Order:
    """Release what is still reserved and move the order as its units say
    (`cancellation_path`): `cancelled` for a whole-order cancellation or when every
    unit is."""
    cfg = batch.cfg
    movements: list[Movement] = []
    demand: dict[str, int] = {}
    lines = []
    for line in order.lines:
        kept = []
        for a in line.assignments:
            if a.state in RELEASABLE_ASSIGNMENT_STATES:
                movements.append(Movement(line.sku, cfg.code_of[a.location_id], a.quantity, S.RESERVED, S.ON_HAND,
                                          Reason.RELEASE, reference=f"order:{order.id}", channel=order.channel))
                kept.append(replace(a, state=AssignmentState.CANCELLED))
            else:
                kept.append(a)
        lines.append(replace(line, assignments=tuple(kept)))
    if movements or demand:
        batch.apply(Plan(movements, demand))
    order = replace(order, lines=tuple(lines))
    return _walk(order, cancellation_path(order), work, reason)


def release_reservations(order: Order, batch: StockView, work: _Work, reason: str) -> Order:
    """The order's reserved units released back to the brokering queue (to be routed again
    at once), picked, packed and shipped ones left where they are (someone already has
    them in hand); an `allocated` order goes back to `brokering` with `reason`."""
    cfg = batch.cfg
    movements: list[Movement] = []
    demand: dict[str, int] = {}
    lines = []
    for line in order.lines:
        kept = tuple(a for a in line.assignments if a.state is not AssignmentState.RESERVED)
        if len(kept) != len(line.assignments):
            for a in line.assignments:
                if a.state is AssignmentState.RESERVED:
                    movements.append(Movement(line.sku, cfg.code_of[a.location_id], a.quantity, S.RESERVED, S.ON_HAND,
                                              Reason.RELEASE, reference=f"order:{order.id}", channel=order.channel))
                    demand[line.sku] = demand.get(line.sku, 0) + a.quantity
            line = copy_line(line, kept)
        lines.append(line)
    if not movements:
        return order
    batch.apply(Plan(movements, demand))
    order = copy_order(order, lines=tuple(lines))
    if order.state is OrderState.ALLOCATED:
        order = _move(order, OrderState.BROKERING, work, reason)
    return order


def held_for_routing(order: Order) -> bool:
    """The routing rules refused the order and an operator has not released it yet (see
    `OrderPipeline._hold_rejected`): nothing routes it, whatever its state."""
    return any(h.startswith(ROUTING_REJECTED) for h in order.holds)


def is_till_sale(order: Order) -> bool:
    """A POS order handed over in the store it was rung up in. A POS order shipped to the
    customer, or tagged `endless_aisle`, is for stock elsewhere and goes through routing."""
    return (
        order.is_pos
        and order.origin_location_id is not None
        and order.delivery_method.is_pickup
        and order.pickup_location_id in (None, order.origin_location_id)
        and "endless_aisle" not in order.tags
    )


def _skus_named(jobs: Sequence[Any], existing: dict[tuple[str, str], Order], by_id: dict[int, Order]) -> set[str]:
    """Every SKU the batch's orders name, in their incoming and stored versions: the
    positions the batch locks and decides against."""
    skus: set[str] = set()
    for j in jobs:
        o = j.order if isinstance(j, _IngestJob) else by_id.get(j.order_id)
        if o is not None:
            skus.update(line.sku for line in o.lines)
            old = existing.get(o.key) if isinstance(j, _IngestJob) else None
            if old is not None:
                skus.update(line.sku for line in old.lines)
    return skus


class OrderPipeline:
    """Entry point for every order, whatever its channel."""

    def __init__(self, writer, rules: RuleStore, *, fraud=None, customers=None, screening: Any = None,
                 clock: Callable[[], datetime] = wall_clock) -> None:
        self.writer = writer
        self.rules = rules
        #: the batch's "now" (UTC): queue retry times, capacity days, the rows' updated_at
        self.clock = clock
        self.fraud = fraud  # callable(conn, orders) -> {index: [hold reasons]} (see services.order_screening)
        self.customers = customers  # callable(conn, orders) -> orders with unified customer ids
        #: an OrderScreening: fraud and customers both, the latter also in two halves
        #: (resolve, then write) for a batch computed outside the write turn
        self.screening = screening
        if screening is not None:
            self.fraud, self.customers = screening.fraud, screening.customers

    # -- public -----------------------------------------------------------------------------
    def submit(self, order: Order, actor: str | None = None):
        """Queue the order for the writer; `actor` (an API client's principal) names who
        took it in on the movements it makes (a channel's own order names none)."""
        try:
            check_order(order)  # what the database would refuse is refused here, failing no batch
        except LedgerError as refused:
            return self.writer.answered(refused)
        return self.writer.submit(_IngestJob(self, order, actor))

    def ingest(self, order: Order, actor: str | None = None) -> OrderResult:
        res = self.submit(order, actor).result(120)
        if isinstance(res, Exception):
            raise res
        return res

    def ingest_many(self, orders: Sequence[Order]) -> list[OrderResult | Exception]:
        futures = [self.submit(o) for o in orders]
        return [f.result(300) for f in futures]

    def retry_queue(self, *, limit: int = 500, now: datetime | None = None,
                    actor: str | None = None) -> list[OrderResult | Exception]:
        """Route again the orders whose retry time has come (stock may have arrived);
        `actor` (whoever asked: an API principal, the CLI's local admin) is named on the
        reservations it makes, None when the hub retries on its own."""
        now = now or self.clock()
        q = t.brokering_queue
        with self.writer.engine.connect() as conn:
            ids = conn.execute(
                sa.select(q.c.order_id).where(q.c.next_attempt_at <= now).order_by(q.c.next_attempt_at).limit(limit)
            ).scalars().all()
        futures = [self.retry_order(i, actor) for i in ids]
        return [f.result(300) for f in futures]

    def retry_order(self, order_id: int, actor: str | None = None):
        """Route one queued order again now (the writer's ticket)."""
        return self.writer.submit(_RetryJob(self, order_id, actor))

    # -- the batch (batch_jobs.JobKind) -----------------------------------------------------
    def decide(self, tx: StagedTransaction, jobs: Sequence[Any]) -> list:
        """Read, screen, route and reserve a batch in memory, and stage what it writes.

        `jobs`: `_IngestJob`s, `_RetryJob`s and order operations' jobs (an `order_id` and
        an `fn(order, OpContext)`, see order_operations). Decided beside other writers
        (`tx.beside_other_writers`), nothing is written here: ids come from the
        transaction, customers are staged with the rest, and a batch that needs more than
        its jobs named says so through `tx`."""
        conn = tx.conn
        now = self.clock()
        existing, by_id = self._read_orders(conn, jobs)
        skus = _skus_named(jobs, existing, by_id)
        tx.require_skus(skus, "SKUs of an earlier version")  # a line the incoming version dropped
        batch = tx.stock()
        cfg = batch.cfg
        if tx.beside_other_writers and any(loc.daily_order_capacity is not None for loc in cfg.locations.values()):
            tx.require_everything("locations with a daily order capacity")  # counted across every writer
        batch.load(set(), whole_skus=skus)
        ruleset = self.rules.current(conn)
        policies = policies_for(conn, sorted(skus), cfg)
        batch.policies = (frozenset(skus), policies)  # the projection needs the same rules: not read twice
        capacity = self._capacity_used(conn, cfg, now)
        holds_for = self._screen(tx, jobs, existing)
        new_ids = iter(tx.new_ids("orders", sum(1 for j in jobs if isinstance(j, _IngestJob) and j.order.key not in existing)))
        work = _Work(now)
        work.till_recorded = self._till_sales_recorded(conn, jobs, existing, cfg)
        results = self._decide_each(jobs, existing, by_id, batch, work, ruleset, policies, capacity, holds_for, new_ids)
        # Every row is built here; the writer only runs the statements.
        batch.events.extend(work.events)
        batch.flush(tx.write)
        self._write(conn, work, cfg.code_of, tx.write)
        return results

    @staticmethod
    def _read_orders(conn: Connection, jobs: Sequence[Any]) -> tuple[dict[tuple[str, str], Order], dict[int, Order]]:
        """The stored orders the jobs name, their rows locked: by (channel, external id)
        for incoming versions, by id for retries and operations."""
        keys = [(j.order.channel, j.order.external_id) for j in jobs if isinstance(j, _IngestJob)]
        existing: dict[tuple[str, str], Order] = {}
        for r in fetch_by_keys(conn, "orders", ("channel", "external_id", "id", "document"), ("channel", "external_id"),
                               sorted(set(keys)), for_update=True):
            doc = r[3] if isinstance(r[3], dict) else orjson.loads(r[3])
            existing[(r[0], r[1])] = order_from_doc(doc, r[2])
        retry_ids = [j.order_id for j in jobs if not isinstance(j, _IngestJob)]
        by_id: dict[int, Order] = {}
        for r in fetch_by_keys(conn, "orders", ("id", "document"), ("id",), [(i,) for i in sorted(set(retry_ids))], for_update=True):
            doc = r[1] if isinstance(r[1], dict) else orjson.loads(r[1])
            by_id[r[0]] = order_from_doc(doc, r[0])
        return existing, by_id

    @staticmethod
    def _till_sales_recorded(conn: Connection, jobs: Sequence[Any], existing: dict[tuple[str, str], Order],
                             cfg: StockConfig) -> dict[tuple[str, str], list[RecordedTillSale]]:
        """The till sales reconciliation recorded, not yet an order's, at the stores and
        for the SKUs of the batch's new till sales (domain/till_sales.py); nothing is read
        for a batch without one."""
        wanted: set[tuple[str, str]] = set()
        for j in jobs:
            if isinstance(j, _IngestJob) and j.order.key not in existing and is_till_sale(j.order):
                origin_id = j.order.origin_location_id
                origin = cfg.code_of.get(origin_id) if origin_id is not None else None
                if origin is not None:
                    wanted.update((line.sku, origin) for line in j.order.lines)
        if not wanted:
            return {}
        r = t.till_sales_recorded
        out: dict[tuple[str, str], list[RecordedTillSale]] = {}
        # Typed Any: compiled, a Row typed from the select's columns is checked as a tuple, which it is not.
        rows: Sequence[Any] = conn.execute(sa.select(r.c.id, r.c.sku, r.c.location, r.c.units_left, r.c.observed_at)
                                           .where(r.c.sku.in_(sorted({sku for sku, _ in wanted})), r.c.units_left > 0)).all()
        for row in rows:
            key = (str(row[1]), str(row[2]))
            if key in wanted:
                out.setdefault(key, []).append(RecordedTillSale(int(row[0]), int(row[3]), as_utc(row[4])))
        return out

    def _screen(self, tx: StagedTransaction, jobs: Sequence[Any], existing: dict[tuple[str, str], Order]
                ) -> dict[tuple[str, str], list[str]]:
        """Unified customers for the incoming orders (set on their jobs) and the fraud
        rules' holds for the new ones, by order key."""
        incoming = [j.order for j in jobs if isinstance(j, _IngestJob)]
        if self.customers and incoming:
            if self.screening is not None:
                resolved, customer_writes = self.screening.resolve_customers(tx.conn, incoming, tx)
                if customer_writes is not None:
                    tx.write(self.screening.write_customers, customer_writes)  # before the orders naming them
            else:
                resolved = self.customers(tx.conn, incoming)
            it = iter(resolved)
            for j in jobs:
                if isinstance(j, _IngestJob):
                    j.order = next(it)
        holds_for: dict[tuple[str, str], list[str]] = {}
        if self.fraud:
            fresh = [j.order for j in jobs if isinstance(j, _IngestJob) and j.order.key not in existing]
            if fresh:
                holds_for = self.fraud(tx.conn, fresh)
        return holds_for

    def _decide_each(self, jobs: Sequence[Any], existing: dict[tuple[str, str], Order], by_id: dict[int, Order],
                     batch: StockView, work: _Work, ruleset, policies, capacity, holds_for, new_ids) -> list:
        """Each job in turn, against the stock the jobs before it left; a job refused
        (its error is its result) is rolled back alone and the batch goes on."""
        results: list = [None] * len(jobs)
        cfg = batch.cfg

        def route(order: Order, verdict: str) -> OrderResult:  # what an operation routes with (OpContext)
            return self._route_and_reserve(order, batch, work, ruleset, policies, capacity, verdict=verdict)

        for i, job in enumerate(jobs):
            key = job.order.key if isinstance(job, _IngestJob) else None
            known_before = existing.get(key) if key else None
            known_id = known_before.id if known_before is not None else getattr(job, "order_id", None)
            mark, work_mark = batch.checkpoint(), work.checkpoint(known_id)
            try:
                if isinstance(job, _IngestJob):
                    results[i] = self._ingest_one(job.order, existing, batch, work, ruleset, policies, capacity, holds_for, new_ids)
                else:
                    order = work.orders.get(job.order_id) or work.versions_seen.get(job.order_id) or by_id.get(job.order_id)
                    if order is None:
                        raise OrderError(f"no order {job.order_id}", field="order_id", code="not_found")
                    if isinstance(job, _RetryJob):
                        results[i] = self._route_and_reserve(order, batch, work, ruleset, policies, capacity, verdict="retry")
                    else:
                        results[i] = job.fn(order, OpContext(batch, work, cfg, route))
            except IllegalTransition as illegal:  # (one name per clause: compiled, a name has one type)
                results[i] = OrderError(str(illegal), field="state", code="illegal_transition")
            except (LedgerError, ValueError) as exc:
                results[i] = exc if isinstance(exc, LedgerError) else OrderError(str(exc), field="order", code="invalid_order")
            actor = job.actor if isinstance(job, (_IngestJob, _RetryJob)) else None
            if actor is not None and not isinstance(results[i], Exception):
                batch.name_actor(mark, actor)
            if isinstance(results[i], Exception):  # this order leaves no trace; the batch goes on
                batch.rollback(mark)
                work.rollback(work_mark)
                if key is not None:
                    if known_before is None:
                        existing.pop(key, None)
                    else:
                        existing[key] = known_before
        return results

    def _ingest_one(self, incoming: Order, existing, batch: StockView, work: _Work, ruleset, policies, capacity,
                    holds_for, new_ids) -> OrderResult:
        cfg = batch.cfg
        for line in incoming.lines:
            if line.sku not in batch.known:
                raise OrderError(f"unknown SKU {line.sku!r} on line {line.line_id}", field=f"lines.{line.line_id}.sku", code="unknown_sku")
        for name in ("pickup_location_id", "origin_location_id"):
            lid = getattr(incoming, name)
            if lid is not None and lid not in cfg.locations:
                raise OrderError(f"unknown location id {lid}", field=name, code="unknown_location")
        prior = existing.get(incoming.key)
        if prior is not None and prior.id in work.orders:
            prior = work.orders[prior.id]  # a second version of the same order in this batch
        outcome = apply_newer_version(prior, incoming)
        diff = outcome.diff
        order = outcome.order
        if diff.verdict in (VersionVerdict.STALE, VersionVerdict.DUPLICATE):
            assert prior is not None
            return OrderResult(prior.id or 0, diff.verdict.value, prior.state.value)
        if diff.verdict is VersionVerdict.UNCHANGED:
            # Nothing to route, announce or rewrite; only the version is kept, so that a late
            # older version of the order stays stale.
            oid = stored_id(order)
            existing[incoming.key] = order
            if oid in work.orders:
                work.orders[oid] = order  # written in full by this batch anyway
            else:
                work.versions_seen[oid] = order
            return OrderResult(oid, diff.verdict.value, order.state.value, holds=list(order.holds))
        if diff.verdict is VersionVerdict.NEW:
            order = copy_order(order, id=next(new_ids))
        oid = stored_id(order)
        if diff.verdict is VersionVerdict.NEW:
            work.is_new.add(oid)
        existing[incoming.key] = order
        work.orders[oid] = order
        work.events.append(OrderAccepted(oid, order.channel, order.external_id, diff.verdict.value, order.state.value))

        # Units leaving the order: from the queue, or released at their locations.
        _apply_diff(order, diff, batch)

        if diff.cancelled or order.cancelled:  # a cancelled order stays so: see apply_newer_version
            order = _cancel_remaining(order, batch, work, "cancelled on the channel")
        elif diff.partly_cancelled or (diff.verdict is VersionVerdict.NEW and not order.units_by_sku()):
            # Units cancelled line by line (a first version may already cancel them all).
            order = _walk(order, cancellation_path(order), work, "lines cancelled on the channel")
        if diff.verdict is VersionVerdict.UPDATED and diff.needs_rerouting and order.state is not OrderState.HELD \
                and order.state is not OrderState.CANCELLED:
            order = self._release_for_rerouting(order, batch, work)
        work.orders[oid] = order
        if order.state is OrderState.CANCELLED:
            work.queue_deletes.add(oid)
            return OrderResult(oid, diff.verdict.value, order.state.value, holds=list(order.holds))

        holds = holds_for.get(order.key, [])
        if diff.verdict is VersionVerdict.NEW and holds:
            order = replace(_move(order, OrderState.HELD, work, "; ".join(holds)), holds=tuple(holds))
            work.orders[oid] = order
            work.queue_upserts[oid] = ("held: " + "; ".join(holds), 0)
            return OrderResult(oid, diff.verdict.value, order.state.value, holds=list(holds))
        if order.state is OrderState.HELD:
            return OrderResult(oid, diff.verdict.value, order.state.value, holds=list(order.holds))

        if is_till_sale(order) and diff.verdict is VersionVerdict.NEW:
            return self._fulfil_at_till(order, batch, work)
        return self._route_and_reserve(order, batch, work, ruleset, policies, capacity, verdict=diff.verdict.value)

    # -- pieces -----------------------------------------------------------------------------
    def _release_for_rerouting(self, order: Order, batch: StockView, work: _Work) -> Order:
        """The channel changed where the goods go (address, delivery method, pickup store):
        the reservations made for the old destination may no longer be the best, or even
        possible (a pickup at another store). Reserved units go back to the brokering queue
        to be routed again at once; picked, packed and shipped ones stay where they are
        (someone already has them in hand)."""
        return release_reservations(order, batch, work, "the channel changed where the goods go")

    def _fulfil_at_till(self, order: Order, batch: StockView, work: _Work) -> OrderResult:
        """A POS sale handed over at the till: the customer walks out with the goods, so
        it is recorded as a sale at the store, never refused (the shelf is the truth; a
        unit the hub thought gone becomes an oversell incident)."""
        cfg = batch.cfg
        oid = stored_id(order)
        origin_id = order.origin_location_id
        origin = cfg.code_of[origin_id]  # type: ignore[index]
        movements: list[Movement] = []
        demand: dict[str, int] = {}
        lines, handed = [], []
        already = 0  # units reconciliation recorded as sold before this order came in
        for line in order.lines:
            q = line.unassigned_quantity
            if q:
                taken = units_already_sold(q, work.till_left(line.sku, origin), order.placed_at)
                work.till_taken.extend(taken)
                recorded = sum(n for _, n in taken)
                already += recorded
                if q > recorded:
                    movements.append(Movement(line.sku, origin, q - recorded, S.ON_HAND, S.SOLD, Reason.SALE,
                                              reference=f"order:{order.id}", channel=order.channel))
                    demand[line.sku] = demand.get(line.sku, 0) - (q - recorded)
                a = FulfilmentAssignment(origin_id, q, shipment_id=f"till-{order.id}", state=AssignmentState.PICKED_UP)  # type: ignore[arg-type]
                line = replace(line, assignments=line.assignments + (a,))
                handed.append({"line_id": line.line_id, "sku": line.sku, "location": origin, "quantity": q})
            lines.append(line)
        if movements:
            batch.apply(Plan(movements, demand), allow_oversell=True)
        sold = "sold at the till" if not already else \
            f"sold at the till ({already} unit(s) already recorded by reconciliation from the store's level)"
        order = _walk(replace(order, lines=tuple(lines)),
                      [OrderState.BROKERING, OrderState.ALLOCATED, OrderState.PICKED, OrderState.PACKED,
                       OrderState.PICKED_UP, OrderState.DELIVERED], work, sold)
        work.orders[oid] = order
        return OrderResult(oid, "new", order.state.value, "allocated", handed)

    def _route_and_reserve(self, order: Order, batch: StockView, work: _Work, ruleset, policies, capacity, *, verdict: str) -> OrderResult:
        cfg = batch.cfg
        oid = stored_id(order)
        if order.state in (OrderState.HELD, OrderState.CANCELLED) or order.cancelled or \
                (order.holds and held_for_routing(order)):
            return OrderResult(oid, verdict, order.state.value, holds=list(order.holds))
        if all(ln.unassigned_quantity == 0 for ln in order.lines):
            work.queue_deletes.add(oid)
            work.orders[oid] = order
            return OrderResult(oid, verdict, order.state.value)
        stock: dict[tuple[str, int], int] = {}
        for line in order.lines:
            rules = rules_for_sku(policies, line.sku)
            for loc, pos in batch.positions_of(line.sku).items():
                lid = cfg.id_of.get(loc)
                if lid is None:
                    continue
                stock[(line.sku, lid)] = location_atp(pos, resolve_policy(rules, None, line.sku, loc),
                                                      online_selling=cfg.online.get(loc, True))
        used = {cfg.id_of[loc]: n for (loc, _day), n in capacity.items() if loc in cfg.id_of}
        # Only places that hold (or held) any of the SKUs can serve the order; with
        # hundreds of locations, routing over the rest would only list them as empty.
        candidates = {lid for _, lid in stock}
        for lid in (order.pickup_location_id, order.origin_location_id):
            if lid is not None:
                candidates.add(lid)
        decision = route_order(order, ruleset, {lid: cfg.locations[lid] for lid in candidates if lid in cfg.locations},
                               stock, used)
        work.decisions.append((oid, decision))
        if decision.outcome is RoutingOutcome.REJECTED:
            return self._hold_rejected(order, decision, work, verdict, cfg.code_of)
        movements: list[Movement] = []
        demand: dict[str, int] = {}
        for (sku, lid), units in decision.units_by_location().items():
            movements.append(Movement(sku, cfg.code_of[lid], units, S.ON_HAND, S.RESERVED, Reason.RESERVATION,
                                      reference=f"order:{order.id}", channel=order.channel))
            demand[sku] = demand.get(sku, 0) - units
        if movements:
            assigned = with_assignments(order, decision.assignments)  # may refuse: check before reserving
            batch.apply(Plan(movements, demand))
            order = assigned
            for lid in decision.locations:
                place = cfg.locations[lid]
                if place.daily_order_capacity is None:
                    continue  # counted only where a capacity reads it (see _capacity_used)
                key = (place.code, capacity_day(place.time_zone, work.now))
                capacity[key] = capacity.get(key, 0) + 1
                work.capacity[key] = capacity[key]
        state_for = {
            RoutingOutcome.ALLOCATED: OrderState.ALLOCATED,
            RoutingOutcome.PARTIALLY_ALLOCATED: OrderState.PARTLY_ALLOCATED,
            RoutingOutcome.QUEUED: OrderState.BROKERING,
            RoutingOutcome.BACKORDERED: OrderState.BACKORDERED,
        }
        target = state_for[decision.outcome]
        steps: list[tuple[OrderState, str]] = []
        state = order.state
        if state is OrderState.CREATED:
            steps.append((OrderState.BROKERING, "entered the brokering queue"))
            state = OrderState.BROKERING
        elif state is OrderState.ALLOCATED:  # a newer version added units: broker them
            steps.append((OrderState.BROKERING, "units added on the channel"))
            state = OrderState.BROKERING
        # A partly cancelled order whose rest still waits stays "partly cancelled"; one with
        # a parcel already picked or on its way keeps saying so while the rest is routed
        # (routing only adds assignments to it).
        keep = (state is OrderState.PARTLY_CANCELLED and target is OrderState.BROKERING) or \
            state in (OrderState.PARTLY_PICKED, OrderState.PARTLY_SHIPPED)
        if not keep and target is not state:
            steps.append((target, f"routing: {decision.outcome.value}"))
        order = _steps(order, steps, work)
        if decision.outcome in (RoutingOutcome.ALLOCATED,):
            work.queue_deletes.add(oid)
        else:
            reason = "; ".join(sorted({u.reason for u in decision.unassigned})) or decision.outcome.value
            work.queue_upserts[oid] = (reason[:500], 1)
            work.queue_deletes.discard(oid)  # the last decision in the batch wins
        work.orders[oid] = order
        work.events.append(OrderRouted(oid, decision.outcome.value, decision.rule,
                                       tuple((a.line_id, a.sku, cfg.code_of[a.location_id], a.quantity) for a in decision.assignments)))
        return OrderResult(
            oid, verdict, order.state.value, decision.outcome.value,
            [{"line_id": a.line_id, "sku": a.sku, "location": cfg.code_of[a.location_id], "quantity": a.quantity}
             for a in decision.assignments],
            alternatives=[{"location": cfg.code_of[a.location_id], "distance_km": a.distance_km, "available": dict(a.available)}
                          for a in decision.alternatives],
        )

    def _hold_rejected(self, order: Order, decision: RoutingDecision, work: _Work, verdict: str,
                       code_of: dict[int, str]) -> OrderResult:
        """The rules' fall-back `reject`: the order leaves the brokering queue (no retry
        would route it differently under the same rules) and is held for an operator with
        the rules' reason. Its units still count against ATP, as a held order's do: the
        customer has not cancelled. An order already partly on its way cannot be `held`;
        the hold reason alone keeps it from routing (`held_for_routing`)."""
        oid = stored_id(order)
        why = "; ".join(sorted({u.reason for u in decision.unassigned})) or "the routing rules refuse the order"
        hold = f"{ROUTING_REJECTED}: {why}"[:500]
        steps: list[tuple[OrderState, str]] = []
        state = order.state
        if not can_transition(state, OrderState.HELD) and can_transition(state, OrderState.BROKERING):
            steps.append((OrderState.BROKERING, "routing: rejected"))
            state = OrderState.BROKERING
        if can_transition(state, OrderState.HELD):
            steps.append((OrderState.HELD, hold))
        order = _steps(order, steps, work)
        order = copy_order(order, holds=tuple(h for h in order.holds if not h.startswith(ROUTING_REJECTED)) + (hold,))
        work.queue_deletes.add(oid)
        work.orders[oid] = order
        work.events.append(OrderRouted(oid, decision.outcome.value, decision.rule, ()))
        return OrderResult(oid, verdict, order.state.value, decision.outcome.value, holds=list(order.holds),
                           alternatives=[{"location": code_of[a.location_id], "distance_km": a.distance_km,
                                          "available": dict(a.available)} for a in decision.alternatives])

    @staticmethod
    def _capacity_used(conn: Connection, cfg, now: datetime) -> dict[tuple[str, str], int]:
        """Orders assigned today per location (each in its own time zone), for capacity."""
        keys = []
        for loc in cfg.locations.values():
            if loc.daily_order_capacity is not None:
                keys.append((loc.code, capacity_day(loc.time_zone, now)))
        rows = fetch_by_keys(conn, "location_daily_orders", ("location", "day", "orders"), ("location", "day"), sorted(keys))
        return {(r[0], r[1]): r[2] for r in rows}

    # -- writing ----------------------------------------------------------------------------
    def _write(self, conn: Connection, work: _Work, code_of: dict[int, str], write: Callable[..., None]) -> None:
        now = db_time(conn, work.now)
        new_rows, upd_rows = [], []
        assignment_rows = []
        for oid, o in work.orders.items():
            doc = order_to_doc(o)
            cols = (o.channel, o.external_id, db_time(conn, o.channel_updated_at), o.state.value, o.delivery_method.value,
                    o.customer.customer_id, o.order_value.amount_minor, o.currency, db_json(list(o.holds)), db_json(doc),
                    db_time(conn, o.placed), now)
            if oid in work.is_new:
                new_rows.append((oid, *cols))
            else:
                upd_rows.append((*cols, oid))
            for line in o.lines:
                for a in line.assignments:
                    assignment_rows.append((oid, line.line_id, line.sku, a.location_id, a.quantity, a.state.value, a.shipment_id))
        order_cols = ("channel", "external_id", "channel_updated_at", "state", "delivery_method", "customer_id",
                      "order_value_minor", "currency", "holds", "document", "placed_at", "updated_at")
        write(insert_many, "orders", ("id", *order_cols), new_rows)
        write(update_many, "orders", order_cols, ("id",), upd_rows)
        if work.versions_seen:
            write(update_many, "orders", ("channel_updated_at", "document"), ("id",),
                  [(db_time(conn, o.channel_updated_at), db_json(order_to_doc(o)), oid)
                   for oid, o in work.versions_seen.items() if oid not in work.orders])
        # Assignments: the rows mirror the documents of the orders written in this batch;
        # carrier and tracking (not in the document) are carried over by shipment id.
        touched = [(oid,) for oid in sorted(work.orders) if oid not in work.is_new]
        tracking = {
            r[0]: (r[1], r[2])
            for r in fetch_by_keys(conn, "order_assignments", ("shipment_id", "carrier", "tracking_number", "order_id"),
                                   ("order_id",), touched)
            if r[0] and (r[1] or r[2])
        }
        tracking.update({sid: (carrier, number) for _, _, carrier, number, sid in work.shipments})
        write(delete_by_ids, "order_assignments", "order_id", [x[0] for x in touched])
        write(insert_many, "order_assignments",
                    ("order_id", "line_id", "sku", "location", "quantity", "state", "shipment_id", "carrier",
                     "tracking_number", "updated_at"),
                    [(oid, lid, sku, code_of[loc], q, st, sh, *(tracking.get(sh) or (None, None)), now)
                     for oid, lid, sku, loc, q, st, sh in assignment_rows])
        write(insert_many, "routing_decisions", ("order_id", "rule_set_version", "outcome", "explanation", "created_at"),
              [(oid, d.rules_version, d.outcome.value, db_json(d.to_record()), now) for oid, d in work.decisions])
        retry = db_time(conn, work.now + RETRY_AFTER)
        queue = [(oid, now, retry, attempts, reason) for oid, (reason, attempts) in work.queue_upserts.items()
                 if oid not in work.queue_deletes]
        write(upsert_many, "brokering_queue", ("order_id", "enqueued_at", "next_attempt_at", "attempts", "reason"),
              ("order_id",), queue)
        # An order first stored in this batch has no queue row from before to delete.
        write(delete_by_ids, "brokering_queue", "order_id", sorted(i for i in work.queue_deletes if i not in work.is_new))
        write(upsert_many, "location_daily_orders", ("location", "day", "orders"), ("location", "day"),
              [(loc, day, n) for (loc, day), n in work.capacity.items()])
        if work.till_taken:  # absolute figures: the batch's SKUs are its own (claims, or the turn)
            left = {r.row_id: r.units_left for rows in work.till_recorded.values() for r in rows}
            for row_id, n in work.till_taken:
                left[row_id] -= n
            write(update_many, "till_sales_recorded", ("units_left",), ("id",),
                  [(left[row_id], row_id) for row_id in sorted({i for i, _ in work.till_taken})])


class _IngestJob:
    """An incoming version of an order (batch_jobs.KeyedJob)."""

    __slots__ = ("batch_kind", "order", "actor")

    def __init__(self, pipeline: OrderPipeline, order: Order, actor: str | None = None) -> None:
        self.batch_kind = pipeline
        self.order = order
        self.actor = actor

    def touched_keys(self) -> TouchedKeys:
        """Its order, its SKUs, its customer (the SKUs of an earlier version it does not
        name are checked when the batch is decided)."""
        o = self.order
        return (o.channel, o.external_id), [line.sku for line in o.lines], customer_keys(o)


class _RetryJob:
    """A queued order to route again (it names no keys: the writer claims everything)."""

    __slots__ = ("batch_kind", "order_id", "actor")

    def __init__(self, pipeline: OrderPipeline, order_id: int, actor: str | None = None) -> None:
        self.batch_kind = pipeline
        self.order_id = order_id
        self.actor = actor
