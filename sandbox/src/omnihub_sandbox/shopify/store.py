"""The shop's state in its own SQLite file (WAL), so the sandbox survives a restart.

One connection guarded by a re-entrant lock: the sandbox is a single shop, writes are
small, and serialising them makes every mutation atomic without any further thought (the
way one Shopify shop serialises writes to one inventory level). ``tx()`` is the unit of
work; nested ``tx()`` calls join the outer transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS locations (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('store','warehouse')),
  pos INTEGER NOT NULL, fulfills_online_orders INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1,
  address1 TEXT, city TEXT, province TEXT, province_code TEXT, country TEXT, country_code TEXT, zip TEXT,
  phone TEXT, latitude REAL, longitude REAL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_locations (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, address1 TEXT, city TEXT, province TEXT, country_code TEXT, zip TEXT,
  phone TEXT, deleted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY, title TEXT NOT NULL, handle TEXT NOT NULL UNIQUE, vendor TEXT NOT NULL,
  product_type TEXT NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS products_updated ON products(updated_at, id);
CREATE TABLE IF NOT EXISTS variants (
  id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id), title TEXT NOT NULL,
  sku TEXT, barcode TEXT, price TEXT NOT NULL, position INTEGER NOT NULL, inventory_policy TEXT NOT NULL,
  inventory_item_id INTEGER NOT NULL UNIQUE, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS variants_product ON variants(product_id, id);
CREATE INDEX IF NOT EXISTS variants_sku ON variants(sku);
CREATE TABLE IF NOT EXISTS product_media (
  id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, position INTEGER NOT NULL, url TEXT NOT NULL, alt TEXT,
  width INTEGER, height INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS product_media_product ON product_media(product_id, position);
CREATE TABLE IF NOT EXISTS inventory_items (
  id INTEGER PRIMARY KEY, variant_id INTEGER NOT NULL, sku TEXT, tracked INTEGER NOT NULL DEFAULT 1,
  requires_shipping INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS inventory_items_sku ON inventory_items(sku);
CREATE INDEX IF NOT EXISTS inventory_items_updated ON inventory_items(updated_at, id);
CREATE TABLE IF NOT EXISTS inventory_levels (
  inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL,
  available INTEGER NOT NULL DEFAULT 0, committed INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0,
  incoming INTEGER NOT NULL DEFAULT 0, damaged INTEGER NOT NULL DEFAULT 0, quality_control INTEGER NOT NULL DEFAULT 0,
  safety_stock INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (inventory_item_id, location_id));
CREATE INDEX IF NOT EXISTS inventory_levels_location ON inventory_levels(location_id, inventory_item_id);
CREATE TABLE IF NOT EXISTS physical_shelf (
  inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
  updated_at TEXT NOT NULL, PRIMARY KEY (inventory_item_id, location_id));
CREATE TABLE IF NOT EXISTS oversells (
  id INTEGER PRIMARY KEY, inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL, order_id INTEGER,
  channel TEXT NOT NULL, units INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS adjustment_groups (
  id INTEGER PRIMARY KEY, reason TEXT NOT NULL, reference_document_uri TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS adjustment_changes (
  group_id INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, delta INTEGER NOT NULL,
  quantity_after INTEGER, inventory_item_id INTEGER NOT NULL, location_id INTEGER NOT NULL,
  ledger_document_uri TEXT, PRIMARY KEY (group_id, seq));
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY, field TEXT NOT NULL, fingerprint TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY, number INTEGER NOT NULL, name TEXT NOT NULL, source_name TEXT NOT NULL,
  retail_location_id INTEGER, email TEXT, phone TEXT, customer TEXT, shipping_address TEXT,
  financial_status TEXT NOT NULL, fulfillment_status TEXT NOT NULL, currency TEXT NOT NULL,
  cancelled_at TEXT, cancel_reason TEXT, closed_at TEXT, edited INTEGER NOT NULL DEFAULT 0, note TEXT,
  tags TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL, processed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_updated ON orders(updated_at, id);
CREATE INDEX IF NOT EXISTS orders_created ON orders(created_at, id);
CREATE TABLE IF NOT EXISTS line_items (
  id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, variant_id INTEGER, product_id INTEGER,
  inventory_item_id INTEGER, sku TEXT, title TEXT NOT NULL, variant_title TEXT, vendor TEXT,
  quantity INTEGER NOT NULL, current_quantity INTEGER NOT NULL, fulfilled_quantity INTEGER NOT NULL DEFAULT 0,
  refunded_quantity INTEGER NOT NULL DEFAULT 0, price TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS line_items_order ON line_items(order_id, id);
CREATE TABLE IF NOT EXISTS fulfillment_orders (
  id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, location_id INTEGER NOT NULL, status TEXT NOT NULL,
  request_status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fulfillment_orders_order ON fulfillment_orders(order_id, id);
CREATE INDEX IF NOT EXISTS fulfillment_orders_updated ON fulfillment_orders(updated_at, id);
CREATE TABLE IF NOT EXISTS fulfillment_order_line_items (
  id INTEGER PRIMARY KEY, fulfillment_order_id INTEGER NOT NULL, line_item_id INTEGER NOT NULL,
  total_quantity INTEGER NOT NULL, remaining_quantity INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS fo_line_items_fo ON fulfillment_order_line_items(fulfillment_order_id, id);
CREATE TABLE IF NOT EXISTS fulfillments (
  id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, location_id INTEGER, name TEXT NOT NULL, status TEXT NOT NULL,
  tracking TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fulfillments_order ON fulfillments(order_id, id);
CREATE TABLE IF NOT EXISTS fulfillment_line_items (
  id INTEGER PRIMARY KEY, fulfillment_id INTEGER NOT NULL, fulfillment_order_id INTEGER NOT NULL,
  line_item_id INTEGER NOT NULL, quantity INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
  id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  reverse_fulfillment_order_id INTEGER NOT NULL UNIQUE, reverse_status TEXT NOT NULL,
  decline_reason TEXT, decline_note TEXT, requested_at TEXT, request_approved_at TEXT, closed_at TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS returns_order ON returns(order_id, id);
CREATE TABLE IF NOT EXISTS return_line_items (
  id INTEGER PRIMARY KEY, return_id INTEGER NOT NULL, reverse_line_item_id INTEGER NOT NULL UNIQUE,
  fulfillment_line_item_id INTEGER NOT NULL, line_item_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
  processed_quantity INTEGER NOT NULL DEFAULT 0, refunded_quantity INTEGER NOT NULL DEFAULT 0,
  return_reason TEXT NOT NULL, return_reason_note TEXT NOT NULL DEFAULT '', customer_note TEXT);
CREATE INDEX IF NOT EXISTS return_line_items_return ON return_line_items(return_id, id);
CREATE TABLE IF NOT EXISTS return_dispositions (
  id INTEGER PRIMARY KEY, reverse_line_item_id INTEGER NOT NULL, type TEXT NOT NULL, location_id INTEGER,
  quantity INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fulfillment_holds (
  id INTEGER PRIMARY KEY, fulfillment_order_id INTEGER NOT NULL, reason TEXT NOT NULL, reason_notes TEXT,
  handle TEXT, external_id TEXT, created_at TEXT NOT NULL, released_at TEXT);
CREATE INDEX IF NOT EXISTS fulfillment_holds_order ON fulfillment_holds(fulfillment_order_id, id);
CREATE TABLE IF NOT EXISTS order_cancellations (
  order_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL UNIQUE, reason TEXT NOT NULL, restock INTEGER NOT NULL,
  refund_method TEXT, refund_id INTEGER, notify_customer INTEGER NOT NULL, staff_note TEXT,
  cancelled_by TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id INTEGER PRIMARY KEY, topic TEXT NOT NULL, uri TEXT NOT NULL, format TEXT NOT NULL, filter TEXT,
  include_fields TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (topic, uri));
CREATE TABLE IF NOT EXISTS bulk_operations (
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL, query TEXT NOT NULL,
  staged_upload_path TEXT, client_identifier TEXT, error_code TEXT, object_count INTEGER NOT NULL DEFAULT 0,
  root_object_count INTEGER NOT NULL DEFAULT 0, file_size INTEGER, file_name TEXT, base_url TEXT NOT NULL,
  created_at TEXT NOT NULL, completed_at TEXT);
CREATE TABLE IF NOT EXISTS staged_uploads (
  key TEXT PRIMARY KEY, filename TEXT NOT NULL, mime_type TEXT NOT NULL, size INTEGER, uploaded INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL);
"""

