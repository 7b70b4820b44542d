"""What the SQLite stock writer remembers of the stock tables between its own
transactions, so that a batch does not read back what the previous batch wrote.

An order batch reads every position of the SKUs it routes, then the queue, pools and
channel figures of the SKUs it changed; with a single writer those rows are exactly what
the writer itself wrote a moment ago. Reading them again was a fifth of the writer's
time. The cache holds them (positions by SKU, the queue by SKU, pools and channel
figures by key) and is trusted only while nobody else has written stock since:

- every transaction that writes positions, the queue, pools or channel figures stamps
  the one-row table `stock_epoch` (`stamp_stock_epoch`): the stock writer with its own
  token, anyone else (a projection rebuild, another process's writer) with a fresh one;
- each writer transaction begins by reading the stamp (`begin`): if it is not this
  writer's token, or the channel configuration changed, the cache starts empty;
- a transaction that fails leaves the cache empty (`forget`), since what it staged may
  not have been committed;
- while another writer keeps stamping (two processes taking turns on one file), the cache
  rests: keeping it would be work thrown away at every turn.

SQLite only: its writers are serialised (BEGIN IMMEDIATE), so a stamp read at the start
of a write transaction stays true until that transaction ends. PostgreSQL writers run
side by side under row locks, and there the writer reads what it locks.

With claims (see claims.py), several writers share the file and take turns all the
time, so stamps would empty every cache at every turn. There a writer with claims never
stamps: another claims writer's changes show as the change counters of the SKU buckets
it changed, and at each batch the cache forgets exactly the SKUs whose bucket moved
since it last saw it (`revalidate`). A stamp still means a writer without claims (a
rebuild, a script) changed anything at all, and empties the cache; found between a
batch's computing and its writing, it fails the batch (`unchanged_since_begin`).

Positions also carry their version, and every position update checks it, so even a
missed stamp could not turn into a lost update: it would fail the batch, which empties
the cache and retries. The cache is bounded (`max_entries` per map): past that it drops
the SKUs it kept longest ago, so a large catalog keeps its busy SKUs in flat memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from omnihub.adapters.db.bulk_sql import driver_connection, driver_rows, fetch_by_keys
from omnihub.adapters.db.claims import sku_bucket
from omnihub.domain.channel_projection import TOTAL
from omnihub.domain.ledger import Position

#: rows kept per map before the oldest are dropped (a position entry is about 250 bytes:
#: 200,000 of them stay near 50 MB, well inside the hub's memory budget)
MAX_ENTRIES = 200_000
#: batches in a row finding another writer's stamp before the cache rests (see `begin`)
DORMANT_AFTER = 3


def stamp_stock_epoch(conn: Connection, stamp: str | None = None) -> None:
    """Record, in the caller's transaction, that stock tables changed (SQLite only:
    the stamp is what the stock writer's cache checks). `stamp` is the writer's token;
    anyone else leaves it None and writes a fresh one."""
    if conn.dialect.name != "sqlite":
        return
    raw = driver_connection(conn)
    value = stamp or uuid.uuid4().hex
    if raw.execute("UPDATE stock_epoch SET stamp = ? WHERE id = 1", (value,)).rowcount == 0:
        raw.execute("INSERT INTO stock_epoch (id, stamp) VALUES (1, ?)", (value,))


def _read_stamp(conn: Connection) -> object:
    rows = driver_rows(conn, "SELECT stamp FROM stock_epoch WHERE id = 1", ())
    return rows[0][0] if rows else None


def _read_missing(conn: Connection, table: str, key_columns: tuple[str, ...], value_column: str, known: dict,
                  keys: list[tuple]) -> None:
    """Read one value per key into `known` (keyed by the key, or by its only column), 0
    for a row that does not exist."""
    if not keys:
        return
    got = {r[:-1]: r[-1] for r in fetch_by_keys(conn, table, (*key_columns, value_column), key_columns, keys)}
    for k in keys:
        known[k if len(k) > 1 else k[0]] = got.get(tuple(k), 0)


class ProjectionRows:
    """The queue, pools and channel figures a batch's projection works on, read through:
    what is already here is not read again, what is read is kept (a row that does not
    exist is kept as 0, which is what the projection takes it for)."""

    def __init__(self) -> None:
        self.demand: dict[str, int] = {}  # SKU → units queued
        self.pools: dict[tuple[str, str], int] = {}  # (channel, SKU) → pool
        self.shown: dict[tuple[str, str, str], int] = {}  # (channel, SKU, location) → shown
        self.shown_complete: set[tuple[str, str]] = set()  # (channel, SKU) with every row in `shown`

    @property
    def size(self) -> int:
        return len(self.demand) + len(self.pools) + len(self.shown)

    def read_demand(self, conn: Connection, skus: list[str]) -> None:
        _read_missing(conn, "sku_demand", ("sku",), "queued", self.demand, [(x,) for x in skus if x not in self.demand])

    def read_totals(self, conn: Connection, keys: list[tuple[str, str]]) -> None:
        """Each (channel, SKU)'s pool and shown total: one row, the total row (location
        ''), read once for both. A value already here is kept."""
        missing = [(c, x, TOTAL) for c, x in keys if (c, x) not in self.pools or (c, x, TOTAL) not in self.shown]
        if not missing:
            return
        got = {(r[0], r[1]): (r[2], r[3]) for r in fetch_by_keys(
            conn, "channel_availability", ("channel", "sku", "quantity", "pool"), ("channel", "sku", "location"), missing)}
        for c, x, _ in missing:
            quantity, pool = got.get((c, x), (0, 0))
            if (c, x) not in self.pools:
                self.pools[(c, x)] = pool or 0
            if (c, x, TOTAL) not in self.shown:
                self.shown[(c, x, TOTAL)] = quantity

    def read_shown(self, conn: Connection, keys: list[tuple[str, str, str]]) -> None:
        _read_missing(conn, "channel_availability", ("channel", "sku", "location"), "quantity", self.shown,
                      [k for k in keys if k not in self.shown and (k[0], k[1]) not in self.shown_complete])

    def read_shown_whole(self, conn: Connection, keys: list[tuple[str, str]]) -> None:
        """Every row of these (channel, SKU): a per-location channel's figures spread together."""
        unknown = [k for k in keys if k not in self.shown_complete]
        if unknown:
            for r in fetch_by_keys(conn, "channel_availability", ("channel", "sku", "location", "quantity"),
                                   ("channel", "sku"), unknown):
                self.shown[(r[0], r[1], r[2])] = r[3]
            self.shown_complete.update(unknown)


