"""Applies a batch of stock commands in one transaction with set-based SQL.

This is the group-commit half of the hot path: one transaction, a handful of statements
whatever the batch size (lock positions, insert movements, update positions, write the
outbox, update the channel projection), and each command still gets its own result or its
own error. Positions are locked in a fixed order (SKU, then location) with
`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises writers. Each
position update also checks the version it read, so a lost update cannot pass silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set as AbstractSet
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import (
    db_json,
    db_time,
    fetch_by_keys,
    insert_ignore_many,
    insert_many,
    next_ids,
    update_many,
    upsert_many,
)
from omnihub.adapters.db.channel_config import ConfigCache, StockConfig, policies_for, rules_for_sku
from omnihub.adapters.db.claims import sku_bucket
from omnihub.adapters.db.writer_cache import ProjectionRows, WriterCache, stamp_stock_epoch
from omnihub.domain.atp import needs_whole_sku
from omnihub.domain.channel_projection import TOTAL, PositionChange, project
from omnihub.domain.events import DomainEvent, OversellDetected, StockChanged
from omnihub.domain.ledger import LedgerError, Position, apply_movement
from omnihub.domain.stock_commands import (
    IdempotencyConflict,
    PositionKey,
    StockCommand,
    UnknownReference,
    VersionConflict,
)


MOVEMENT_COLUMNS = (
    "sku", "location", "quantity", "from_state", "to_state", "reason", "reference", "channel", "actor",
    "idempotency_key", "position_version", "oversold", "occurred_at",
)
_ACTOR = MOVEMENT_COLUMNS.index("actor")
POSITION_COLUMNS = ("on_hand", "reserved", "damaged", "quality_control", "incoming", "in_transit", "version")
#: a channel's total row (location ''): its figure and its pool
TOTAL_COLUMNS = ("channel", "sku", "location", "quantity", "pool", "updated_at")


EMPTY_POSITION = Position()  # immutable: shared by every new row

STOCK_CHANGED_FIELDS = tuple(f.name for f in fields(StockChanged))

#: `write(statement_helper, *args)`: runs `statement_helper(conn, *args)` now, or later
#: (a batch computed outside the write turn stages its statements and runs them in it)
Write = Callable[..., None]


def write_now(conn: Connection) -> Write:
    def write(helper: Callable[..., Any], *args: Any) -> None:
        helper(conn, *args)
    return write


def write_outbox(conn: Connection, events: Sequence[DomainEvent], now: datetime,
                 stock_changes: list[tuple] | None = None, write: Write | None = None) -> None:
    """Append events to the outbox, in the caller's transaction.

    The events of one topic are one row whose payload is the list of their payloads
    (the relay publishes them one by one, in order): a batch of two thousand movements
    raises thousands of events, and a row each cost more than the movements themselves.
    Within a topic the events keep their order; the topics come in the order they first
    appear (a subscriber sees one topic's events in order, as a broker's subject keeps
    them; a batch of orders raised a row per order per topic before, 3 rows an order).
    `stock_changes` are StockChanged events given as value tuples (fields in declaration
    order), written first as one columnar row: {"$fields": [...], "$rows": [[...]]}.
    Building an event object per movement cost a fifth of the writer's time."""
    ts = db_time(conn, now)
    rows = []
    if stock_changes:
        rows.append((StockChanged.topic, "", db_json({"$fields": STOCK_CHANGED_FIELDS, "$rows": stock_changes}), ts))
    runs: dict[str, list[DomainEvent]] = {}
    for e in events:
        run = runs.get(e.topic)
        if run is None:
            runs[e.topic] = [e]
        else:
            run.append(e)
    for run in runs.values():
        rows.append(_outbox_row(run, ts))
    (write or write_now(conn))(insert_many, "outbox", ("topic", "key", "payload", "created_at"), rows)


def _outbox_row(run: list[DomainEvent], ts) -> tuple:
    if len(run) == 1:
        return (run[0].topic, run[0].key(), db_json(run[0].payload()), ts)
    # orjson writes the (flat, slotted) event dataclasses field by field, in C.
    return (run[0].topic, "", db_json(run), ts)


def update_positions(conn: Connection, params: list[tuple]) -> None:
    """Each row's new balances, where its version is still the one the batch read."""
    n = update_many(conn, "positions", POSITION_COLUMNS, ("sku", "location", "version"), params)
    if n != len(params) and n >= 0:
        raise LostUpdate(f"{len(params) - n} position(s) changed under the lock")


