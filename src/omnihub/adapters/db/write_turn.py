"""Whose turn it is to write an SQLite file, across processes.

SQLite lets one writer in at a time; the others spin in its busy handler, which sleeps
1, 2, 5, 10 ... ms between tries. Two hub processes sharing a file therefore spend much
of their time asleep while the lock is free. An advisory `flock` on a file beside the
database queues them in the kernel instead: the waiting writer wakes the moment the
other commits, while its callers (on the other core) keep preparing the next batch.

Only the group-commit writers take a turn; any other writer still falls back on SQLite's
own lock, so correctness never depends on this file (it only decides who waits how).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from collections.abc import Iterator

from sqlalchemy.engine import Engine

from omnihub.adapters.db.engine import database_file


class WriteTurn:
    """A cross-process mutex for one SQLite database file (a no-op elsewhere)."""

    def __init__(self, engine: Engine) -> None:
        database = database_file(engine)
        self.path = f"{database}-writer.lock" if database else None
        self._fd: int | None = None
        self._local = threading.Lock()  # flock is per open file: threads queue here first

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        with self._local:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