class WriterCache:
    """Positions and projection rows as this writer last committed them."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.token = uuid.uuid4().hex
        self.max_entries = max_entries
        self._cfg: object | None = None
        self.hits = 0  # batches that began with a valid cache (for benchmarks and tests)
        self.misses = 0
        self._foreign_in_row = 0  # batches in a row that found another writer's stamp
        self.claims: Any = None  # the writer's FileClaims, when it has them (see the module text)
        self._stamp_seen: object = None  # with claims: the stamp the cache was last valid under
        self.evicted = 0  # SKUs forgotten because another writer changed their bucket
        self._clear()

    def _clear(self) -> None:
        #: SKU → location → position; `complete` SKUs have every stored position here
        self.positions: dict[str, dict[str, Position]] = {}
        self.complete: set[str] = set()
        self.projection = ProjectionRows()
        self._positions = 0
        self.seen: dict[str, int] = {}  # with claims: SKU → its bucket's change count as cached

    def begin(self, conn: Connection, cfg: object, prefer: bool = True) -> bool:
        """At the start of a write transaction: keep the cache only if the last stamp is
        ours and the configuration is the one it was built with. Returns whether to use
        it in this transaction: not while another writer keeps stamping (two processes
        taking turns), where keeping it would be work thrown away at every turn; the
        first stamp of ours found again wakes it."""
        stamp = _read_stamp(conn)
        if self.claims is not None:
            return self._begin_with_claims(stamp, cfg, prefer)
        if stamp != self.token or cfg is not self._cfg:
            self.misses += 1
            self._foreign_in_row = self._foreign_in_row + 1 if stamp != self.token else 0
            if self.positions or self.projection.size:
                self._clear()
            self._cfg = cfg
            return self._foreign_in_row < DORMANT_AFTER
        self.hits += 1
        self._foreign_in_row = 0
        self._keep_within_bounds()
        return True

    def _keep_within_bounds(self) -> None:
        if self._positions > self.max_entries:
            self._trim_positions()
        if self.projection.size > self.max_entries:
            self.projection = ProjectionRows()  # cheap to read again, a SKU at a time

    def _begin_with_claims(self, stamp: object, cfg: object, prefer: bool) -> bool:
        """`prefer`: a batch under claims (orders), which keeps using the cache whatever
        the other writers do; other batches (ledger commands, claiming everything) leave
        it resting while other writers keep changing stock, as without claims: over
        positions spread thin, keeping it cost more than the little it found again."""
        self._foreign_in_row = self._foreign_in_row + 1 if self.claims.another_writer_changed_stock() else 0
        if stamp != self._stamp_seen or cfg is not self._cfg:
            self.misses += 1
            if self.positions or self.projection.size:
                self._clear()
            self._stamp_seen, self._cfg = stamp, cfg
        else:
            self.hits += 1
        if not prefer and self._foreign_in_row >= DORMANT_AFTER:
            return False
        self._keep_within_bounds()
        return True

    def unchanged_since_begin(self, conn: Connection) -> bool:
        """With claims: no writer without claims has stamped since `begin` (a batch
        computed outside the turn checks this once it holds the turn)."""
        return self.claims is None or _read_stamp(conn) == self._stamp_seen

    def revalidate(self, skus: Iterable[str], channels: Sequence[str], locations: Iterable[str],
                   per_location: Sequence[str]) -> None:
        """With claims held on these SKUs: forget what the cache knows of each one whose
        bucket another writer changed since this cache last saw it. `per_location`: the
        channels (of `channels`) with a figure per location."""
        claims = self.claims
        seen = self.seen
        for sku in skus:
            n = claims.changes(sku_bucket(sku))
            if seen.get(sku, -1) != n:
                seen[sku] = n
                self._evict(sku, channels, locations, per_location)

    def mark_seen(self, skus: Iterable[str]) -> None:
        """After this writer bumped the buckets it changed (before its commit)."""
        claims = self.claims
        for sku in skus:
            self.seen[sku] = claims.changes(sku_bucket(sku))

    def _evict(self, sku: str, channels: Sequence[str], locations: Iterable[str], per_location: Sequence[str]) -> None:
        by_loc = self.positions.pop(sku, None)
        rows = self.projection
        if by_loc is None and sku not in rows.demand:
            # Nothing kept (the projection reads a SKU's queue first, whatever else it
            # reads of it): the common case for a SKU forgotten once already.
            self.complete.discard(sku)
            return
        if by_loc is not None:
            self._positions -= len(by_loc)
            self.evicted += 1
        # A channel figure is kept only for a location whose position the cache kept too
        # (the projection reads and writes the figures of the positions a batch changed,
        # which the cache keeps), unless a channel's figures of the SKU were read whole:
        # then every location there is.
        self.complete.discard(sku)
        if by_loc is not None and not any((ch, sku) in rows.shown_complete for ch in per_location):
            locations = by_loc
        rows.demand.pop(sku, None)
        for ch in channels:
            rows.pools.pop((ch, sku), None)
            rows.shown_complete.discard((ch, sku))
            rows.shown.pop((ch, sku, TOTAL), None)
        for ch in per_location:  # an aggregate channel has its total only
            for loc in locations:
                rows.shown.pop((ch, sku, loc), None)

    def _trim_positions(self) -> None:
        """Drop the SKUs kept longest ago (`keep_positions` moves the ones it touches to the
        end) down to three quarters of the bound: a large catalog keeps its busy SKUs."""
        target = self.max_entries * 3 // 4
        n = self._positions
        drop = []
        for sku, by_loc in self.positions.items():
            if n <= target:
                break
            n -= len(by_loc)
            drop.append(sku)
        for sku in drop:
            del self.positions[sku]
            self.complete.discard(sku)
            self.seen.pop(sku, None)
        self._positions = n

    def forget(self) -> None:
        """The transaction failed: what it staged may not be in the database."""
        self._clear()
        self._cfg = None

    def position(self, key: tuple[str, str]) -> Position | None:
        by_loc = self.positions.get(key[0])
        return None if by_loc is None else by_loc.get(key[1])

    def keep_positions(self, positions: dict[tuple[str, str], Position], complete: set[str],
                       touched: Iterable[str] = ()) -> None:
        """Stage the batch's positions (as it leaves them; those it found here unchanged
        may be left out) and the SKUs it read whole; `touched`: every SKU of the batch."""
        for (sku, loc), pos in positions.items():
            by_loc = self.positions.get(sku)
            if by_loc is None:
                by_loc = self.positions[sku] = {}
            if loc not in by_loc:
                self._positions += 1
            by_loc[loc] = pos
        for sku in complete - self.complete:
            self.positions.setdefault(sku, {})
            self.complete.add(sku)
        for sku in {k[0] for k in positions} | complete | set(touched):  # most recently kept last (see _trim_positions)
            if sku in self.positions:
                self.positions[sku] = self.positions.pop(sku)