def insert_incidents(conn: Connection, rows: list[dict]) -> None:
    conn.execute(t.oversell_incidents.insert(), rows)


class LostUpdate(Exception):
    """A position changed under us despite the lock: the batch is retried, never kept.
    (An Exception, not a RuntimeError: compiled, a class may not derive from the latter.)"""


class StockResult:
    """One command's outcome: its movements, the balances it left, any oversell.

    Balances stay Position objects and movements stay the rows the batch inserted until
    someone reads `positions` or `movements`: most callers of the hot path only look at
    the outcome, and a dict per movement and per position cost more than the fold."""

    __slots__ = ("_movements", "_rows", "_ids", "_positions", "_balances", "oversold", "replayed")

    def __init__(self, movements: list[dict] | None = None, positions: dict[str, dict] | None = None,
                 oversold: int = 0, replayed: bool = False, *, balances: dict | None = None) -> None:
        self._movements = movements
        self._rows: list[tuple] = []  # MOVEMENT_COLUMNS values, as inserted
        self._ids: list[int] = []
        self._positions = positions
        self._balances = balances  # (sku, location) → Position
        self.oversold = oversold
        self.replayed = replayed

    @property
    def movements(self) -> list[dict]:
        """The recorded movements, one dict per row (with its id)."""
        if self._movements is None:
            self._movements = [{**dict(zip(MOVEMENT_COLUMNS, r)), "id": i} for r, i in zip(self._rows, self._ids)]
        return self._movements

    @property
    def positions(self) -> dict[str, dict]:
        """"sku@location" → balances after the command."""
        if self._positions is None:
            self._positions = {f"{k[0]}@{k[1]}": p.as_dict() for k, p in (self._balances or {}).items()}
        return self._positions

    def as_dict(self) -> dict:
        """JSON-ready (timestamps as ISO text)."""
        movements = [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()} for row in self.movements
        ]
        return {"movements": movements, "positions": self.positions, "oversold": self.oversold}


def positions_by_sku(conn: Connection, skus: Iterable[str], *, for_update: bool = False) -> dict[str, dict[str, Position]]:
    """Every stored position of these SKUs, by SKU then location (locked in key order
    with `for_update` on PostgreSQL). One SKU has at most one row per location, so this
    never reads more than the question needs."""
    out: dict[str, dict[str, Position]] = {}
    for r in fetch_by_keys(conn, "positions", ("sku", "location", *POSITION_COLUMNS), ("sku",),
                           [(x,) for x in sorted(skus)], for_update=for_update):
        out.setdefault(r[0], {})[r[1]] = Position(*r[2:])
    return out


def _chunks(items: Sequence, n: int = 900):
    for i in range(0, len(items), n):
        yield items[i : i + n]