# Ids start high, like Shopify's, so nobody mistakes a position for an id.
SEQUENCE_START = {
    "Location": 70_000_000_000,
    "Product": 8_000_000_000_000,
    "ProductVariant": 45_000_000_000_000,
    "InventoryItem": 47_000_000_000_000,
    "MediaImage": 32_000_000_000_000,
    "Order": 5_900_000_000_000,
    "LineItem": 14_000_000_000_000,
    "FulfillmentOrder": 6_800_000_000_000,
    "FulfillmentOrderLineItem": 14_100_000_000_000,
    "Fulfillment": 5_300_000_000_000,
    "FulfillmentLineItem": 11_000_000_000_000,
    "InventoryAdjustmentGroup": 31_000_000_000_000,
    "Refund": 920_000_000_000,
    "OrderTransaction": 7_100_000_000_000,
    "Return": 17_000_000_000,
    "ReturnLineItem": 27_000_000_000,
    "ReverseFulfillmentOrder": 18_000_000_000,
    "ReverseFulfillmentOrderLineItem": 28_000_000_000,
    "ReverseFulfillmentOrderDisposition": 29_000_000_000,
    "FulfillmentHold": 6_900_000_000,
    "WebhookSubscription": 1_400_000_000_000,
    "BulkOperation": 4_200_000_000_000,
    "Job": 8_800_000_000_000,
    "OrderNumber": 1000,
}


class ShopStore:
    """The sandbox's database: one SQLite file, one connection, one lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work (re-entrant: inner calls join the outer one)."""
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self.read() as conn:
            return conn.execute(sql, params).fetchone()

    def row(self, sql: str, params: tuple | list = ()) -> sqlite3.Row:
        """The row a query cannot miss (an aggregate, a row the caller holds the key of)."""
        found = self.one(sql, params)
        if found is None:
            raise LookupError(f"no row for {sql!r} {tuple(params)!r}")
        return found

    def all(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.read() as conn:
            return conn.execute(sql, params).fetchall()

    def next_id(self, name: str) -> int:
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
            value = (row["value"] if row else SEQUENCE_START[name]) + 1
            conn.execute("INSERT OR REPLACE INTO sequences(name, value) VALUES (?, ?)", (name, value))
            return value

    def take_ids(self, name: str, count: int):
        """Reserve `count` ids of `name` in one write; returns a function handing them out in
        order (the ids `next_id` would have given one by one)."""
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
            first = (row["value"] if row else SEQUENCE_START[name]) + 1
            conn.execute("INSERT OR REPLACE INTO sequences(name, value) VALUES (?, ?)", (name, first + count - 1))
        ids = iter(range(first, first + count))
        return lambda: next(ids)

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, str(value)))

    def wipe(self) -> None:
        """Forget everything (the control plane's reset)."""
        with self.tx() as conn:
            tables = [r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
