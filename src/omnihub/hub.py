"""The composition root: one object that wires the database, the stock writer, the bus
and the use cases together for an entry point (API, CLI, worker, tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from omnihub.adapters.bus.in_process import InProcessBus, OutboxRelay
from omnihub.adapters.db.engine import for_reading, make_engine, migrate
from omnihub.adapters.db.group_commit import StockWriter
from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.services.api_tokens import ApiTokens
from omnihub.services.audit_trail import AuditTrail
from omnihub.services.catalog import CatalogService
from omnihub.services.channel_inbox import InboxProcessor
from omnihub.services.channel_sync import ChannelSync
from omnihub.services.customer_privacy import CustomerPrivacy
from omnihub.services.inventory import Inventory
from omnihub.services.order_operations import OrderOperations
from omnihub.services.order_pipeline import OrderPipeline
from omnihub.services.order_screening import OrderScreening
from omnihub.services.pickup_desk import PickupDesk
from omnihub.services.queue_waker import BrokeringQueueWaker
from omnihub.services.routing_rules_store import RuleStore
from omnihub.services.sessions import Sessions, sessions_of
from omnihub.services.stock_queries import StockQueries
from omnihub.services.store_picking import StorePicking
from omnihub.services.users import Users
from omnihub.settings import Settings, get_settings


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    read_engine: Engine  # the same pool, for read-only work (see engine.for_reading)
    writer: StockWriter
    bus: InProcessBus
    relay: OutboxRelay
    catalog: CatalogService
    inventory: Inventory
    queries: StockQueries
    rules: RuleStore
    orders: OrderPipeline
    order_ops: OrderOperations
    sync: ChannelSync  # channel pushes; senders run in `omnihub worker`
    inbox: InboxProcessor  # webhooks / notifications accepted, then processed
    vault: CredentialVault  # channel credentials, encrypted at rest
    queue_waker: BrokeringQueueWaker  # queued orders routed when their stock rises
    privacy: CustomerPrivacy  # erasure and export of a customer's data (GDPR, CCPA, Shopify)
    tokens: ApiTokens  # API tokens: made, revoked, verified (cached) on each request
    users: Users  # people who sign in, their roles and passwords
    sessions: Sessions  # people signed in (the console's cookie), failed sign-ins throttled
    audit: AuditTrail  # who changed what, from where (services/audit_trail.py)
    pickups: PickupDesk  # BOPIS and curbside orders ready at their stores, the pickup code checked
    picking: StorePicking  # a store's pick list, picks and short picks, its parcels shipped
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, *, run_migrations: bool = True, relay: bool = True) -> "Hub":
        settings = settings or get_settings()
        if run_migrations:
            migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        bus = InProcessBus()
        outbox_relay = OutboxRelay(engine, bus)
        writer = StockWriter(engine, batch_max=settings.writer_batch_max, on_commit=outbox_relay.wake)
        rules = RuleStore(engine)
        reader = for_reading(engine)
        screening = OrderScreening()
        pipeline = OrderPipeline(writer, rules, screening=screening)
        waker = BrokeringQueueWaker(engine, pipeline)
        sync = ChannelSync(engine)
        privacy = CustomerPrivacy(engine, settings.privacy_export_dir)
        inbox = InboxProcessor(engine, pipeline.ingest_many)
        inbox.observe_level = sync.observe_level
        inbox.privacy = privacy
        users = Users(engine)
        order_ops = OrderOperations(pipeline)
        pickups = PickupDesk(engine, reader, order_ops)
        hub = cls(
            settings=settings, engine=engine, read_engine=reader, writer=writer, bus=bus,
            relay=outbox_relay, catalog=CatalogService(engine), inventory=Inventory(writer, waker.stock_rose), queries=StockQueries(reader),
            rules=rules, orders=pipeline, order_ops=order_ops,
            sync=sync, inbox=inbox, vault=CredentialVault(engine, settings.secret_key),
            privacy=privacy, queue_waker=waker, tokens=ApiTokens(engine), users=users,
            audit=AuditTrail(engine), sessions=sessions_of(engine, users, settings),
            pickups=pickups, picking=StorePicking(reader, order_ops, pickups),
        )
        sync.attach(bus)
        if relay:
            outbox_relay.start()
        return hub

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the hub's threads within one budget of `timeout_s` (not one each): a
        thread still busy at the end is a daemon, and what it held is a transaction that
        rolls back or a lease that runs out."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout_s

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        self.queue_waker.close(timeout=left())  # before the writer: a wake in progress hands it its last jobs
        self.writer.close()
        self.relay.stop(timeout=left())
        self.sync.stop(timeout=left())
        self.tokens.close()  # its last "last used" write
        self.audit.close()  # what it had queued
        self.engine.dispose()
