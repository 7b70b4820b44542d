"""How a background job's work grows with its input, counted, never timed.

A job that is linear in its input does about four times the work on four times the
input; a quadratic loop does sixteen times. `measure` runs a job and counts what it did:
SQL statements, the rows it sent, the most rows one statement carried, the most rows one
write transaction wrote (how long it held SQLite's write turn), SKU comparisons made in
Python (`CountingSku`, a str that counts them) and the peak of traced memory. Tests run a
job at two sizes and compare the counts (`assert_linear`, `assert_flat`); seconds are
never compared, the machine is shared and timings flap.

To add a job: build its input with `Estate` (SKUs listed on a per-location and an
aggregate channel, with availability and confirmed levels), or write your own rows, run
the job inside `with measure(engine) as counts:` at two sizes, and assert.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t


class CountingSku(str):
    """A SKU that counts how often Python compares it (==, <, ...): a job handed these
    reveals a list scan or a nested loop over its keys that SQL counts cannot see."""

    comparisons = 0

    def __eq__(self, other):
        CountingSku.comparisons += 1
        return str.__eq__(self, other)

    def __ne__(self, other):
        CountingSku.comparisons += 1
        return str.__ne__(self, other)

    def __lt__(self, other):
        CountingSku.comparisons += 1
        return str.__lt__(self, other)

    def __le__(self, other):
        CountingSku.comparisons += 1
        return str.__le__(self, other)

    def __gt__(self, other):
        CountingSku.comparisons += 1
        return str.__gt__(self, other)

    def __ge__(self, other):
        CountingSku.comparisons += 1
        return str.__ge__(self, other)

    __hash__ = str.__hash__


@dataclass
class Counts:
    statements: int = 0  # cursor executions
    rows_sent: int = 0  # parameter sets over all statements
    max_rows_per_statement: int = 0
    write_transactions: int = 0  # committed transactions that wrote anything
    max_rows_per_write: int = 0  # rows inserted, updated or deleted by one transaction
    comparisons: int = 0  # CountingSku comparisons
    peak_bytes: int = 0  # tracemalloc peak (only when measure(..., memory=True))
    _open: dict[int, int] = field(default_factory=dict, repr=False)


_WRITES = (sa.Insert, sa.Update, sa.Delete)


@contextlib.contextmanager
def measure(engine: Engine, *, memory: bool = False) -> Iterator[Counts]:
    """Count what runs on `engine` (any thread) while the block runs."""
    counts = Counts()

    def on_cursor(conn, cursor, statement, parameters, context, executemany):
        counts.statements += 1

    def on_execute(conn, clause, multiparams, params, options):
        n = len(multiparams) if multiparams else 1
        counts.rows_sent += n
        counts.max_rows_per_statement = max(counts.max_rows_per_statement, n)
        if isinstance(clause, _WRITES) or (isinstance(clause, sa.TextClause) and _is_write(clause.text)):
            counts._open[id(conn)] = counts._open.get(id(conn), 0) + n

    def on_commit(conn):
        n = counts._open.pop(id(conn), 0)
        if n:
            counts.write_transactions += 1
            counts.max_rows_per_write = max(counts.max_rows_per_write, n)

    def on_rollback(conn):
        counts._open.pop(id(conn), None)

    listeners = [("before_cursor_execute", on_cursor), ("before_execute", on_execute),
                 ("commit", on_commit), ("rollback", on_rollback)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    before = CountingSku.comparisons
    if memory:
        gc.collect()  # what earlier work left for the collector is not this job's
        tracemalloc.start()
    try:
        yield counts
    finally:
        if memory:
            counts.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        counts.comparisons = CountingSku.comparisons - before
        for name, fn in listeners:
            event.remove(engine, name, fn)


def _is_write(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}


def assert_linear(small: Counts, large: Counts, factor: float, *, slack: float = 1.3,
                  what: tuple[str, ...] = ("statements", "rows_sent", "comparisons")) -> None:
    """Each count grew at most `factor` x `slack` from the small run to the large one."""
    for name in what:
        a, b = getattr(small, name), getattr(large, name)
        assert b <= max(a, 1) * factor * slack, f"{name}: {a} -> {b} on {factor}x the input (super-linear)"


def assert_flat(small: Counts, large: Counts, *, slack: float = 1.25,
                what: tuple[str, ...] = ("max_rows_per_statement", "max_rows_per_write")) -> None:
    """What one statement or one write transaction carried did not grow with the input."""
    for name in what:
        a, b = getattr(small, name), getattr(large, name)
        assert b <= max(a, 1) * slack, f"{name}: {a} -> {b}: grows with the input instead of staying bounded"


# -- the estate -------------------------------------------------------------------------------

SHOP, MARKET = "shop", "market"  # a per-location channel, and one that shows a total


@dataclass
class Estate:
    """`skus` SKUs stocked at `locations` locations, listed on SHOP (per location, every
    location mapped; all but the last feed it) and on MARKET (a total). Each figure is
    unconfirmed, confirmed above, confirmed below or confirmed equal to the hub's, in turn
    (`every`-th key each), so a sweep finds pushes, holds raises back and skips the rest."""

    engine: Engine
    skus: int
    locations: int
    levels: bool = True  # False: nothing confirmed yet (a first start after an import)
    sku_names: list[str] = field(default_factory=list)
    location_codes: list[str] = field(default_factory=list)

    def build(self) -> Estate:
        now = datetime.now(UTC)
        self.sku_names = [f"SKU-{n:07d}" for n in range(self.skus)]
        self.location_codes = [f"L{n:03d}" for n in range(self.locations)]
        with self.engine.begin() as conn:
            conn.execute(t.locations.insert(), [{"code": c, "name": c, "kind": "store", "capabilities": ["ship"],
                                                 "groups": []} for c in self.location_codes])
            pid = conn.execute(t.products.insert().values(title="Estate")).inserted_primary_key[0]
            conn.execute(t.channels.insert(), [{"code": SHOP, "name": "Shop", "kind": "shopify", "per_location": True},
                                               {"code": MARKET, "name": "Market", "kind": "amazon", "per_location": False}])
            conn.execute(t.channel_locations.insert(), [{"channel": SHOP, "location": c, "external_location_id": f"gid:{c}"}
                                                        for c in self.location_codes])
            conn.execute(t.channel_feeds.insert(), [{"channel": ch, "location": c, "mode": "ship"}
                                                    for ch in (SHOP, MARKET) for c in self.location_codes[:-1]])
        for start in range(0, self.skus, 2000):
            names = self.sku_names[start:start + 2000]
            av, lv = [], []
            for n, sku in enumerate(names, start):
                keys = [(SHOP, loc, 3 + (n + j) % 7) for j, loc in enumerate(self.location_codes)]
                keys.append((MARKET, "", 10 + n % 5))
                for j, (ch, loc, qty) in enumerate(keys):
                    av.append({"channel": ch, "sku": sku, "location": loc, "quantity": qty, "updated_at": now})
                    kind = (n + j) % 4  # 0: unconfirmed, 1: above, 2: below, 3: equal
                    if kind and self.levels:
                        lv.append({"channel": ch, "sku": sku, "location": loc, "confirmed": qty + (1, -1, 0)[kind - 1],
                                   "confirmed_at": now, "observed_at": now})
            with self.engine.begin() as conn:
                conn.execute(t.variants.insert(), [{"product_id": pid, "sku": s, "title": s} for s in names])
                conn.execute(t.channel_listings.insert(), [{"channel": ch, "sku": s, "external_id": f"{ch}:{s}"}
                                                           for ch in (SHOP, MARKET) for s in names])
                conn.execute(t.channel_availability.insert(), av)
                if lv:
                    conn.execute(t.channel_levels.insert(), lv)
        return self

    def clear(self) -> None:
        tables = (t.sync_intents, t.channel_levels, t.channel_availability, t.channel_listings, t.channel_feeds,
                  t.channel_locations, t.channels, t.variants, t.products, t.locations, t.outbox)
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(table.delete())


class Pusher:
    """Stands for a channel's pusher where a job only asks what it sells (never pushes)."""

    def __init__(self, per_location: bool) -> None:
        self.per_location = per_location

    def push(self, items, mapping):
        raise AssertionError("this job must not push")


def intents(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.sync_intents)).scalar()
