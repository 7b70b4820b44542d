"""The sandbox's own SQLite file: Amazon's side of the world, kept across restarts.

One connection, WAL journal, one lock: the sandbox is a simulator that must be right
and durable, not a database benchmark, and serialising its writes makes every
transition (decrement quantity and create the order, or neither) trivially atomic.
Each feature module owns its SQL; this module owns the schema, transactions, the
key/value meta table and the stats counters.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stats (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS listings (
    sku TEXT PRIMARY KEY, asin TEXT NOT NULL, product_type TEXT NOT NULL,
    item_name TEXT NOT NULL, condition_type TEXT NOT NULL DEFAULT 'new_new',
    price_cents INTEGER NOT NULL, quantity INTEGER NOT NULL,
    pending_quantity INTEGER, pending_apply_at REAL,
    attributes TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    quantity_changed_at REAL);
CREATE TABLE IF NOT EXISTS orders (
    amazon_order_id TEXT PRIMARY KEY, status TEXT NOT NULL,
    purchase_date REAL NOT NULL, last_update REAL NOT NULL,
    marketplace_id TEXT NOT NULL, buyer TEXT NOT NULL, ship_to TEXT NOT NULL,
    ship_service_level TEXT NOT NULL, earliest_ship REAL NOT NULL, latest_ship REAL NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS orders_by_purchase ON orders (purchase_date, amazon_order_id);
CREATE INDEX IF NOT EXISTS orders_by_update ON orders (last_update, amazon_order_id);
CREATE TABLE IF NOT EXISTS order_items (
    order_item_id TEXT PRIMARY KEY, amazon_order_id TEXT NOT NULL, position INTEGER NOT NULL,
    sku TEXT NOT NULL, asin TEXT NOT NULL, title TEXT NOT NULL,
    quantity INTEGER NOT NULL, quantity_shipped INTEGER NOT NULL DEFAULT 0,
    unit_price_cents INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items (amazon_order_id, position);
CREATE TABLE IF NOT EXISTS shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, amazon_order_id TEXT NOT NULL,
    package TEXT NOT NULL, confirmed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feed_documents (
    feed_document_id TEXT PRIMARY KEY, content_type TEXT NOT NULL, content BLOB,
    purpose TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    feed_id TEXT PRIMARY KEY, feed_type TEXT NOT NULL, marketplace_ids TEXT NOT NULL,
    input_document_id TEXT NOT NULL, created_at REAL NOT NULL, status TEXT NOT NULL,
    started_at REAL, ended_at REAL, result_document_id TEXT);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY, report_type TEXT NOT NULL, marketplace_ids TEXT NOT NULL,
    report_options TEXT, data_start REAL, data_end REAL, created_at REAL NOT NULL,
    status TEXT NOT NULL, started_at REAL, ended_at REAL, document_id TEXT);
CREATE INDEX IF NOT EXISTS reports_by_created ON reports (created_at, report_id);
CREATE TABLE IF NOT EXISTS shelf (
    sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS oversells (
    id INTEGER PRIMARY KEY AUTOINCREMENT, amazon_order_id TEXT NOT NULL, sku TEXT NOT NULL,
    units INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, notification_id TEXT NOT NULL UNIQUE,
    notification_type TEXT NOT NULL, body TEXT NOT NULL, copies INTEGER NOT NULL,
    created_at REAL NOT NULL, sent INTEGER NOT NULL DEFAULT 0, delivered_at REAL);
"""

TABLES = (
    "meta", "stats", "access_tokens", "listings", "orders", "order_items",
    "shipments", "feed_documents", "feeds", "reports", "notifications", "shelf", "oversells",
)


class Store:
    """The sandbox's SQLite state; use :meth:`tx` for every read-modify-write."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(listings)")}
        if "quantity_changed_at" not in columns:  # a state file from before the column
            self._conn.execute("ALTER TABLE listings ADD COLUMN quantity_changed_at REAL")
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
            for table in TABLES:
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