class StockStore:
    """Stateless but for the per-process config cache and, in a stock writer, the writer's
    cache (used by that writer's thread alone); otherwise safe to share between threads as
    long as each call has its own connection."""

    def __init__(self, cache: WriterCache | None = None) -> None:
        self.config = ConfigCache()
        self.cache = cache  # the SQLite stock writer's (see writer_cache); None elsewhere
        #: the SQLite stock writer's FileClaims (see claims.py): its cache is then kept valid
        #: by bucket counters, and rows it must create wait for the write (it may be
        #: computing outside the write turn)
        self.claims: Any = None
        #: set by the writer for each transaction: whether it is a batch under claims,
        #: which uses the cache even while other writers are busy (see WriterCache.begin)
        self.prefer_cache = True

    # -- reading ---------------------------------------------------------------------------
    def _lock_positions(self, conn: Connection, keys: list[PositionKey], cache: WriterCache | None = None,
                        to_create: list[PositionKey] | None = None, lock: bool = True) -> dict[PositionKey, Position]:
        """The positions at `keys`, locked; a missing one is created empty, or, given
        `to_create` (SQLite, before the write turn), answered empty and listed there for
        the batch to insert when it writes."""
        cols = ("sku", "location", *POSITION_COLUMNS)
        found: dict[PositionKey, Position] = {}
        if cache is not None:  # what the cache knows is not read; a complete SKU's other rows do not exist
            unknown = []
            for k in keys:
                pos = cache.position(k)
                if pos is not None:
                    found[k] = pos
                elif k[0] not in cache.complete:
                    unknown.append(k)
            keys_to_read = sorted(unknown)
        else:
            keys_to_read = sorted(keys)
        found.update(
            ((r[0], r[1]), Position(*r[2:]))
            for r in fetch_by_keys(conn, "positions", cols, ("sku", "location"), keys_to_read, for_update=lock)
        )
        missing = sorted(set(keys) - found.keys())
        if missing and to_create is not None and conn.dialect.name == "sqlite":
            to_create.extend(missing)
            found.update((k, EMPTY_POSITION) for k in missing)
            return found
        if missing:
            insert_ignore_many(conn, "positions", ("sku", "location"), missing)
            if conn.dialect.name == "sqlite":
                # BEGIN IMMEDIATE: no other writer since our read, so the new rows are empty.
                found.update((k, EMPTY_POSITION) for k in missing)
                return found
            # Another writer may have created (and moved) a row in between: read it locked.
            for r in fetch_by_keys(conn, "positions", cols, ("sku", "location"), missing, for_update=True):
                found[(r[0], r[1])] = Position(*r[2:])
        return found

    def _known_skus(self, conn: Connection, skus: set[str]) -> set[str]:
        return {r[0] for r in fetch_by_keys(conn, "variants", ("sku",), ("sku",), [(x,) for x in sorted(skus)])}

    # -- the batch -------------------------------------------------------------------------
    def begin(self, conn: Connection) -> "StockBatch":
        """Open the in-memory working set of one transaction (see StockBatch)."""
        cfg = self.config.get(conn)
        use = self.cache.begin(conn, cfg, self.prefer_cache) if self.cache is not None else False
        return StockBatch(self, conn, cfg, datetime.now(UTC), use_cache=use)

    def apply_batch(self, conn: Connection, commands: Sequence[StockCommand]) -> list[StockResult | Exception]:
        # a result, an error, or ("same-as", index, fingerprint) for a key repeated in the batch
        results: list[StockResult | Exception | tuple[str, int, str] | None] = [None] * len(commands)
        batch = self.begin(conn)

        # 1. Idempotency: answer replays from the stored result.
        keyed = {c.idempotency_key for c in commands if c.idempotency_key}
        stored: dict[str, tuple[str, dict]] = {}
        for chunk in _chunks(sorted(keyed)):
            cr = t.command_results
            found: Any = conn.execute(  # Any: compiled code must not take a Row for a tuple
                sa.select(cr.c.idempotency_key, cr.c.request_hash, cr.c.result).where(cr.c.idempotency_key.in_(chunk))
            ).all()
            for key, request_hash, result in found:
                stored[key] = (request_hash, result)

        # 2. Lock every position the batch names, in key order.
        batch.load({k for c in commands for k in c.keys}, {s for c in commands for s in c.skus_only})

        fingerprints: dict[int, str] = {}
        in_batch_keys: dict[str, int] = {}
        for i, cmd in enumerate(commands):
            try:
                fp = cmd.fingerprint() if cmd.idempotency_key else ""
                if cmd.idempotency_key:
                    prior = stored.get(cmd.idempotency_key)
                    if prior is not None:
                        if prior[0] != fp:
                            raise IdempotencyConflict(cmd.idempotency_key)
                        results[i] = StockResult(**prior[1], replayed=True)
                        continue
                    if cmd.idempotency_key in in_batch_keys:
                        results[i] = ("same-as", in_batch_keys[cmd.idempotency_key], fp)
                        continue
                batch.check_known(cmd.keys, cmd.skus_only)
                if cmd.expected_versions:
                    for key, expected in cmd.expected_versions.items():
                        actual = batch.positions[key].version
                        if actual != expected:
                            raise VersionConflict(key, expected, actual)
                plan = getattr(cmd.plan, "fixed", None) or cmd.plan({k: batch.positions[k] for k in cmd.keys})
                results[i] = batch.apply(plan, allow_oversell=cmd.allow_oversell, idempotency_key=cmd.idempotency_key)
            except LedgerError as exc:
                results[i] = exc
                continue
            fingerprints[i] = fp
            if cmd.idempotency_key:
                in_batch_keys[cmd.idempotency_key] = i

        batch.flush()

        # Results, stored for idempotent replays.
        store_rows = []
        for i, cmd in enumerate(commands):
            res = results[i]
            if isinstance(res, StockResult) and not res.replayed and cmd.idempotency_key:
                store_rows.append({"idempotency_key": cmd.idempotency_key, "request_hash": fingerprints[i],
                                   "result": res.as_dict(), "created_at": batch.now})
        if store_rows:
            conn.execute(t.command_results.insert(), store_rows)
        final: list[StockResult | Exception] = []
        for i, res in enumerate(results):
            if isinstance(res, tuple):  # a duplicate key inside this batch
                first = results[res[1]]
                if isinstance(first, StockResult) and fingerprints.get(res[1]) == res[2]:
                    res = StockResult(first.movements, first.positions, first.oversold, replayed=True)
                elif isinstance(first, StockResult):
                    res = IdempotencyConflict(commands[i].idempotency_key or "")
                else:
                    res = first
            assert isinstance(res, (StockResult, Exception)), res  # every command has its answer
            final.append(res)
        return final

