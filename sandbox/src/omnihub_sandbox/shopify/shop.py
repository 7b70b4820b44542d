"""One simulated shop: its state, schema, meter, webhooks and bulk runner, wired together.

This is the seam the HTTP layer (``app.py``) and the control plane (``control.py``) call
into; nothing here knows about HTTP.
"""

from __future__ import annotations

from .outage import Outage

import json
from pathlib import Path

from graphql import GraphQLInterfaceType

from .bulk import BulkRunner
from .catalog import CatalogSize, seed_shop
from .clock import Clock, SystemClock, iso_storage
from .config import ShopifySandboxConfig
from .events import COMPLIANCE_TOPICS, Event
from .graphql_api import GraphQLEndpoint
from .graphql_schema import load_schema
from .resolvers import mutations, query
from .store import ShopStore
from .throttle import Throttle
from .webhooks import WebhookDispatcher


class SandboxShop:
    def __init__(self, config: ShopifySandboxConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store = ShopStore(config.state_path)
        self.files_dir = Path(str(config.state_path) + ".files")
        self.schema = load_schema()
        for interface in ("Node", "Media"):
            abstract = self.schema.type_map[interface]
            assert isinstance(abstract, GraphQLInterfaceType)
            abstract.resolve_type = lambda value, info, abstract: value["__typename"]
        self.endpoint = GraphQLEndpoint(self.schema, query.root(), mutations.root(), config.max_query_cost,
                                        config.max_input_array)
        self.throttle = Throttle(config.maximum_available, config.restore_rate, self.clock)
        self.outage = Outage()  # control plane: PUT /_sandbox/outage
        self.dispatcher = WebhookDispatcher(
            secret=config.client_secret, shop_domain=config.shop_domain, faults=config.webhook_faults,
            seed=config.seed, time_scale=config.time_scale, timeout_s=config.webhook_timeout_s,
            retries=config.webhook_retries, backoff_base_s=config.webhook_backoff_base_s,
            senders=config.webhook_senders, targets_for=self.webhook_targets)
        self.bulk = BulkRunner(self, self.files_dir)
        if self.store.get_meta("seeded_at") is None:
            self.seed(config.seed)

    @property
    def shop_id(self) -> int:
        return 60_000_000_000 + self.config.seed

    def now_iso(self) -> str:
        return iso_storage(self.clock.now())

    def next_id(self, kind: str) -> int:
        return self.store.next_id(kind)

    def seed(self, seed: int, size: CatalogSize | None = None) -> None:
        size = size or CatalogSize(self.config.catalog_products, self.config.catalog_variants_per_product,
                                   self.config.catalog_stores, self.config.catalog_warehouses,
                                   self.config.initial_stock_max)
        self.store.wipe()
        seed_shop(self.store, seed, size, self.now_iso())

    # -- webhooks ----------------------------------------------------------------------
    def webhook_targets(self, topic: str) -> list[tuple[str, list[str]]]:
        if topic in COMPLIANCE_TOPICS:
            return [(self.config.compliance_webhook_url, [])] if self.config.compliance_webhook_url else []
        rows = self.store.all("SELECT uri, include_fields FROM webhook_subscriptions WHERE topic = ? ORDER BY id", (topic,))
        return [(r["uri"], json.loads(r["include_fields"])) for r in rows]

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.dispatcher.publish(event)

    def close(self) -> None:
        self.dispatcher.stop()
        self.bulk.stop(2.0)
        self.store.close()
