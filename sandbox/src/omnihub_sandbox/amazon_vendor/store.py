"""The Vendor Central simulator's SQLite file, kept across restarts.

The connection, transactions, meta and counters are the shared
:class:`~omnihub_sandbox.spapi.sqlite_store.SqliteStore`'s; this module owns the schema:
the vendor's items, the stock Amazon sells per warehouse beside what the vendor declared,
direct-fulfilment orders and their labels, shipments and status events, retail purchase
orders and their ASNs, and the transactions every submission settles through.
"""

from __future__ import annotations

from pathlib import Path

from ..spapi.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sku TEXT PRIMARY KEY, asin TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    cost_cents INTEGER NOT NULL, list_price_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stock (
    warehouse TEXT NOT NULL, sku TEXT NOT NULL,
    sellable INTEGER NOT NULL, sellable_since REAL NOT NULL,
    declared INTEGER NOT NULL, declared_at REAL NOT NULL,
    PRIMARY KEY (warehouse, sku));
CREATE TABLE IF NOT EXISTS df_orders (
    po_number TEXT PRIMARY KEY, customer_order_number TEXT NOT NULL, warehouse TEXT NOT NULL,
    status TEXT NOT NULL, order_date REAL NOT NULL, available_at REAL NOT NULL, updated_at REAL NOT NULL,
    ship_method TEXT NOT NULL, required_ship_date REAL NOT NULL, promised_delivery_date REAL NOT NULL,
    is_priority INTEGER NOT NULL, is_gift INTEGER NOT NULL, gift_message TEXT,
    pslip_required INTEGER NOT NULL, ship_to TEXT NOT NULL, source TEXT NOT NULL,
    ack_submitted_at REAL, acknowledged_at REAL, ack_code TEXT, vendor_order_number TEXT,
    shipped_at REAL, cancelled_at REAL, cancel_reason TEXT);
CREATE INDEX IF NOT EXISTS df_orders_by_date ON df_orders (order_date, po_number);
CREATE TABLE IF NOT EXISTS df_order_items (
    po_number TEXT NOT NULL, seq INTEGER NOT NULL, sku TEXT NOT NULL, asin TEXT NOT NULL, title TEXT NOT NULL,
    quantity INTEGER NOT NULL, shipped INTEGER NOT NULL DEFAULT 0, net_price_cents INTEGER NOT NULL,
    PRIMARY KEY (po_number, seq));
CREATE TABLE IF NOT EXISTS oversells (
    id INTEGER PRIMARY KEY AUTOINCREMENT, po_number TEXT NOT NULL, warehouse TEXT NOT NULL, sku TEXT NOT NULL,
    units INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS shipping_labels (
    po_number TEXT PRIMARY KEY, warehouse TEXT NOT NULL, created_at REAL NOT NULL, label_format TEXT NOT NULL,
    labels TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS shipping_labels_by_creation ON shipping_labels (created_at, po_number);
CREATE TABLE IF NOT EXISTS df_shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, po_number TEXT NOT NULL, status TEXT NOT NULL, shipped_date REAL NOT NULL,
    containers TEXT NOT NULL, confirmed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS df_status_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, po_number TEXT NOT NULL, tracking_number TEXT NOT NULL,
    status_code TEXT NOT NULL, reason_code TEXT NOT NULL, status_at REAL NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY, api TEXT NOT NULL, kind TEXT NOT NULL, request TEXT NOT NULL,
    submitted_at REAL NOT NULL, due_at REAL NOT NULL, status TEXT NOT NULL, errors TEXT, result TEXT,
    completed_at REAL);
CREATE INDEX IF NOT EXISTS transactions_due ON transactions (status, due_at);
CREATE TABLE IF NOT EXISTS retail_pos (
    po_number TEXT PRIMARY KEY, state TEXT NOT NULL, po_date REAL NOT NULL, state_changed_at REAL NOT NULL,
    changed_at REAL, updated_at REAL NOT NULL, po_type TEXT NOT NULL, ship_to TEXT NOT NULL,
    ship_window_start REAL NOT NULL, ship_window_end REAL NOT NULL);
CREATE INDEX IF NOT EXISTS retail_pos_by_date ON retail_pos (po_date, po_number);
CREATE TABLE IF NOT EXISTS retail_po_items (
    po_number TEXT NOT NULL, seq INTEGER NOT NULL, sku TEXT NOT NULL, asin TEXT NOT NULL,
    ordered INTEGER NOT NULL, unit_of_measure TEXT NOT NULL, unit_size INTEGER NOT NULL,
    backorder_allowed INTEGER NOT NULL, cost_cents INTEGER NOT NULL, list_price_cents INTEGER NOT NULL,
    ordered_changed_at REAL, cancelled INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER, backordered INTEGER, rejected INTEGER, acknowledged_at REAL,
    shipped INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0, last_received_at REAL,
    PRIMARY KEY (po_number, seq));
CREATE TABLE IF NOT EXISTS retail_shipments (
    shipment_identifier TEXT PRIMARY KEY, warehouse TEXT NOT NULL, ship_to TEXT NOT NULL, lines TEXT NOT NULL,
    confirmed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS retail_receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, po_number TEXT NOT NULL, seq INTEGER NOT NULL, units INTEGER NOT NULL,
    due_at REAL NOT NULL, done INTEGER NOT NULL DEFAULT 0);
"""

TABLES = (
    "items", "stock", "df_orders", "df_order_items", "oversells", "shipping_labels", "df_shipments",
    "df_status_events", "transactions", "retail_pos", "retail_po_items", "retail_shipments", "retail_receipts",
)


class VendorStore(SqliteStore):
    """The vendor account's state; use :meth:`tx` for every read-modify-write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, TABLES)