def project_channels(conn, cfg, changed, original, demand_delta, touched_skus, now,
                     loaded_whole: dict[str, dict[str, Position]] | None = None,
                     known: ProjectionRows | None = None,
                     policies: tuple[frozenset[str], dict] | None = None,
                     write: Write | None = None) -> list[DomainEvent]:
    """`loaded_whole`: every position of some SKUs, already locked and current in the
    batch (the order pipeline loads whole SKUs to route), so they are not read again.
    `policies`: (SKUs covered, their safety-stock/threshold rules) read earlier in the
    same transaction; used when they cover every SKU touched.
    `known`: the stock writer's cached projection rows (see writer_cache), read through
    and updated in place; without it, a fresh set read for this call alone."""
    if not cfg.channels and not demand_delta:
        return []  # no channel to show anything, no queue to change: nothing to read
    skus = sorted(touched_skus)
    known = known if known is not None else ProjectionRows()
    write = write or write_now(conn)
    known.read_demand(conn, skus)
    queued = known.demand
    queued_before = {x: queued[x] for x in skus}
    if demand_delta:
        demand_rows = []
        for sku, delta in demand_delta.items():
            if delta:  # an order queued and routed in the same batch nets to nothing
                queued[sku] = max(0, queued.get(sku, 0) + delta)
                demand_rows.append((sku, queued[sku]))
        write(upsert_many, "sku_demand", ("sku", "queued"), ("sku",), demand_rows)
    if not cfg.channels:
        return []
    if policies is None or not policies[0].issuperset(skus):
        policies = (frozenset(skus), policies_for(conn, skus, cfg))
    rules_by_sku = {s: rules_for_sku(policies[1], s) for s in skus}
    # Only the rows this batch can change: each SKU's totals (pool and figure, one row)
    # and the touched locations. Keyed on the whole primary key (channel, sku, location)
    # so the lookup is a search. An aggregate channel has only totals; a per-location
    # one also a row per location.
    known.read_totals(conn, [(c.channel, x) for c in cfg.channels for x in skus])
    changed_keys = sorted(changed)
    known.read_shown(conn, [(c.channel, x, loc) for c in cfg.channels if c.per_location for x, loc in changed_keys])
    # SKUs whose per-location figures must be spread together (a queue, a buffer, a fixed
    # allocation, or a queue that just emptied): rare, so read all their locations then.
    # An order that enters the queue and is routed in the same batch leaves no queue.
    per_location = [c for c in cfg.channels if c.per_location]
    whole_skus = [
        x for x in skus
        if per_location and any(needs_whole_sku(c, max(queued.get(x, 0), queued_before.get(x, 0))) for c in per_location)
    ]
    loaded_whole = loaded_whole or {}
    whole = {x: loaded_whole[x] for x in whole_skus if x in loaded_whole}
    unread = [x for x in whole_skus if x not in loaded_whole]
    if unread:
        whole.update(positions_by_sku(conn, unread, for_update=True))
    if whole_skus:
        known.read_shown_whole(conn, [(c.channel, x) for c in per_location for x in whole_skus])
    changes = [PositionChange(k[0], k[1], original[k], v) for k, v in changed.items()]
    changed_pools, rows, events = project(  # updates known.pools in place
        cfg.channels, cfg.online, rules_by_sku, changes, known.pools, queued, known.shown, skus,
        whole={x: whole.get(x, {}) for x in whole_skus}, priority=cfg.location_priority,
    )
    ts = db_time(conn, now)
    # A total row carries its pool: written when either moved (usually both do).
    totals = sorted({(k[0], k[1]) for k in rows if k[2] == TOTAL}.union(changed_pools))
    write(upsert_many, "channel_availability", TOTAL_COLUMNS, ("channel", "sku", "location"),
          [(c, x, TOTAL, rows.get((c, x, TOTAL), known.shown.get((c, x, TOTAL), 0)), known.pools.get((c, x), 0), ts)
           for c, x in totals])
    write(upsert_many, "channel_availability", ("channel", "sku", "location", "quantity", "updated_at"),
          ("channel", "sku", "location"), [(*k, v, ts) for k, v in rows.items() if k[2] != TOTAL])
    known.shown.update(rows)
    return list(events)


