"""The hub's tables, as SQLAlchemy Core metadata shared by the code and the migrations.

Keys on the hot path are the retail identifiers themselves (SKU, location code): every
caller already has them, so no lookup is needed to reserve a unit.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_now = sa.func.current_timestamp()

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("lat", sa.Float),
    sa.Column("lng", sa.Float),
    sa.Column("capabilities", sa.JSON, nullable=False),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
    sa.Column("cost_per_shipment_minor", sa.Integer, nullable=False, server_default="0"),
    sa.Column("daily_order_capacity", sa.Integer),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("online_selling", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("processing_hours", sa.Float, nullable=False, server_default="24"),
    sa.Column("cutoff_local", sa.String(5), nullable=False, server_default="15:00"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("vendor", sa.String(200)),
    sa.Column("product_type", sa.String(200)),
    sa.Column("image_url", sa.String(1000)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

variants = sa.Table(
    "variants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False, index=True),
    sa.Column("sku", sa.String(128), nullable=False, unique=True),
    sa.Column("title", sa.String(500), nullable=False, server_default=""),
    sa.Column("gtin", sa.String(14), unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("per_location", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("share_pct", sa.Integer, nullable=False, server_default="100"),
    sa.Column("fixed_allocation", sa.Integer),
    sa.Column("buffer", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

channel_feeds = sa.Table(
    "channel_feeds",
    metadata,
    sa.Column("channel", sa.String(64), sa.ForeignKey("channels.code"), primary_key=True),
    sa.Column("location", sa.String(64), sa.ForeignKey("locations.code"), primary_key=True),
    sa.Column("mode", sa.String(16), nullable=False),
)

channel_listings = sa.Table(
    "channel_listings",
    metadata,
    sa.Column("channel", sa.String(64), sa.ForeignKey("channels.code"), primary_key=True),
    sa.Column("sku", sa.String(128), sa.ForeignKey("variants.sku"), primary_key=True),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("external_variant_id", sa.String(200)),
    sa.Column("external_inventory_item_id", sa.String(200)),
    sa.UniqueConstraint("channel", "external_id", name="uq_channel_listings_external"),
)

stock_policies = sa.Table(
    "stock_policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(64)),
    sa.Column("sku", sa.String(128), index=True),
    sa.Column("location", sa.String(64)),
    sa.Column("safety_stock", sa.Integer),
    sa.Column("threshold", sa.Integer),
    sa.UniqueConstraint("channel", "sku", "location", name="uq_stock_policies_scope"),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("damaged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quality_control", sa.Integer, nullable=False, server_default="0"),
    sa.Column("incoming", sa.Integer, nullable=False, server_default="0"),
    sa.Column("in_transit", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)

movements = sa.Table(
    "movements",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("from_state", sa.String(20), nullable=False),
    sa.Column("to_state", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("channel", sa.String(64)),
    sa.Column("actor", sa.String(200)),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("position_version", sa.Integer, nullable=False),
    sa.Column("oversold", sa.Integer, nullable=False, server_default="0"),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_movements_sku_id", "sku", "id"),
)

command_results = sa.Table(
    "command_results",
    metadata,
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sku_demand = sa.Table(
    "sku_demand",
    metadata,
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("queued", sa.Integer, nullable=False, server_default="0"),
)

channel_availability = sa.Table(
    "channel_availability",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(128), primary_key=True),
    # '' is the channel's total; a location code is a per-location figure (Shopify).
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    # On the total row only: the channel's pool, the sum of its feeding locations' ATP
    # before the queue and buffer (what the projection adds each change to).
    sa.Column("pool", sa.Integer),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

oversell_incidents = sa.Table(
    "oversell_incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("movement_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Index("ix_outbox_unpublished", "published_at", "id"),
)

config_version = sa.Table(
    "config_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

stock_epoch = sa.Table(  # who last wrote stock: see adapters/db/writer_cache.py
    "stock_epoch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("stamp", sa.String(40), nullable=False),
)

# -- customers and orders ------------------------------------------------------------------

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("display_name", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Normalized e-mail and phone keys ("email:ana@example.com", "phone:+15551234567"): the
# same person buying on Shopify, at the POS and on Amazon is found by any of them.
customer_keys = sa.Table(
    "customer_keys",
    metadata,
    sa.Column("key", sa.String(340), primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False, index=True),
)

customer_channel_ids = sa.Table(
    "customer_channel_ids",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("channel_customer_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False, index=True),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("channel_updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(32), nullable=False, index=True),
    sa.Column("delivery_method", sa.String(32), nullable=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("order_value_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("holds", sa.JSON, nullable=False),
    # The whole order (channel-owned fields, lines, assignments) as one document: one row
    # to read and write per order on the hot path; the columns above are for filtering.
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    sa.Index("ix_orders_customer_placed", "customer_id", "placed_at"),
    # the console's reads (migration 0019): orders per minute, and by state for one channel
    sa.Index("ix_orders_placed_at", "placed_at"),
    sa.Index("ix_orders_channel_state", "channel", "state"),
)

order_assignments = sa.Table(
    "order_assignments",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False, index=True),
    sa.Column("line_id", sa.String(100), nullable=False),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("shipment_id", sa.String(100)),
    sa.Column("carrier", sa.String(100)),
    sa.Column("tracking_number", sa.String(200)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_order_assignments_location_state", "location", "state"),
)

routing_decisions = sa.Table(
    "routing_decisions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False, index=True),
    sa.Column("rule_set_version", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("explanation", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

routing_rule_sets = sa.Table(
    "routing_rule_sets",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("comment", sa.String(500)),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

brokering_queue = sa.Table(
    "brokering_queue",
    metadata,
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.String(500)),
)

location_daily_orders = sa.Table(
    "location_daily_orders",
    metadata,
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),  # the location's local date
    sa.Column("orders", sa.Integer, nullable=False),
)

# -- channel connectors and the sync engine ------------------------------------------------

# A channel's secrets (access token, webhook secret, LWA refresh token...), as one Fernet
# token encrypted with settings.secret_key: a copied database does not leak them.
channel_credentials = sa.Table(
    "channel_credentials",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Hub location ↔ the channel's own location id (Shopify location gid).
channel_locations = sa.Table(
    "channel_locations",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("external_location_id", sa.String(200), nullable=False),
    sa.UniqueConstraint("channel", "external_location_id", name="uq_channel_locations_external"),
)

# The last quantity the channel itself confirmed per (channel, SKU, location): the
# `changeFromQuantity` of the next compare-and-swap, and what reconciliation compares.
channel_levels = sa.Table(
    "channel_levels",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("confirmed", sa.Integer, nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),  # when the hub heard it
    # The channel's own time of the figure (webhook updated_at, notification EventTime, the
    # push's acknowledgement): an observation older than this is late and changes nothing.
    sa.Column("observed_at", sa.DateTime(timezone=True)),
)

# "Channel C should show Q for SKU S at location L": one row per key, latest wins.
sync_intents = sa.Table(
    "sync_intents",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("target", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="2"),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("channel", "sku", "location", name="uq_sync_intents_key"),
    sa.Index("ix_sync_intents_due", "channel", "state", "priority", "next_attempt_at"),
)

# Every webhook / notification as it arrived, stored in the transaction that accepts it.
channel_inbox = sa.Table(
    "channel_inbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("delivery_id", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("lease_owner", sa.String(100)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("processed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("source", "delivery_id", name="uq_channel_inbox_delivery"),
    sa.Index("ix_channel_inbox_state", "state", "id"),
)

# Privacy requests (services/customer_privacy.py): each erasure and data export, where it
# came from and what it did. Never the identifiers it was about: the record outlives the
# erasure it documents. A data request's file lives under settings.privacy_export_dir.
privacy_requests = sa.Table(
    "privacy_requests",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # redact | shop_redact | data_request
    sa.Column("source", sa.String(32), nullable=False),  # shopify | api | cli
    sa.Column("reference", sa.String(200)),  # the channel's own id (Shopify data_request id, webhook id)
    sa.Column("state", sa.String(16), nullable=False),  # done | ready (an export) | erased (an export, since redacted)
    sa.Column("export_file", sa.String(500)),
    sa.Column("summary", sa.JSON, nullable=False),  # what was erased or exported, counted
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
)

# Polling cursors per channel and feed ("orders.updated_at" → last seen channel time).
channel_cursors = sa.Table(
    "channel_cursors",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Shipments the hub recorded, and whether their channel has been told (Shopify
# fulfillmentCreate, Amazon confirmShipment). One row per (order, shipment): the row is the
# durable "told / not yet told" flag that keeps the batch job from telling twice.
channel_fulfilments = sa.Table(
    "channel_fulfilments",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("shipment_id", sa.String(100), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),  # pending | sent | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("external_id", sa.String(200)),  # the channel's fulfillment id, when it gives one
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("order_id", "shipment_id", name="uq_channel_fulfilments_shipment"),
    sa.Index("ix_channel_fulfilments_due", "state", "next_attempt_at"),
)

# Reconciliation runs (services/reconciliation.py): one row per run of one channel, with
# its counts; each difference found is a finding with its class (push_pending,
# drift_repaired, missed_order, missed_pos_sale, ...) and what was done about it.
reconciliation_runs = sa.Table(
    "reconciliation_runs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running | done | failed
    sa.Column("trigger", sa.String(32), nullable=False),  # schedule | api | cli | recovered (after an outage)
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("levels_compared", sa.Integer, nullable=False, server_default="0"),
    sa.Column("orders_compared", sa.Integer, nullable=False, server_default="0"),
    sa.Column("summary", sa.JSON, nullable=False),  # finding class → count
    sa.Column("error", sa.Text),
    # Liveness: the process running it (host:pid) refreshes heartbeat_at while it works; a
    # `running` row whose heartbeat is older than the lease has no process behind it.
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    sa.Column("owner", sa.String(200)),
    sa.Index("ix_reconciliation_runs_channel", "channel", "id"),
)

reconciliation_findings = sa.Table(
    "reconciliation_findings",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("reconciliation_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("sku", sa.String(128)),
    sa.Column("location", sa.String(64)),
    sa.Column("external_id", sa.String(200)),  # the channel's order id / item id / seller SKU
    sa.Column("hub_quantity", sa.Integer),
    sa.Column("channel_quantity", sa.Integer),
    sa.Column("action", sa.String(500), nullable=False),  # what the run did, or what an operator should do
    sa.Column("repaired", sa.Boolean, nullable=False),
    sa.Index("ix_reconciliation_findings_run", "run_id", "kind"),
)

# Till sales reconciliation recorded from a store's level drop, before their order came in
# (domain/till_sales.py): when the POS order arrives, the units left here are its own and
# do not leave the shelf a second time.
till_sales_recorded = sa.Table(
    "till_sales_recorded",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("units_left", sa.Integer, nullable=False),  # not yet matched to an order
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("reconciliation_runs.id", ondelete="SET NULL")),
    sa.Index("ix_till_sales_recorded_open", "sku", "location", "units_left"),
)

# Orders a channel cancelled after the hub had shipped some of their units, left for a
# person by reconciliation (services/channel_cancellations.py): one row per order, written
# when a run first reports it, so that later runs over the same window do not report it
# again (and a person can list what is still to settle).
cancellations_after_shipment = sa.Table(
    "cancellations_after_shipment",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("units_gone", sa.Integer, nullable=False),  # shipped, picked up or delivered when reported
    sa.Column("reason", sa.String(500), nullable=False),  # what the channel said, what a person should do
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("reconciliation_runs.id", ondelete="SET NULL")),
    sa.UniqueConstraint("order_id", name="uq_cancellations_after_shipment_order"),
)

# ERP snapshot imports (services/erp_snapshot.py): one row per file imported, identified by
# its size and SHA-256, with how far it got; one row per chunk committed, written in the
# same transaction as that chunk's movements, so a run killed part-way is resumed after its
# last chunk and no chunk is ever applied twice ((import_id, chunk) is the chunk's
# idempotency key).
snapshot_imports = sa.Table(
    "snapshot_imports",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("file_name", sa.String(500), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # running | done
    sa.Column("chunk_rows", sa.Integer, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),  # chunks committed
    sa.Column("last_line", sa.BigInteger, nullable=False, server_default="1"),  # the last line they hold
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("applied", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("failed", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("movements", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("actor", sa.String(200)),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Index("ix_snapshot_imports_file", "sha256", "size"),
)

snapshot_import_chunks = sa.Table(
    "snapshot_import_chunks",
    metadata,
    sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("snapshot_imports.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("first_line", sa.BigInteger, nullable=False),
    sa.Column("last_line", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("applied", sa.Integer, nullable=False),
    sa.Column("movements", sa.Integer, nullable=False),
    sa.Column("errors", sa.JSON, nullable=False),  # the chunk's failed rows (line, column, field, message)
    sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
)

# People who sign in (domain/access.py names the roles). The password is kept only as its
# argon2id hash; a disabled user keeps its row so the ledger and the audit still name it.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # normalised: stripped, lower case
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("locations", sa.JSON, nullable=False),  # location codes a store associate is bound to
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# API tokens for machines (ERPs, scripts, the demo). The token is shown once when created;
# only its SHA-256 is kept (a 256-bit random token needs no slow hash: nothing to guess),
# with its first characters as a hint for the lists. `last_used_at` is written at most
# once a minute per token (services/api_tokens.py).
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("locations", sa.JSON, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.String(200), nullable=False),  # the actor who made it (Principal.actor)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Signed-in people's sessions (services/sessions.py): only the SHA-256 of the cookie's
# random id is kept. Deleted on logout; refused (and deleted when seen) past their idle or
# absolute expiry, and refused at once when their user is disabled.
user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),  # written at most once a minute
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),  # the absolute expiry
    sa.Column("address", sa.String(100), nullable=False),  # where it was opened from
    sa.Column("user_agent", sa.String(300), nullable=False),
)

# Failed sign-ins per account and per client address (services/login_throttle.py), in the
# database so that every API process and a restart count the same.
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(400), primary_key=True),  # account:<e-mail> | address:<ip>
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("blocked_until", sa.DateTime(timezone=True)),
)

# Who changed what, when, from where (services/audit_trail.py); settings' before and after
# without secrets. Newest first by id.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False, index=True),  # kind:id:name (Principal.actor)
    sa.Column("actor_kind", sa.String(16), nullable=False),  # user | token | local_admin
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(100), nullable=False),  # the client's address, or "cli"
    sa.Column("action", sa.String(100), nullable=False, index=True),
    sa.Column("target", sa.String(500), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Column("details", sa.JSON, nullable=False),
)

# How much of each channel's rate-limit budget the worker is using, as it last reported
# (services/channel_budgets.py): the buckets live in the worker's memory, the console reads this.
channel_budgets = sa.Table(
    "channel_budgets",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("used_pct", sa.Float, nullable=False),  # now: the share of the budget spent and not yet restored
    sa.Column("peak_used_pct", sa.Float),  # the most since the worker started (None: the channel does not say)
    sa.Column("throttled", sa.Integer, nullable=False, server_default="0"),  # calls the channel refused for the limit
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
)

# BOPIS and curbside orders ready at their store (services/pickup_desk.py): the pickup code
# the customer shows at the hand-over, the wrong codes tried in a row and the lock they set,
# the customer's "I'm here" at the curb, and when the order was handed over.
order_pickups = sa.Table(
    "order_pickups",
    metadata,
    sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("location", sa.String(64), nullable=False, index=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("wrong_codes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("customer_arrived_at", sa.DateTime(timezone=True)),
    sa.Column("arrival_note", sa.String(500)),
    sa.Column("handed_over_at", sa.DateTime(timezone=True)),
    sa.Column("handed_over_by", sa.String(200)),
)

# Whether each channel answers the worker's pushes, as the worker last reported
# (services/channel_health_reports.py): its ChannelHealth lives in the worker's memory.
channel_health = sa.Table(
    "channel_health",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # answering | failing | down | not_called (domain/channel_health.py)
    sa.Column("failing_since", sa.DateTime(timezone=True)),  # the first push that failed since the last answer
    sa.Column("last_answer_at", sa.DateTime(timezone=True)),  # the channel last answered a push
    sa.Column("last_confirmed_at", sa.DateTime(timezone=True)),  # it last acknowledged one
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", sa.DateTime(timezone=True)),
    sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
)
