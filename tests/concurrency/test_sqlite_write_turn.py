"""The SQLite write turn and the background WAL checkpoints of the stock writer.

Real processes hold the turn on a real file; a real writer commits real batches and its
checkpointer thread folds the log back into the database."""

from __future__ import annotations

import gc
import multiprocessing as mp
import sqlite3
import time
import weakref

import sqlalchemy as sa

from omnihub.adapters.db.engine import database_file, make_engine, migrate
from omnihub.adapters.db.wal_checkpoints import WalCheckpointer
from omnihub.adapters.db.write_turn import WriteTurn
from omnihub.domain.ledger import LedgerError, Movement, Reason, StockState as S
from omnihub.domain.stock_commands import StockCommand, fixed_plan
from tests.conftest import add_location, add_skus


def _hold_turns(url: str, turns: int, start_at: float, out) -> None:
    turn = WriteTurn(make_engine(url))
    spans = []
    while time.time() < start_at:
        time.sleep(0.001)
    for _ in range(turns):
        with turn():
            began = time.monotonic()
            time.sleep(0.002)
            spans.append((began, time.monotonic()))
    turn.close()
    out.put(spans)


def test_two_processes_never_hold_the_write_turn_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 2
    procs = [ctx.Process(target=_hold_turns, args=(url, 60, start_at, q)) for _ in range(2)]
    for p in procs:
        p.start()
    first, second = q.get(timeout=60), q.get(timeout=60)
    for p in procs:
        p.join(timeout=30)
    assert len(first) == len(second) == 60
    overlaps = [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]
    assert overlaps == []


def test_the_write_turn_is_a_no_op_without_a_database_file():
    in_memory = sa.create_engine("sqlite://")
    assert WriteTurn(in_memory).path is None
    assert database_file(make_engine("postgresql://u@127.0.0.1/x")) is None  # never connects
    with WriteTurn(in_memory)():
        pass


def _wal_frames(path: str) -> int:
    """Frames still in the log after a passive checkpoint attempt by a fresh connection."""
    conn = sqlite3.connect(path)
    try:
        busy, log_frames, checkpointed = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log_frames - checkpointed
    finally:
        conn.close()


def test_the_writer_checkpoints_the_log_on_its_own_thread(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    migrate(url)
    from omnihub.hub import Hub
    from omnihub.settings import Settings

    hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    try:
        add_location(hub, "WH")
        add_skus(hub, *[f"S{i}" for i in range(50)])
        writer = hub.writer
        for round_ in range(20):
            tickets = [writer.submit(StockCommand("receive", ((f"S{i}", "WH"),), fixed_plan(
                [Movement(f"S{i}", "WH", 1, S.RECEIVED, S.ON_HAND, Reason.RECEIPT)]))) for i in range(50)]
            assert not any(isinstance(t.result(30), Exception) for t in tickets)
        checkpointer = writer._checkpointer
        assert isinstance(checkpointer, WalCheckpointer)
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints > 0
        # The writer's own connection never checkpointed inside a commit, and the pool's
        # other users keep SQLite's automatic checkpoints.
        with hub.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        hub.close()
    assert _wal_frames(str(tmp_path / "hub.db")) == 0


def test_a_refused_command_does_not_keep_its_batch_alive(stocked):
    """The error a caller receives has no traceback: its frames would hold the batch."""
    gc.collect()
    gc.disable()  # only reference counting may free the batch
    try:
        ticket = stocked.writer.submit(StockCommand("reserve", (("A", "WH"),), fixed_plan(
            [Movement("A", "WH", 5, S.ON_HAND, S.RESERVED, Reason.RESERVATION)])))
        error = ticket.result(30)
        assert isinstance(error, LedgerError) and error.code == "insufficient_stock"
        assert error.__traceback__ is None
        probe = StockCommand("reserve", (("B", "WH"),), fixed_plan(
            [Movement("B", "WH", 5, S.ON_HAND, S.RESERVED, Reason.RESERVATION)]))
        gone = weakref.ref(probe.plan)
        refused = stocked.writer.submit(probe)
        del probe
        assert isinstance(refused.result(30), LedgerError)
        del refused
        assert gone() is None
    finally:
        gc.enable()


def test_a_long_log_starts_again_under_sustained_writes(tmp_path, monkeypatch):
    """A passive checkpoint never shortens the log; under back-to-back batches the writer
    copies back what is left before a transaction, so the log starts again from the top."""
    import threading

    from omnihub.adapters.db import wal_checkpoints
    from omnihub.hub import Hub
    from omnihub.settings import Settings

    monkeypatch.setattr(wal_checkpoints, "RESTART_FRAMES", 64)
    monkeypatch.setattr(wal_checkpoints, "COMMITS_PER_CHECKPOINT", 2)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = Hub.open(Settings(database_url=url), relay=False)
    try:
        add_location(hub, "WH")
        skus = [f"S{i}" for i in range(300)]
        add_skus(hub, *skus)
        writer = hub.writer

        def keep_busy(offset: int) -> None:
            for round_ in range(25):
                tickets = [writer.submit(StockCommand("receive", ((s, "WH"),), fixed_plan(
                    [Movement(s, "WH", 1, S.RECEIVED, S.ON_HAND, Reason.RECEIPT)])))
                    for s in skus[offset::3]]
                assert not any(isinstance(t.result(60), Exception) for t in tickets)

        threads = [threading.Thread(target=keep_busy, args=(i,)) for i in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        checkpointer = writer._checkpointer
        assert isinstance(checkpointer, WalCheckpointer)
        assert checkpointer.restarts > 0
        with hub.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT SUM(on_hand) FROM positions").scalar() == 25 * 300
    finally:
        hub.close()


def test_every_write_transaction_gives_its_turn_back_however_it_ends(tmp_path):
    """The engine's write transactions take the turn before BEGIN IMMEDIATE and give it
    back on commit, rollback and close: a turn kept by mistake would stop every writer."""
    import threading

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    migrate(url)
    engine = make_engine(url)
    sql = "INSERT INTO config_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = version + 1"

    def write_in_another_thread() -> bool:
        done = threading.Event()

        def write() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql(sql)
            done.set()

        threading.Thread(target=write, daemon=True).start()
        return done.wait(5)

    with engine.begin() as conn:  # committed
        conn.exec_driver_sql(sql)
    assert write_in_another_thread()
    conn = engine.connect()
    conn.exec_driver_sql(sql)  # a write transaction left open...
    holder = WriteTurn(engine)
    blocked = threading.Event()
    waiter = threading.Thread(target=lambda: (holder.acquire(), blocked.set(), holder.release()), daemon=True)
    waiter.start()
    assert not blocked.wait(0.3)  # ...holds the turn
    conn.rollback()
    assert blocked.wait(5)  # rolled back: given back
    waiter.join(5)
    conn.exec_driver_sql(sql)
    conn.close()  # closed mid-transaction: given back too
    assert write_in_another_thread()
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as reader:
        reader.exec_driver_sql("SELECT 1")
        assert write_in_another_thread()  # a read takes no turn
    holder.close()
    engine.dispose()
