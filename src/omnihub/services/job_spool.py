"""A background job's scratch space on local disk, for what it must hold across its run.

A job that compares the estate with what a channel shows (the level snapshot,
reconciliation) needs lookups over the whole estate (which SKU an item id is, what the
channel showed before the orders were compared) while it reads page by page. Held in
dicts, those grow with the estate (5 M positions: over a gigabyte); kept here, in a
temporary SQLite file of the job's own (stdlib sqlite3, no durability: it lives for one
run and is removed after it), memory stays a page whatever the estate's size, and the
hub's database is only read, in keyset pages.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")

IN_LIMIT = 500  # values bound in one IN (...) (SQLite allows 32,766; a page is far fewer)


def pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, read lazily (so a channel's pages stay pages)."""
    it = iter(items)
    while page := list(islice(it, size)):
        yield page


class JobSpool:
    """A private SQLite file for one run (use as a context manager)."""

    def __init__(self, schema: Sequence[str] = ()) -> None:
        fd, self.path = tempfile.mkstemp(prefix="omnihub-job-", suffix=".sqlite3")
        os.close(fd)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-8000")  # 8 MB of pages: the file, not the process, holds the run
        for statement in schema:
            self.db.execute(statement)

    def put(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(sql, rows)
        self.db.execute("COMMIT")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        return iter(self.db.execute(sql, params))

    def lookup(self, sql_before_in: str, keys: Sequence[Any], sql_after_in: str = "") -> list[tuple]:
        """Rows of `sql_before_in IN (keys) sql_after_in`, `IN_LIMIT` keys a statement."""
        out: list[tuple] = []
        for start in range(0, len(keys), IN_LIMIT):
            chunk = keys[start:start + IN_LIMIT]
            marks = ",".join("?" * len(chunk))
            out.extend(self.db.execute(f"{sql_before_in} IN ({marks}) {sql_after_in}", list(chunk)))
        return out

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "JobSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
