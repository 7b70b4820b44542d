"""The batch-job protocol: what a use case hands the stock writer, and all it sees of it.

The writer (group_commit.py) runs consecutive jobs of one kind in one transaction. How
it does so is its own business: group commit, claims shared with other writers
(claims.py), SQLite's write turn (write_turn.py), its cache (writer_cache.py). A use case
only

- names what a job touches (`KeyedJob.touched_keys`: its order, its SKUs, its customer's
  keys), so that the writer may decide the batch beside other writers, outside the turn;
- decides a batch of its jobs (`JobKind.decide`) against a stock view
  (`StagedTransaction.stock`), taking new ids from the transaction and telling it when a
  decision reaches past what the jobs named (`require_skus`, `require_everything`);
- writes through the staged transaction (`write(statement, *args)`): the writer runs the
  statements in the write transaction, once it holds the turn.

Jobs without `touched_keys` make the writer claim everything and run in the turn.
Protocols cost nothing at run time; the writer reads `batch_kind` off each job as a plain
attribute, as it read its handler before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from omnihub.adapters.db.bulk_sql import next_ids
from omnihub.adapters.db.claims import ClaimsTooNarrow, FileClaims, PgClaims, sku_bucket
from omnihub.adapters.db.stock_store import StockBatch, StockResult, StockStore
from omnihub.domain.stock_commands import StockCommand

#: What a batch decides against: positions to load, plans to apply, rows and events to
#: flush through `write` (the stock store's batch, named here as the protocol's; an alias,
#: so that a compiled caller still calls it natively)
StockView = StockBatch

#: what a job touches: its order's (channel, external id), its SKUs, its customer's keys
#: (normalised e-mail or phone, "channel\x1fchannel customer id")
TouchedKeys = tuple[tuple[str, str], Iterable[str], Iterable[str]]


class StagedTransaction:
    """One batch's transaction as a job kind sees it: reads on `conn`, writes staged.

    Under claims (`beside_other_writers`) the batch is decided in a read transaction
    while other writers work; it may then change only what its jobs named, and its ids
    come from the counters all writers share. Otherwise the writer holds the turn and
    every row the batch reads is locked."""

    __slots__ = ("conn", "_store", "_claims", "_staged")

    def __init__(self, conn: Connection, store: StockStore, claims: FileClaims | PgClaims | None = None) -> None:
        self.conn = conn
        self._store = store
        self._claims = claims
        #: (statement helper, its arguments after the connection), in the order to run
        self._staged: list[tuple[Callable[..., Any], tuple]] = []

    @property
    def beside_other_writers(self) -> bool:
        """Decided under claims, outside the write turn (see the class text)."""
        return self._claims is not None

    def stock(self) -> StockView:
        """The batch's view of stock: positions to load, plans to apply, the ledger's
        rows and events to flush through `write`."""
        batch = self._store.begin(self.conn)
        batch.lock_rows = self._claims is None  # claims already keep other writers off
        return batch

    def apply_commands(self, commands: Sequence[StockCommand]) -> list[StockResult | Exception]:
        """Ledger commands, applied at once (jobs that claim everything only)."""
        return self._store.apply_batch(self.conn, commands)

    def new_ids(self, table: str, n: int) -> list[int]:
        """`n` primary keys for `table` that no other writer hands out."""
        return next_ids(self.conn, table, n, self._claims)

    def require_skus(self, skus: Iterable[str], why: str) -> None:
        """The batch changes these SKUs: under claims, each must be one its jobs named
        (or the writer runs it again claiming everything)."""
        claims = self._claims
        if claims is None:
            return
        unclaimed = sorted(x for x in skus if not claims.holds(sku_bucket(x)))
        if unclaimed:
            raise ClaimsTooNarrow(f"{why}: {', '.join(unclaimed[:5])}")

    def require_everything(self, why: str) -> None:
        """The batch needs what no job can name (a count across every writer, rows of
        others' orders): under claims, the writer runs it again claiming everything."""
        if self._claims is not None:
            raise ClaimsTooNarrow(why)

    def write(self, statement: Callable[..., Any], *args: Any) -> None:
        """Stage `statement(conn, *args)` (a bulk_sql helper, or any writing function)."""
        self._staged.append((statement, args))

    def run_staged(self) -> None:
        """The writer's: run what was staged, in the write transaction."""
        conn = self.conn
        for statement, args in self._staged:
            statement(conn, *args)
        self._staged = []


class JobKind(Protocol):
    """What decides batches of one kind of job (the order pipeline, ledger commands...)."""

    def decide(self, tx: StagedTransaction, jobs: Sequence[Any]) -> list[Any]:
        """One result per job (an exception object for a job refused alone)."""
        ...


class BatchJob(Protocol):
    """A job for the stock writer. One without `batch_kind` is a ledger command."""

    @property
    def batch_kind(self) -> JobKind: ...


class KeyedJob(BatchJob, Protocol):
    """A job that names what it touches: it may be decided beside other writers."""

    def touched_keys(self) -> TouchedKeys: ...


class LedgerCommands:
    """The kind of plain ledger commands (StockCommand): the stock store applies them."""

    __slots__ = ()

    def decide(self, tx: StagedTransaction, jobs: Sequence[Any]) -> list[Any]:
        return tx.apply_commands(jobs)