class StockBatch:
    """The working set of one transaction: locked positions, the movements applied to them
    in memory, and the queue changes. `apply` is all-or-nothing per call (a refused plan
    leaves no trace); `flush` writes everything with a handful of statements.

    Composite use cases (the order pipeline) open a batch, apply several plans against the
    same locked positions, so a later order in the batch sees an earlier one's
    reservations, and flush once.
    """

    def __init__(self, store: StockStore, conn: Connection, cfg: StockConfig, now: datetime, *, use_cache: bool = False) -> None:
        self.store = store
        self.cache = store.cache if use_cache else None
        self.stamp = store.cache.token if store.cache is not None else None  # see stamp_stock_epoch
        self.conn = conn
        self.cfg = cfg
        self.now = now
        self.positions: dict[PositionKey, Position] = {}
        self.original: dict[PositionKey, Position] = {}
        self._by_sku: dict[str, dict[str, Position]] = {}  # SKU → location → current position (loaded ones)
        self._touched: set[PositionKey] = set()  # keys some apply changed (a rollback may change them back)
        self._whole_skus: set[str] = set()  # SKUs with every position loaded
        # ("position", key, previous Position) or ("demand", sku, previous delta or None)
        self._undo: list[tuple[str, Any, Any]] = []
        self.known: set[str] = cfg.known_skus  # shared with later batches (see StockConfig)
        self.movement_rows: list[tuple] = []  # MOVEMENT_COLUMNS values
        self.movement_positions: list[Position] = []
        self.oversells: list[tuple[int, str, str, int, str | None]] = []
        self.demand_delta: dict[str, int] = {}
        self.events: list[DomainEvent] = []
        self._results: list[tuple[StockResult, int, int]] = []  # (result, first row, end row)
        #: (SKUs, policy rules) a caller already read in this transaction (see project_channels)
        self.policies: tuple[frozenset[str], dict] | None = None
        #: claims (SQLite): counters bumped for what this batch changes, with or without the
        #: cache (a batch without it leaves the SKUs it changed stale in the cache too)
        self.claims = store.claims
        self._validated: set[str] = set()  # SKUs checked against their bucket's counter (claims)
        self._to_create: list[PositionKey] = []  # positions to insert empty at flush (claims)
        self._read_skus: set[str] = set()  # SKUs whose positions came from the database, not the cache
        self._read_keys: list[PositionKey] = []  # single positions that did
        #: PostgreSQL: read positions FOR UPDATE. A writer holding claims on the batch's SKUs
        #: turns it off: no other claiming writer touches them, and a claimless one is
        #: caught by the version every update checks (the batch is retried); locking rows
        #: it only compares cost the server a write per row.
        self.lock_rows = True

    def load(self, keys: AbstractSet[PositionKey], skus: AbstractSet[str] = frozenset(),
             whole_skus: AbstractSet[str] = frozenset()) -> None:
        """Lock positions: the named keys, plus every existing position of `whole_skus`
        (what routing needs to compare locations)."""
        all_skus = {k[0] for k in keys} | set(skus) | set(whole_skus)
        self.known |= self.store._known_skus(self.conn, all_skus - self.known)
        if self.claims is not None and self.cache is not None and not all_skus <= self._validated:
            fresh = all_skus - self._validated
            self.cache.revalidate(fresh, [c.channel for c in self.cfg.channels], self.cfg.online,
                                  [c.channel for c in self.cfg.channels if c.per_location])
            self._validated |= fresh
        wanted = sorted(k for k in keys if k[0] in self.known and k[1] in self.cfg.online and k not in self.positions)
        if whole_skus:
            self._whole_skus |= set(whole_skus)
            cache = self.cache
            if cache is None:
                found = positions_by_sku(self.conn, whole_skus, for_update=self.lock_rows)
            else:
                found = positions_by_sku(self.conn, [x for x in whole_skus if x not in cache.complete], for_update=True)
                self._read_skus.update(whole_skus)
                self._read_skus.difference_update(cache.complete)
                found.update((x, cache.positions[x]) for x in whole_skus if x in cache.complete)
            for sku, by_loc in found.items():
                for loc, pos in by_loc.items():
                    if (sku, loc) not in self.positions:
                        self.positions[(sku, loc)] = self.original[(sku, loc)] = pos
                        self._by_sku.setdefault(sku, {})[loc] = pos
            wanted = [k for k in wanted if k not in self.positions]
        if wanted:
            got = self.store._lock_positions(self.conn, wanted, self.cache,
                                             self._to_create if self.claims is not None else None, self.lock_rows)
            self.positions.update(got)
            self.original.update(got)
            self._read_keys.extend(got)
            for (sku, loc), pos in got.items():
                self._by_sku.setdefault(sku, {})[loc] = pos

    def positions_of(self, sku: str) -> dict[str, Position]:
        """The loaded positions of a SKU by location, as they stand in this batch (a copy:
        routing asks this for every line of every order)."""
        return dict(self._by_sku.get(sku, ()))

    def check_known(self, keys, skus=()) -> None:
        for sku, loc in keys:
            if sku not in self.known:
                raise UnknownReference(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")
            if loc not in self.cfg.online:
                raise UnknownReference(f"unknown location {loc!r}", field="location", code="unknown_location")
        for sku in skus:
            if sku not in self.known:
                raise UnknownReference(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")

    def apply(self, plan, *, allow_oversell: bool = False, idempotency_key: str | None = None) -> StockResult:
        """Apply one plan in memory, all or nothing; raises LedgerError if refused."""
        local: dict[PositionKey, Position] = {}
        rows: list[tuple] = []
        after: list[Position] = []
        oversells = []
        for m in plan.movements:
            key = (m.sku, m.location)
            if key not in self.positions:
                self.check_known([key])
                self.load({key})
            before = local.get(key, self.positions[key])
            applied = apply_movement(before, m, allow_oversell=allow_oversell)
            local[key] = applied.position
            after.append(applied.position)
            if applied.oversold:
                oversells.append((len(rows), m.sku, m.location, applied.oversold, m.channel))
            rows.append((  # MOVEMENT_COLUMNS
                m.sku, m.location, m.quantity, m.from_state.value, m.to_state.value, m.reason.value,
                m.reference, m.channel, m.actor, idempotency_key, applied.position.version,
                applied.oversold, m.occurred_at or self.now,
            ))
        for sku in plan.demand:
            if sku not in self.known:
                self.known |= self.store._known_skus(self.conn, {sku})
                self.check_known((), (sku,))
        # Accepted: merge into the batch.
        base = len(self.movement_rows)
        self.movement_rows.extend(rows)
        self.movement_positions.extend(after)
        self.oversells.extend((base + i, *rest) for i, *rest in oversells)
        for sku, d in plan.demand.items():
            self._undo.append(("demand", sku, self.demand_delta.get(sku)))
            self.demand_delta[sku] = self.demand_delta.get(sku, 0) + d
        for key in local:
            self._undo.append(("position", key, self.positions[key]))
        self.positions.update(local)
        self._touched.update(local)
        for (sku, loc), pos in local.items():
            self._by_sku[sku][loc] = pos
        res = StockResult(oversold=sum(o[3] for o in oversells), balances=local)
        self._results.append((res, base, base + len(rows)))
        return res

    def name_actor(self, mark: tuple[int, int, int, int, int], actor: str) -> None:
        """The movements made since `mark` (one job's) carry `actor` where they name
        no one: an order taken in through the API is its client's doing."""
        rows = self.movement_rows
        for i in range(mark[1], len(rows)):
            row = rows[i]
            if row[_ACTOR] is None:
                rows[i] = (*row[:_ACTOR], actor, *row[_ACTOR + 1:])

    def checkpoint(self) -> tuple[int, int, int, int, int]:
        """A mark to roll the in-memory batch back to (see `rollback`)."""
        return (len(self._undo), len(self.movement_rows), len(self.oversells), len(self._results), len(self.events))

    def rollback(self, mark: tuple[int, int, int, int, int]) -> None:
        """Undo every `apply` since `mark`: a composite use case that fails half-way
        (one order of a batch) leaves no trace, while the rest of the batch stands."""
        undo_len, rows, oversells, results, events = mark
        while len(self._undo) > undo_len:
            kind, key, previous = self._undo.pop()
            if kind == "position":
                self.positions[key] = previous
                self._by_sku[key[0]][key[1]] = previous
            elif previous is None:
                self.demand_delta.pop(key, None)
            else:
                self.demand_delta[key] = previous
        del self.movement_rows[rows:]
        del self.movement_positions[rows:]
        del self.oversells[oversells:]
        del self._results[results:]
        del self.events[events:]

    def flush(self, write: Write | None = None) -> None:
        """Write the batch: now, or, given `write`, as statements staged with it (a batch
        computed outside the write turn; everything else is computed here)."""
        conn, now = self.conn, self.now
        write = write or write_now(conn)
        rows = self.movement_rows
        ids = next_ids(conn, "movements", len(rows), self.claims)
        if rows:
            batch_time = db_time(conn, now)  # most movements happen "now": format it once
            write(insert_many, "movements", (*MOVEMENT_COLUMNS, "id"),
                  [(*r[:-1], batch_time if r[-1] is now else db_time(conn, r[-1]), mid) for r, mid in zip(rows, ids)])
        positions, original = self.positions, self.original
        changed = {k: positions[k] for k in sorted(self._touched) if positions[k] is not original.get(k)}
        if self._to_create:
            write(insert_ignore_many, "positions", ("sku", "location"), sorted(set(self._to_create)))
        if changed:
            write(update_positions, [
                (v.on_hand, v.reserved, v.damaged, v.quality_control, v.incoming, v.in_transit, v.version,
                 k[0], k[1], self.original[k].version)
                for k, v in changed.items()
            ])
        cache = self.cache
        if cache is not None:
            # What the cache does not hold as the batch leaves it: changed or read here.
            kept = {k: positions[k] for k in changed}
            for sku in self._read_skus:
                for loc, pos in self._by_sku.get(sku, {}).items():
                    kept[(sku, loc)] = pos
            for k in self._read_keys:
                kept[k] = positions[k]
            cache.keep_positions(kept, self._whole_skus, list(self._by_sku))
        claims = self.claims
        if claims is not None:
            # Other writers' caches learn of these changes from the bucket counters (a
            # stamp would empty them all); counted before the commit, so a failed commit
            # only makes them read again.
            claims.bump([sku_bucket(x) for x in {k[0] for k in changed} | set(self.demand_delta)])
            if cache is not None:
                cache.mark_seen(self._validated)
        else:
            write(stamp_stock_epoch, self.stamp)
        events: list[DomainEvent] = []
        stock_changes = [
            (row[0], row[1], mid, row[5], row[3], row[4], row[2], pos.on_hand, pos.reserved, pos.damaged,
             pos.quality_control, pos.incoming, pos.in_transit, pos.version)
            for row, mid, pos in zip(rows, ids, self.movement_positions)
        ]
        if self.oversells:
            incident_rows = []
            for row_idx, sku, loc, units, ch in self.oversells:
                mid = ids[row_idx]
                incident_rows.append({"sku": sku, "location": loc, "units": units, "movement_id": mid, "channel": ch, "occurred_at": now})
                events.append(OversellDetected(sku=sku, location=loc, units=units, movement_id=mid, channel=ch))
            write(insert_incidents, incident_rows)
        touched = {k[0] for k in changed} | set(self.demand_delta)
        if touched:
            loaded = {x: self.positions_of(x) for x in self._whole_skus & touched}
            events.extend(project_channels(conn, self.cfg, changed, self.original, self.demand_delta, touched, now,
                                           loaded_whole=loaded, known=cache.projection if cache is not None else None,
                                           policies=self.policies, write=write))
        write_outbox(conn, [*events, *self.events], now, stock_changes, write)
        for res, start, end in self._results:
            res._rows, res._ids = rows[start:end], ids[start:end]  # dicts only if asked (movements)
