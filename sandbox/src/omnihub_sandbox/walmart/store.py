"""The sandbox's own SQLite file: Walmart's side of the world, kept across restarts.

One connection, WAL journal, one re-entrant lock: a simulator must be right and
durable, not fast, and serialising its writes makes each transition atomic (take the
units and create the order, or neither). Feature modules own their SQL; this module
owns the schema, transactions, the key/value meta table and the counters.
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
CREATE TABLE IF NOT EXISTS access_tokens (token TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    sku TEXT PRIMARY KEY, product_name TEXT NOT NULL, price_cents INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS stock (
    sku TEXT NOT NULL, ship_node TEXT NOT NULL, input_qty INTEGER NOT NULL, reserved INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL, PRIMARY KEY (sku, ship_node));
CREATE TABLE IF NOT EXISTS shelf (
    sku TEXT NOT NULL, ship_node TEXT NOT NULL, quantity INTEGER NOT NULL, PRIMARY KEY (sku, ship_node));
CREATE TABLE IF NOT EXISTS oversells (
    id INTEGER PRIMARY KEY AUTOINCREMENT, purchase_order_id TEXT NOT NULL, sku TEXT NOT NULL,
    ship_node TEXT NOT NULL, units INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    purchase_order_id TEXT PRIMARY KEY, customer_order_id TEXT NOT NULL, customer_email TEXT NOT NULL,
    order_date REAL NOT NULL, release_at REAL NOT NULL, released INTEGER NOT NULL DEFAULT 0,
    last_modified REAL NOT NULL, ship_node TEXT NOT NULL, method_code TEXT NOT NULL,
    estimated_ship REAL NOT NULL, estimated_delivery REAL NOT NULL, shipping_info TEXT NOT NULL,
    acknowledged_at REAL);
CREATE INDEX IF NOT EXISTS orders_by_date ON orders (order_date, purchase_order_id);
CREATE TABLE IF NOT EXISTS order_lines (
    purchase_order_id TEXT NOT NULL, line_number INTEGER NOT NULL, sku TEXT NOT NULL, product_name TEXT NOT NULL,
    quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL, unit_tax_cents INTEGER NOT NULL,
    shipping_cents INTEGER NOT NULL, status_date REAL NOT NULL, refunds TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (purchase_order_id, line_number));
CREATE TABLE IF NOT EXISTS line_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT, purchase_order_id TEXT NOT NULL, line_number INTEGER NOT NULL,
    status TEXT NOT NULL, quantity INTEGER NOT NULL, cancellation_reason TEXT, tracking TEXT, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS line_statuses_by_line ON line_statuses (purchase_order_id, line_number, id);
CREATE TABLE IF NOT EXISTS feeds (
    feed_id TEXT PRIMARY KEY, feed_type TEXT NOT NULL, received_at REAL NOT NULL, status TEXT NOT NULL,
    file_name TEXT, modified_at REAL NOT NULL, ingestion_errors TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS feeds_by_date ON feeds (received_at, feed_id);
CREATE TABLE IF NOT EXISTS feed_items (
    feed_id TEXT NOT NULL, idx INTEGER NOT NULL, sku TEXT, payload TEXT NOT NULL,
    status TEXT NOT NULL, errors TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (feed_id, idx));
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, event_version TEXT NOT NULL,
    resource_name TEXT NOT NULL, event_url TEXT NOT NULL, auth TEXT NOT NULL, headers TEXT NOT NULL,
    status TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, subscription_id TEXT NOT NULL,
    event_type TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, delivered_at REAL, last_status INTEGER, gave_up INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (delivered_at, gave_up, next_attempt_at);
"""

TABLES = ("meta", "stats", "access_tokens", "items", "stock", "shelf", "oversells", "orders", "order_lines",
          "line_statuses", "feeds", "feed_items", "subscriptions", "deliveries")


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

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_meta(self, key: str, value: Any) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, json.dumps(value)))

    def next_sequence(self, name: str) -> int:
        """A durable counter, for identifiers that never repeat across restarts."""
        with self.tx():
            value = int(self.get_meta(f"seq:{name}", 0)) + 1
            self.set_meta(f"seq:{name}", value)
            return value

    def bump(self, name: str, by: int = 1) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO stats (name, value) VALUES (?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, by))

    def stats(self) -> dict[str, int]:
        with self.tx() as db:
            return {r["name"]: r["value"] for r in db.execute("SELECT name, value FROM stats")}
