"""The Seller Central simulator's SQLite file: the seller's listings, orders, feeds,
shelf and notification outbox, kept across restarts.

The connection, transactions, meta and counters are the shared
:class:`~omnihub_sandbox.spapi.sqlite_store.SqliteStore`'s; this module owns the schema.
"""

from __future__ import annotations

from pathlib import Path

from ..spapi.sqlite_store import SqliteStore

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS destinations (
    destination_id TEXT PRIMARY KEY, name TEXT NOT NULL, resource TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY, notification_type TEXT NOT NULL, payload_version TEXT NOT NULL,
    destination_id TEXT NOT NULL, processing_directive TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, notification_id TEXT NOT NULL UNIQUE,
    notification_type TEXT NOT NULL, body TEXT NOT NULL, copies INTEGER NOT NULL,
    created_at REAL NOT NULL, sent INTEGER NOT NULL DEFAULT 0, delivered_at REAL);
"""

TABLES = (
    "listings", "orders", "order_items", "shipments", "feed_documents", "feeds", "reports", "notifications", "shelf",
    "oversells", "destinations", "subscriptions",
)


class Store(SqliteStore):
    """The seller's state; use :meth:`tx` for every read-modify-write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, TABLES)
        with self.tx() as db:
            columns = {r["name"] for r in db.execute("PRAGMA table_info(listings)")}
            if "quantity_changed_at" not in columns:  # a state file from before the column
                db.execute("ALTER TABLE listings ADD COLUMN quantity_changed_at REAL")
