"""Group commit: one writer thread per process turns many callers' stock commands into
one transaction, then tells each caller its own result.

A single reservation costs a round trip, a lock and an fsync; a thousand of them in one
transaction cost barely more. Callers block on a Ticket, so the API stays synchronous and
every caller still learns whether *its* command succeeded. If a batch fails as a whole
on a conflict (deadlock, serialization failure, lost update), it is retried. If it fails
for anything else (a value the database refuses), or keeps failing, it is split in two and
each half runs again in a fresh transaction, down to the job at fault, which alone is
answered with its error: one poisoned command cannot take its neighbours down. The use
cases refuse such values before they reach a batch (domain/limits.py); the split is the
net under that, and costs the happy path nothing.

Several processes (or hubs) may share one database. Each writer then claims what a batch
of orders touches before computing it (see claims.py): jobs another writer holds wait for
the next batch, the rest is computed outside the write turn (`_run_phased`), and the turn
is held only to write and commit. Work that cannot name its keys claims everything.
What a job gives the writer, and all it sees of it, is the batch-job protocol
(batch_jobs.py).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

import structlog
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from omnihub.adapters.db.batch_jobs import JobKind, LedgerCommands, StagedTransaction
from omnihub.adapters.db.claims import ClaimsTooNarrow, FileClaims, PgClaims, file_claims_supported, job_buckets
from omnihub.adapters.db.stock_store import LostUpdate, StockResult, StockStore
from omnihub.adapters.db.engine import database_file, is_sqlite
from omnihub.adapters.db.wal_checkpoints import WAL_KEPT_BYTES, WalCheckpointer
from omnihub.adapters.db.writer_cache import WriterCache
from omnihub.adapters.db.write_turn import TURN_HELD, WriteTurn
from omnihub.domain.stock_commands import StockCommand
from omnihub.gc_tuning import no_collection_mid_batch

log = structlog.get_logger(__name__)

_STOP = object()
WRITER_CACHE_KIB = 65536  # the SQLite writer's page cache
WRITER_MMAP_BYTES = 1 << 30


def _detach(exc: BaseException) -> None:
    """Drop an error result's tracebacks (its own and its context's).

    A refused command's error is its caller's result, not a crash to debug, and its
    traceback holds the batch's frames, whose locals hold the results list, which holds the
    error: a reference cycle that kept every refused command's whole batch (positions,
    rows, commands, tickets) alive until the collector found it, and made each
    collection walk hundreds of thousands of objects."""
    seen = 0
    while exc is not None and seen < 10:
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1


def _sqlite_connection(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under the writer's own (SQLite only)."""
    return cast(sqlite3.Connection, conn.connection.dbapi_connection)


def _is_conflict(exc: BaseException, *, alone: bool) -> bool:
    """Whether a fresh transaction may succeed where this one failed: a lock or
    serialization conflict, a lost update, a connection that went away. A unique violation
    is one too when a single job meets it (another process inserted the same new order or
    customer in between: run again, the job finds the row); in a batch it is bisected,
    which isolates it just as well and retries the job alone."""
    if isinstance(exc, (OperationalError, LostUpdate)):
        return True
    return alone and isinstance(exc, IntegrityError)


