"""Whose turn it is to write an SQLite file, across processes and threads.

SQLite lets one writer in at a time; the others spin in its busy handler, which sleeps
1, 2, 5, 10 ... 100 ms between tries. Two hub processes sharing a file therefore spent
much of their time asleep while the lock was free, and a small writer (the outbox relay,
a webhook landing in the inbox, the sync engine's bookkeeping) lost nearly every race
against a busy stock writer: at 1,000 orders/s the outbox fell 15,000 rows behind. An
advisory `flock` on a file beside the database queues every writer in the kernel
instead: the waiting one wakes the moment the other commits.

Every SQLite write transaction takes a turn: the engine's `begin` hook takes the
engine's own turn before `BEGIN IMMEDIATE` (see engine.py), and the connection gives it
back when it commits, rolls back or closes (`TurnConnection`). The stock writer takes
its turn around a whole batch instead, so that one turn commits everything its queue
gathered, and its connection is marked so that the hook leaves it alone. Reads (BEGIN
DEFERRED) take none. Correctness never depends on this file: SQLite's own lock still
guards the database; the turn only decides who waits how.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

#: execution option of a connection whose user already holds a turn (the stock writer)
TURN_HELD = "omnihub_write_turn_held"


class WriteTurn:
    """A cross-process mutex for one SQLite database file (a no-op elsewhere)."""

    def __init__(self, engine_or_path: Engine | str | None) -> None:
        if isinstance(engine_or_path, Engine):
            from omnihub.adapters.db.engine import database_file

            engine_or_path = database_file(engine_or_path)
        self.path = f"{engine_or_path}-writer.lock" if engine_or_path else None
        self._fd: int | None = None
        self._local = threading.Lock()  # flock is per open file: threads queue here first

    def acquire(self, timeout: float = -1) -> bool:
        """Wait for the turn (`timeout` seconds at most for another thread of this process
        to give it back); False if that ran out, and the caller goes on without it."""
        if self.path is None:
            return True
        if not self._local.acquire(timeout=timeout):
            return False
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._local.release()
            raise
        return True

    def release(self) -> None:
        if self.path is None:
            return
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._local.release()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class TurnConnection(sqlite3.Connection):
    """An sqlite3 connection that gives back the write turn its transaction took, once
    the transaction is over however it ended (commit, rollback, the pool's reset on
    check-in, close)."""

    turn: WriteTurn | None = None

    def _give_back(self) -> None:
        turn, self.turn = self.turn, None
        if turn is not None:
            turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()
