"""Claims: which hub process may work on which SKUs, orders and customers right now.

One stock writer per process used the second core for nothing: everything an order costs
(routing, reserving, projecting, writing) ran inside the write transaction, and a second
process only queued behind it. With claims, several processes share one database and work
side by side. Before computing a batch of orders, a writer claims what the batch will
touch: the bucket of every SKU on its lines, of its (channel, external id) and of each
customer key (normalised email or phone, channel customer id). A job whose claims another
process holds waits for the writer's next batch; nothing else waits. Holding its claims,
a writer routes and reserves against its own cache and a read of the database, outside the
write turn, knowing nobody else changes those SKUs meanwhile; it takes the turn only to
write and commit, and gives the claims back after the commit.

Work that cannot name its keys up front (ledger commands, order operations, retries,
batches that would merge customers or count a location's daily capacity) claims
everything: it waits for every other claim to be given back and runs as before, the turn
held throughout.

SQLite (`FileClaims`): a claim is an open-file-description byte-range lock (Linux
`F_OFD_SETLK`) on a file beside the database: per open file, not per process, so two
writers of one process (two hubs on one file in a test) exclude each other too, and the
kernel drops a crashed process's claims with its files. The locked bytes themselves hold
the bucket's change counter (the file is mapped into memory): a writer bumps the counter
of every bucket it changed before it commits, and a writer that claims a bucket and finds
its counter moved forgets what its cache knew of that bucket's SKUs. Order, customer and
movement ids come from counters in the same file, so ids are handed out without the turn.

PostgreSQL (`PgClaims`): session advisory locks on the writer's own connection, tried for
the whole batch in one round trip. There the writer reads what it locks (no cache), and
row locks keep every write correct with or without claims; claims only keep two
processes' batches from waiting on each other's rows.

Correctness never rests on a claim alone: every position update still checks the version
it read (a stale cache fails its batch, which is retried), and unique keys still refuse a
second order or customer for one key.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import zlib
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: buckets per kind of key: collisions only make two unrelated keys wait for each other
BUCKETS = 1 << 18
_MASK = BUCKETS - 1
SKU, ORDER, CUSTOMER = 0, 1, 2
_KINDS = 3
_SLOT = 8  # bytes per bucket: its change counter
_CLAIMED_BYTES = _KINDS * BUCKETS * _SLOT  # the part a claim on everything locks
#: id counters after the buckets, one slot each
ID_SLOTS = {"orders": 0, "customers": 1, "movements": 2}
_LAST_WRITER = _CLAIMED_BYTES + _SLOT * 7  # the token of the writer that changed stock last
_FILE_BYTES = _CLAIMED_BYTES + _SLOT * 8
_COUNTER = struct.Struct("<Q")
_PG_NAMESPACE = 0x6F6D6E69  # "omni": the first key of every omnihub advisory lock


class ClaimsTooNarrow(Exception):
    """A batch computed under claims found it needs more than it claimed (a customer
    merge, a line removed from an SKU nobody claimed...): the writer runs it again with a
    claim on everything."""


def _bucket(kind: int, text: str) -> int:
    """A bucket number, the same in every process (str hashes are salted per process)."""
    return kind * BUCKETS + (zlib.crc32(text.encode()) & _MASK)


def sku_bucket(sku: str) -> int:
    return _bucket(SKU, sku)


def order_bucket(channel: str, external_id: str) -> int:
    return _bucket(ORDER, f"{channel}\x1f{external_id}")


def customer_bucket(key: str) -> int:
    return _bucket(CUSTOMER, key)


def job_buckets(order_key: tuple[str, str], skus: Iterable[str], customer_keys: Iterable[str]) -> list[int]:
    """The buckets of what one job touches (batch_jobs.TouchedKeys)."""
    return [order_bucket(*order_key), *[sku_bucket(x) for x in skus], *[customer_bucket(k) for k in customer_keys]]


def file_claims_supported() -> bool:
    """Open-file-description locks are Linux's (3.15+); elsewhere a writer works without
    claims, as the only writer of its file taking the turn for whole batches."""
    return hasattr(fcntl, "F_OFD_SETLK")


class FileClaims:
    """Claims on a SQLite database's SKUs, orders and customers (see the module text)."""

    def __init__(self, database_file: str) -> None:
        self.path = f"{database_file}-claims"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size < _FILE_BYTES:
            os.ftruncate(self._fd, _FILE_BYTES)  # zeros: every counter starts at 0
        self._map = mmap.mmap(self._fd, _FILE_BYTES)
        self.held: set[int] = set()
        self.everything = False
        self.last_conflict: int | None = None  # a bucket the last failed claim found taken
        self.token = int.from_bytes(os.urandom(7), "little") + 1  # this writer, in the last-writer slot

    # -- locks -----------------------------------------------------------------------------
    def _lock(self, start: int, length: int, *, kind: int = fcntl.F_WRLCK, wait: bool = False) -> bool:
        # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)
        arg = struct.pack("hh4xqqi4x", kind, os.SEEK_SET, start, length, 0)
        try:
            fcntl.fcntl(self._fd, fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK, arg)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def try_claim(self, buckets: Iterable[int]) -> bool:
        """Claim every one of `buckets`, or none of those not already held."""
        got: list[int] = []
        for b in sorted(set(buckets) - self.held):
            if not self._lock(b * _SLOT, _SLOT):
                self.last_conflict = b
                for g in got:
                    self._lock(g * _SLOT, _SLOT, kind=fcntl.F_UNLCK)
                return False
            got.append(b)
        self.held.update(got)
        return True

    def try_claim_jobs(self, jobs: Sequence[Iterable[int]]) -> list[bool]:
        """For each job's buckets, in turn: whether all of them are now held."""
        return [self.try_claim(keys) for keys in jobs]

    def wait_for(self, bucket: int) -> None:
        """Block until `bucket` is free (its holder committed), then let it go. Called
        only while holding nothing, so two writers can never wait for each other."""
        self._lock(bucket * _SLOT, _SLOT, wait=True)
        self._lock(bucket * _SLOT, _SLOT, kind=fcntl.F_UNLCK)

    def claim_everything(self) -> None:
        """Wait until no other writer holds any claim, then hold them all."""
        self._lock(0, _CLAIMED_BYTES, wait=True)
        self.everything = True

    def holds(self, bucket: int) -> bool:
        return self.everything or bucket in self.held

    def release(self) -> None:
        if self.everything or self.held:
            self._lock(0, _CLAIMED_BYTES, kind=fcntl.F_UNLCK)
        self.held.clear()
        self.everything = False

    # -- change counters -------------------------------------------------------------------
    def changes(self, bucket: int) -> int:
        """How many times a writer changed this bucket (read while holding it)."""
        return _COUNTER.unpack_from(self._map, bucket * _SLOT)[0]

    def bump(self, buckets: Iterable[int]) -> None:
        """Count a change to each bucket (the caller holds them; before its commit), and
        sign the change as this writer's."""
        for b in set(buckets):
            _COUNTER.pack_into(self._map, b * _SLOT, self.changes(b) + 1)
        _COUNTER.pack_into(self._map, _LAST_WRITER, self.token)

    def another_writer_changed_stock(self) -> bool:
        """Whether the last change to stock was another writer's."""
        last: int = _COUNTER.unpack_from(self._map, _LAST_WRITER)[0]
        return last not in (0, self.token)

    # -- ids -------------------------------------------------------------------------------
    def allocate_ids(self, table: str, n: int, floor: int) -> list[int]:
        """`n` new primary keys for `table`, never handed out before by any process and
        at least `floor` (the table's MAX(id) + 1: a fresh claims file, or rows written
        without claims, start from there)."""
        if n == 0:
            return []
        at = _CLAIMED_BYTES + ID_SLOTS[table] * _SLOT
        self._lock(at, _SLOT, wait=True)
        try:
            first = max(_COUNTER.unpack_from(self._map, at)[0], floor)
            _COUNTER.pack_into(self._map, at, first + n)
        finally:
            self._lock(at, _SLOT, kind=fcntl.F_UNLCK)
        return list(range(first, first + n))

    def close(self) -> None:
        self.release()
        self._map.close()
        os.close(self._fd)


