"""WAL checkpoints off the stock writer's path (SQLite files only).

SQLite copies its write-ahead log back into the database ("checkpoints") inside the
commit that crosses 1,000 pages: that commit then writes and fsyncs megabytes while
holding the write lock, a sixth of the writer's time on the ledger benchmark. The stock
writer switches that off on its own connection and wakes this thread after each commit;
the thread runs a PASSIVE checkpoint on its own connection (it never blocks writers or
readers, and copies what it can), with SQLite's C code running outside the GIL, on the
other core. Other connections keep SQLite's automatic checkpoints, so the log stays
bounded whoever writes.

A passive checkpoint never shortens the log, though: SQLite starts it again from the top
only when a write transaction begins with every frame already copied back, and under
sustained load the next batch always begins a moment after the last commit, before this
thread has caught up. Measured at 1,200 orders/s: the log reached 1.3 GB (317,000
frames) in 17 s, and every page read searches the log's index block by block. So once
the log passes `RESTART_FRAMES`, the writer itself copies back what is left just before
its next transaction (`catch_up`: a few batches' worth), and that transaction starts the
log again from the top.

That catch-up is paid inside the write turn, so every writer of the file waits for it:
measured at 3,000 orders/s with two processes (the log grows 50,000 frames a second,
~17 pages an order), it copies ~1,000 frames and syncs the database file, 12–28 ms each
time, whatever the log's length. With a 16,384-frame log that came every 330 ms and was
most of the batches slower than 30 ms. So the log is let grow to 65,536 frames (256 MiB)
before it starts again, a quarter of the stalls; a page read searches at most 16 blocks
of the log's index. The writer's `journal_size_limit` keeps that size: truncating a
256 MiB file back to 64 MiB at each start took 60 ms, inside the turn too.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

log = structlog.get_logger(__name__)

# Checkpoint once this many commits have gone by, or when woken after a quiet spell.
COMMITS_PER_CHECKPOINT = 8
QUIET_SECONDS = 0.5
#: log length (frames of one page) past which the writer lets the log start again
RESTART_FRAMES = 65_536  # 256 MiB with 4 KiB pages
PAGE_BYTES = 4096  # SQLite's default page size, which the hub keeps
#: what the writer's log file keeps of its size when it starts again (`journal_size_limit`):
#: more than it grows to before a catch-up lets it start (a quarter more), as truncating it
#: costs the turn more than the disk space is worth
WAL_KEPT_BYTES = RESTART_FRAMES * PAGE_BYTES * 5 // 4


def _passive_checkpoint(conn: sqlite3.Connection, skipped: str) -> tuple[int, int, int] | None:
    """(busy, frames in the log, frames copied back), or None if SQLite refused."""
    try:
        return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error as exc:
        log.warning(skipped, error=str(exc))
        return None


class WalCheckpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._wake = threading.Event()
        self._stop = False
        self._commits = 0
        self.checkpoints = 0
        self.log_frames = 0  # the log's length at the last checkpoint
        self.restarts = 0  # times the writer caught up so the log could start again
        self._thread = threading.Thread(target=self._loop, name="wal-checkpointer", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Called by the writer after each commit."""
        self._commits += 1
        if self._commits >= COMMITS_PER_CHECKPOINT:
            self._wake.set()

    def _loop(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop:
                self._wake.wait(QUIET_SECONDS)
                self._wake.clear()
                if self._commits:
                    self._commits = 0
                    self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        result = _passive_checkpoint(conn, "wal checkpoint skipped")  # busy or locked: the next wake tries again
        if result is not None:
            self.log_frames = result[1]
            self.checkpoints += 1

    def catch_up(self, writer_conn: sqlite3.Connection) -> None:
        """Called by the writer between transactions, holding the write turn: if the log is
        long, copy back what is left so the next transaction starts it again from the top.
        Readers still on older frames only postpone that to a later call."""
        if self.log_frames < RESTART_FRAMES:
            return
        result = _passive_checkpoint(writer_conn, "wal catch-up skipped")
        if result is not None and not result[0] and result[1] == result[2]:
            self.log_frames = 0
            self.restarts += 1

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
