"""A simulator's own SQLite file: its side of the world, kept across restarts.

One connection, WAL journal, one re-entrant lock: a simulator must be right and durable,
not a database benchmark, and serialising its writes makes every transition (take the
units and create the order, or neither) atomic. Each feature module owns its SQL and each
simulator its schema; this module owns the connection, transactions, the key/value meta
table and the counters, for every simulator alike.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

#: Every simulator's file has these: its key/value meta (clock offset, sequences, seeded
#: flags) and its counters.
META_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stats (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
META_TABLES = ("meta", "stats")


class SqliteState:
    """A simulator's SQLite state; use :meth:`tx` for every read-modify-write.

    ``schema`` is the simulator's own tables (``CREATE TABLE IF NOT EXISTS ...``) and
    ``tables`` their names, which :meth:`wipe` empties with the meta and stats tables.
    """

    def __init__(self, path: Path, schema: str, tables: tuple[str, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(META_SCHEMA + schema)
        self._tables = META_TABLES + tables
        self._depth = 0

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested calls join the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if outer:
                    self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def wipe(self) -> None:
        """Forget the whole world (``/_sandbox/reset``)."""
        with self.tx() as db:
            for table in self._tables:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    # -- meta and stats ------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_meta(self, key: str, value: Any) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def next_sequence(self, name: str) -> int:
        """A durable counter, used to derive identifiers that never repeat."""
        with self.tx():
            value = int(self.get_meta(f"seq:{name}", 0)) + 1
            self.set_meta(f"seq:{name}", value)
            return value

    def bump(self, name: str, by: int = 1) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO stats (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, by),
            )

    def stats(self) -> dict[str, int]:
        with self.tx() as db:
            return {r["name"]: r["value"] for r in db.execute("SELECT name, value FROM stats")}
