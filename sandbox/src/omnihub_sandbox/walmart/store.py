"""The sandbox's own SQLite file: Walmart's side of the world, kept across restarts.

One connection, WAL journal, one re-entrant lock: a simulator must be right and
durable, not fast, and serialising its writes makes each transition atomic (take the
units and create the order, or neither). Feature modules own their SQL; this module
owns the schema (the connection, transactions, meta and counters are every simulator's:
:mod:`omnihub_sandbox.sqlite_state`).
"""

from __future__ import annotations

from pathlib import Path

from ..sqlite_state import SqliteState

SCHEMA = """
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

TABLES = ("access_tokens", "items", "stock", "shelf", "oversells", "orders", "order_lines",
          "line_statuses", "feeds", "feed_items", "subscriptions", "deliveries")


class Store(SqliteState):
    """Walmart's state; use :meth:`tx` for every read-modify-write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, TABLES)
