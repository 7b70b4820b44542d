"""WAL checkpoints off the stock writer's path (SQLite files only).

SQLite copies its write-ahead log back into the database ("checkpoints") inside the
commit that crosses 1,000 pages: that commit then writes and fsyncs megabytes while
holding the write lock, a sixth of the writer's time on the ledger benchmark. The stock
writer switches that off on its own connection and wakes this thread after each commit;
the thread runs a PASSIVE checkpoint on its own connection (it never blocks writers or
readers, and copies what it can), with SQLite's C code running outside the GIL, on the
other core. Other connections keep SQLite's automatic checkpoints, so the log stays
bounded whoever writes.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

log = structlog.get_logger(__name__)

# Checkpoint once this many commits have gone by, or when woken after a quiet spell.
COMMITS_PER_CHECKPOINT = 8
QUIET_SECONDS = 0.5


class WalCheckpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._wake = threading.Event()
        self._stop = False
        self._commits = 0
        self.checkpoints = 0
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
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # busy or locked: the next wake tries again
            log.warning("wal checkpoint skipped", error=str(exc))

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