class _Batch:
    """One event for a whole batch: waking a thousand callers one by one (a Future each)
    costs more GIL hand-offs than the transaction itself."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


class Ticket:
    """A caller's claim on the result of its command (a Future-like `result()`)."""

    __slots__ = ("_batch", "_value", "_writer")

    def __init__(self, writer: "StockWriter") -> None:
        self._batch: _Batch | None = None
        self._value = None
        self._writer = writer

    def done(self) -> bool:
        return self._batch is not None and self._batch.event.is_set()

    def result(self, timeout: float | None = None):
        """The command's StockResult (or whatever the job returns), or its exception
        object: errors are results here, one per caller, never raised for the batch."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        while self._batch is None:  # still queued: wait for the writer's next take
            taken = self._writer._taken
            if self._batch is not None:
                break
            if not taken.wait(left()) and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("the stock writer did not take the command in time")
        if not self._batch.event.wait(left()):
            raise TimeoutError("the stock writer did not answer in time")
        return self._value


class StockWriter:
    def __init__(self, engine: Engine, *, batch_max: int = 1000, on_commit=None) -> None:
        self.engine = engine
        # SQLite: the writer remembers what it last wrote (see writer_cache)
        self.store = StockStore(WriterCache() if is_sqlite(engine) else None)
        self.batch_max = batch_max
        self.on_commit = on_commit  # called after each commit (e.g. wake the outbox relay)
        self._ledger = LedgerCommands()  # the kind of jobs that name none (StockCommand)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.commands = 0
        self._taken = threading.Event()  # set (and replaced) each time a batch is taken
        self.write_turn = WriteTurn(engine)  # SQLite: writers of several processes queue in the kernel
        self._sqlite_file = database_file(engine)
        self._checkpointer: WalCheckpointer | None = None  # SQLite: started with the writer thread
        self._own: Connection | None = None  # SQLite: the writer's own connection (see _connection)
        #: what lets several writers share the database (see claims.py); None: this writer
        #: is alone (an in-memory database). Every writer on one database claims: one that
        #: did not would neither respect the others' claims nor bump their counters.
        self.claims: FileClaims | PgClaims | None = None
        if self._sqlite_file is not None and file_claims_supported():
            self.claims = FileClaims(self._sqlite_file)
            self.store.claims = self.claims
            if self.store.cache is not None:
                self.store.cache.claims = self.claims
        elif engine.dialect.name == "postgresql":
            self.claims = PgClaims(engine)
        self._deferred: list = []  # (job, ticket)s whose claims another writer held
        self._stopping = False  # the stop mark was taken: answer what was deferred, then end
        self.deferred = 0  # jobs that waited a batch for another writer's claims
        self.escalated = 0  # batches that found they needed a claim on everything
        #: where phased batches spent their time (for benchmarks): computing outside the
        #: turn, waiting for it, writing and committing in it
        self.phase_seconds = {"computing": 0.0, "waiting_for_turn": 0.0, "writing": 0.0}

    # -- running commands ------------------------------------------------------------------
    def _kind(self, job) -> JobKind:
        """What decides the job's batch (batch_jobs.BatchJob): its own `batch_kind` (the
        order pipeline, ERP chunks), or the ledger's for a stock command."""
        return getattr(job, "batch_kind", None) or self._ledger

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """PostgreSQL: a pooled connection per batch. SQLite: one connection for the
        writer's life, so its page cache (64 MiB) stays warm from batch to batch, where a
        pooled one comes back cold whenever another connection wrote in between; and
        SQLite's own checkpoints stay off on it (the WalCheckpointer thread does them)."""
        if self._sqlite_file is None:
            with self.engine.connect() as conn:
                yield conn
            return
        if self._own is None or self._own.closed or self._own.invalidated:
            conn = self.engine.connect().execution_options(**{TURN_HELD: True})  # its turn spans a batch
            raw = _sqlite_connection(conn)
            raw.execute("PRAGMA wal_autocheckpoint=0")
            raw.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            raw.execute(f"PRAGMA mmap_size={WRITER_MMAP_BYTES}")
            raw.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")  # a log that ran long gives space back
            self._own = conn
        yield self._own

    def _release_connection(self) -> None:
        if self._own is not None:
            self._own.invalidate()  # its settings are the writer's own: never back to the pool
            self._own.close()
            self._own = None

    def run(self, commands: Sequence[StockCommand], *, phased: bool = False,
            attempts: int = 5) -> list[StockResult | Exception]:
        """Run jobs of one kind in this thread, in one transaction (retried on conflicts).
        `phased`: order jobs under claims: on SQLite computed before the write turn, on
        PostgreSQL in one transaction that locks no position it only reads.

        A batch that fails for anything but a conflict (a value the database refuses, a
        bug one job's input trips) is split in two and each half run again in a fresh
        transaction, down to the job at fault, which alone is answered with its error:
        one bad job costs its neighbours about 2·log2(n) extra transactions, never their
        answers. The common path pays nothing for this (no savepoint per job)."""
        kind = self._kind(commands[0])
        attempt = 0
        while True:
            attempt += 1
            self.store.prefer_cache = phased or self.claims is None
            try:
                try:
                    if phased and self._sqlite_file is not None:
                        results = self._run_phased(kind, commands)
                    elif phased:  # PostgreSQL: one transaction, under claims
                        with self._connection() as conn, conn.begin():
                            tx = StagedTransaction(conn, self.store, self.claims)
                            results = kind.decide(tx, commands)
                            tx.run_staged()
                    else:
                        with self._own_turn(), self._connection() as conn, conn.begin():
                            tx = StagedTransaction(conn, self.store)
                            results = kind.decide(tx, commands)
                            tx.run_staged()
                except ClaimsTooNarrow as narrow:
                    self.escalated += 1
                    log.info("order batch claims everything", reason=str(narrow))
                    claims = self.claims
                    assert claims is not None  # only a batch decided under claims finds them too narrow
                    claims.release()  # held while waiting, they could deadlock two writers
                    claims.claim_everything()
                    phased = False
                    attempt -= 1
                    continue
                except BaseException:
                    if self.store.cache is not None:
                        self.store.cache.forget()  # what the failed transaction staged is not in the database
                    raise
                if self._checkpointer is not None:
                    self._checkpointer.committed()
                self.batches += 1
                self.commands += len(commands)
                if self.on_commit:
                    self.on_commit()
                return results
            except Exception as exc:
                conflict = _is_conflict(exc, alone=len(commands) == 1)
                if conflict and attempt < (attempts if not isinstance(exc, IntegrityError) else min(attempts, 2)):
                    log.warning("stock batch retried", attempt=attempt, error=str(exc)[:200])
                    time.sleep(0.005 * attempt)
                    continue
                if len(commands) == 1:
                    log.warning("stock job failed", kind=type(exc).__name__, error=str(exc)[:200])
                    return [exc]
                log.warning("stock batch failed: isolating the job at fault", jobs=len(commands),
                            kind=type(exc).__name__, error=str(exc)[:200])
                # A conflict that outlived its retries gets one retry more per half, not five.
                sub = 2 if conflict else attempts
                half = len(commands) // 2
                return [*self.run(commands[:half], phased=phased, attempts=sub),
                        *self.run(commands[half:], phased=phased, attempts=sub)]

    @contextmanager
    def _own_turn(self) -> Iterator[None]:
        """With claims on SQLite the loop does not hold the turn: a transaction takes it."""
        if self.claims is None or self._sqlite_file is None:
            yield
            return
        with self.write_turn():
            if self._checkpointer is not None:
                self._catch_up_log()
            yield

    def _run_phased(self, kind: JobKind, jobs: Sequence) -> list:
        """Decide in a read transaction, outside the turn; then take the turn to write."""
        with self._connection() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            t0 = time.perf_counter()
            tx = StagedTransaction(conn, self.store, self.claims)
            try:
                with conn.begin():
                    results = kind.decide(tx, jobs)
            finally:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            t1 = time.perf_counter()
            with self._own_turn():
                t2 = time.perf_counter()
                with conn.begin():
                    if self.store.cache is not None and not self.store.cache.unchanged_since_begin(conn):
                        raise LostUpdate("a writer without claims changed stock while this batch was computed")
                    tx.run_staged()
                t3 = time.perf_counter()
        seconds = self.phase_seconds
        seconds["computing"] += t1 - t0
        seconds["waiting_for_turn"] += t2 - t1
        seconds["writing"] += t3 - t2
        return results

    def _claim(self, items: list) -> tuple[list, bool]:
        """Claim what the taken jobs touch; returns the jobs to run now and whether they
        run phased. Jobs whose claims another writer holds wait in `_deferred`, first in
        line for the next batch."""
        claims = self.claims
        assert claims is not None
        if not items:
            return items, True
        keys = [getattr(job, "touched_keys", None) for job, _ in items]
        if any(k is None for k in keys):  # work that cannot name its keys
            claims.claim_everything()
            return items, False
        wanted = [job_buckets(*k()) for k in keys]  # type: ignore[misc]
        ok = claims.try_claim_jobs(wanted)
        if not any(ok) and claims.last_conflict is not None:
            # Nothing free: sleep until the writer holding a bucket we met commits (holding
            # nothing ourselves, so never in a cycle), rather than spin while it works.
            claims.release()
            claims.wait_for(claims.last_conflict)
            ok = claims.try_claim_jobs(wanted)
        now = [it for it, y in zip(items, ok) if y]
        later = [it for it, y in zip(items, ok) if not y]
        self.deferred += len(later)
        self._deferred = later
        return now, True

    def submit(self, command: StockCommand) -> Ticket:
        self._ensure_started()
        ticket = Ticket(self)
        self._queue.put((command, ticket))
        return ticket

    def answered(self, value) -> Ticket:
        """A ticket answered at once, never queued: a job refused before it reached a
        batch (its error is its result, as for any job)."""
        ticket = Ticket(self)
        done = _Batch()
        ticket._batch, ticket._value = done, value
        done.event.set()
        return ticket

    def execute(self, command: StockCommand, timeout: float | None = 60) -> StockResult:
        """Submit and wait; raises the command's own error."""
        result = self.submit(command).result(timeout)
        if isinstance(result, Exception):
            raise result
        return result

    # -- the writer thread -----------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    if self._sqlite_file and self._checkpointer is None:
                        self._checkpointer = WalCheckpointer(self._sqlite_file)
                    self._thread = threading.Thread(target=self._loop, name="stock-writer", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            if self._deferred or self._stopping:
                item = None  # jobs wait already: go at once
            else:
                item = self._queue.get()
                if item is _STOP:
                    return
            if self.claims is not None:  # each transaction takes the turn itself
                with no_collection_mid_batch():
                    stop, done = self._take_and_run(item)
                item = None  # not kept alive while the queue is empty
                done.event.set()
                self._stopping = self._stopping or stop
                if self._stopping and not self._deferred:  # jobs that waited for claims are answered first
                    return
                continue
            # Wait for the write turn first, then take everything that queued meanwhile:
            # with two processes on one SQLite file, one writes while the other's callers
            # fill its queue, and each turn commits what the wait gathered.
            with self.write_turn(), no_collection_mid_batch():
                if self._checkpointer is not None:
                    self._catch_up_log()
                stop, done = self._take_and_run(item)
            item = None  # not kept alive while the queue is empty
            done.event.set()  # callers wake once the turn is another process's
            if stop:
                return

    def _catch_up_log(self) -> None:
        """Between two transactions: let a long WAL start again (see WalCheckpointer)."""
        try:
            with self._connection() as conn:
                self._checkpointer.catch_up(_sqlite_connection(conn))  # type: ignore[union-attr]
        except Exception:  # never let the writer thread die for housekeeping
            log.exception("wal catch-up failed")

    def _take_and_run(self, item) -> tuple[bool, "_Batch"]:
        batch, self._deferred = self._deferred, []
        if item is not None:
            batch.append(item)
        stop = self._take_more(batch)
        phased = False
        if self.claims is not None:
            try:
                batch, phased = self._claim(batch)
            except Exception as exc:  # the database did not answer (a restart): each job is told, the writer lives
                log.warning("stock batch could not claim its keys", error=str(exc)[:200])
                self.claims.release()
                return stop, self._answer_all(batch, exc)
            except BaseException:
                self.claims.release()
                raise
            if not phased and not stop:
                # It waited for every other writer to give back its claims: what queued
                # meanwhile goes in the same transaction (as the turn's waits gather it
                # without claims), or each wait would commit a handful of commands.
                stop = self._take_more(batch)
        try:
            return stop, self._run_taken(batch, phased)
        finally:
            if self.claims is not None:
                self.claims.release()

    def _take_more(self, batch: list) -> bool:
        """Add what waits in the queue to `batch`, up to batch_max; True at the stop mark."""
        while len(batch) < self.batch_max:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                return False
            if nxt is _STOP:
                return True
            batch.append(nxt)
        return False

    def _answer_all(self, batch: list, exc: Exception) -> "_Batch":
        """Every job of `batch` answered with `exc` (its caller retries or reports it)."""
        done = _Batch()
        _detach(exc)
        for _, ticket in batch:
            ticket._batch, ticket._value = done, exc
        taken, self._taken = self._taken, threading.Event()
        taken.set()
        return done

    def _run_taken(self, batch: list, phased: bool) -> "_Batch":
        done = _Batch()
        for _, ticket in batch:
            ticket._batch = done
        taken, self._taken = self._taken, threading.Event()
        taken.set()
        # Consecutive jobs of the same kind share a transaction.
        groups: list[list] = []
        for item in batch:
            if groups and self._kind(groups[-1][0][0]) is self._kind(item[0]):
                groups[-1].append(item)
            else:
                groups.append([item])
        for group in groups:
            try:
                results = self.run([c for c, _ in group], phased=phased)
            except Exception as exc:  # never let the writer thread die
                log.exception("stock batch failed")
                results = [exc] * len(group)
            for (_, ticket), res in zip(group, results):
                if isinstance(res, BaseException):
                    _detach(res)
                ticket._value = res
        return done

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
            self._thread = None
            self._stopping = False
        self._release_connection()
        if self.claims is not None:
            self.claims.close()
            self.claims = None
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self.write_turn.close()