class PgClaims:
    """Claims on a PostgreSQL database: session advisory locks on a connection of the
    writer's own, outside any transaction (see the module text)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: sa.engine.Connection | None = None
        self.held: set[int] = set()
        self.everything = False
        self.last_conflict: int | None = None

    def _connection(self) -> sa.engine.Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def try_claim_jobs(self, jobs: Sequence[Iterable[int]]) -> list[bool]:
        """For each job's buckets: whether all of them are now held. One round trip for
        the batch; a bucket one job got stays held even if a neighbour failed."""
        wanted = sorted({b for keys in jobs for b in keys} - self.held)
        got = set(self.held)
        if wanted:
            rows = self._connection().exec_driver_sql(
                "SELECT k, pg_try_advisory_lock(%s, k) FROM unnest(%s::int[]) AS k", (_PG_NAMESPACE, wanted)
            ).all()
            got.update(k for k, ok in rows if ok)
            self.held.update(k for k, ok in rows if ok)
            self.last_conflict = next((k for k, ok in rows if not ok), None)
        return [set(keys) <= got for keys in jobs]

    def wait_for(self, bucket: int) -> None:
        """Block until `bucket` is free, then let it go (see FileClaims.wait_for)."""
        conn = self._connection()
        conn.exec_driver_sql("SELECT pg_advisory_lock(%s, %s)", (_PG_NAMESPACE, bucket))
        conn.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)", (_PG_NAMESPACE, bucket))

    def claim_everything(self) -> None:
        """Row locks already guard everything claimless work does on PostgreSQL."""
        self.everything = True

    def holds(self, bucket: int) -> bool:
        return self.everything or bucket in self.held

    def release(self) -> None:
        if self.held:
            try:
                self._connection().exec_driver_sql("SELECT pg_advisory_unlock_all()")
            except sa.exc.DBAPIError:
                # The session is gone (the server restarted, the connection broke) and its
                # locks with it; should it still be alive, ending it frees them all the same.
                self._discard()
        self.held.clear()
        self.everything = False

    def _discard(self) -> None:
        """Close the claims' connection for good (never back to the pool holding locks)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken: nothing more to free
                pass

    def close(self) -> None:
        try:
            self.release()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
