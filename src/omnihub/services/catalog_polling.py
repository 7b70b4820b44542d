"""Incremental product polls (seeds 001/002: new products every 15 min, product updates
every 6 h): only what Shopify created or changed since the poll's cursor, never the whole
catalog again.

A poll asks for `created_at:>'<cursor - overlap>'` (new) or `updated_at:>'…'` (updates),
first as one cheap page of products. Nearly always that page is the whole delta (an
untouched catalog: an empty page), and it is applied at once. A larger delta, or a
product with more variants than a page carries, is read by a bulk operation with the
same search, so a merchant's mass edit costs Shopify's export, not the rate limit; when
Shopify refuses a bulk operation (the shop's concurrent ones are taken) the delta is
paged to the end instead.

Reading and applying are two steps (`read`, `apply`) and the cursor moves only after
`apply`: a poll that dies between them reads the same delta next time. The cursor is
Shopify's newest timestamp applied, minus an overlap when read back: Shopify's times have
whole seconds and its search index trails writes a little, so a product changed in the
cursor's second, or indexed late, is read again rather than missed. Re-applying a product
changes nothing (services/catalog_import.py is an idempotent upsert).

A channel without a cursor (connected before the polls were incremental) gets one full
import, which starts both cursors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_query import BulkOperationBusy, BulkQuery
from omnihub.adapters.channels.shopify.catalog_lines import (
    ChannelProduct,
    products_from_bulk_lines,
    products_from_product_page,
)
from omnihub.services.catalog_cursors import POLLS, ProductPoll, advance, cursor_of, parse_shopify_time, shopify_time
from omnihub.services.catalog_import import CatalogImportReport, ChannelCatalogImport

log = structlog.get_logger(__name__)


class PollStopped(RuntimeError):
    """The worker stopped while the poll waited: nothing was applied, the cursor stays."""


@dataclass
class CatalogDelta:
    """What one poll read, not yet applied. `products` streams (a bulk file is not held in
    memory); `newest` is known once it has been consumed."""

    poll: ProductPoll
    search: str
    source: str  # "page", "bulk", "paged" (bulk refused), "full" (no cursor yet)
    products: Iterator[ChannelProduct]
    problems: list[str] = field(default_factory=list)
    newest: str | None = None


@dataclass
class CatalogPollReport:
    poll: str
    source: str
    search: str
    catalog: CatalogImportReport
    cursor: str | None

    def as_dict(self) -> dict:
        return {"poll": self.poll, "source": self.source, "search": self.search, "cursor": self.cursor,
                **self.catalog.as_dict()}


class CatalogPoller:
    def __init__(self, engine: Engine, client, *, channel: str = "shopify", overlap: timedelta = timedelta(minutes=1),
                 page: int = 10, bulk: BulkQuery | None = None, chunk_variants: int = 100) -> None:
        self.engine = engine
        self.client = client
        self.channel = channel
        self.overlap = overlap
        self.page = page
        # Variants upserted a transaction: the poll runs beside the API, whose writes wait
        # for SQLite's write lock behind each (500 held it ~0.6 s; set-up imports keep 500).
        self.chunk_variants = chunk_variants
        self.stopping = threading.Event()  # set by the worker's stop: the poll ends, its cursor where it was
        self.bulk = bulk or BulkQuery(client, sleep=self._sleep_unless_stopping)

    def _sleep_unless_stopping(self, seconds: float) -> None:
        """Waiting for a bulk operation: a stop ends the wait (the next poll asks again)."""
        if self.stopping.wait(seconds):
            raise PollStopped("the worker is stopping")

    def poll_new(self) -> CatalogPollReport:
        return self.poll("new")

    def poll_updates(self) -> CatalogPollReport:
        return self.poll("updated")

    def poll(self, kind: str) -> CatalogPollReport:
        poll = POLLS[kind]
        if cursor_of(self.engine, self.channel, poll) is None:
            return self._full(poll)
        return self.apply(self.read(kind))

    # -- reading ------------------------------------------------------------------------------
    def read(self, kind: str) -> CatalogDelta:
        """Ask Shopify for the delta past the cursor; the first page (or the whole bulk
        operation) is fetched here, the rest streams while it is applied."""
        poll = POLLS[kind]
        stored = cursor_of(self.engine, self.channel, poll)
        if stored is None:
            raise LookupError(f"no {poll.cursor} cursor for {self.channel}: the catalog was never imported")
        search = f"{poll.search_field}:>'{shopify_time(parse_shopify_time(stored) - self.overlap)}'"
        delta = CatalogDelta(poll, search, "page", iter(()))
        first = self._page(search, poll, None)
        products, truncated = products_from_product_page(first["nodes"], delta.problems.append)
        if not first["pageInfo"]["hasNextPage"] and not truncated:
            delta.products = iter(products)
        else:
            try:
                done = self.bulk.wait(self.bulk.start(docs.catalog_bulk_query(search)).id)
                delta.source, delta.products = "bulk", products_from_bulk_lines(self.bulk.lines(done.url),
                                                                                delta.problems.append)
            except BulkOperationBusy as exc:
                log.warning("bulk operation refused, paging the product delta", channel=self.channel, reason=str(exc))
                delta.source, delta.products = "paged", self._rest(delta, products, first, truncated)
        delta.products = self._tracking_newest(delta, delta.products)
        return delta

    def _page(self, search: str, poll: ProductPoll, after: str | None) -> dict:
        return self.client.execute(docs.PRODUCTS_CHANGED, {"first": self.page, "after": after, "query": search,
                                                           "sortKey": poll.sort_key})["products"]

    def _rest(self, delta: CatalogDelta, products: list[ChannelProduct], page: dict,
              truncated: bool) -> Iterator[ChannelProduct]:
        while True:
            if truncated:
                delta.problems.append("a product has more than 25 variants; paged, only its first 25 were read")
            yield from products
            if not page["pageInfo"]["hasNextPage"]:
                return
            page = self._page(delta.search, delta.poll, page["pageInfo"]["endCursor"])
            products, truncated = products_from_product_page(page["nodes"], delta.problems.append)

    @staticmethod
    def _tracking_newest(delta: CatalogDelta, products: Iterator[ChannelProduct]) -> Iterator[ChannelProduct]:
        field_name = delta.poll.node_field
        for product in products:
            stamp = getattr(product, field_name)
            if stamp and (delta.newest is None or parse_shopify_time(stamp) > parse_shopify_time(delta.newest)):
                delta.newest = stamp
            yield product

    # -- applying -----------------------------------------------------------------------------
    def apply(self, delta: CatalogDelta) -> CatalogPollReport:
        """Upsert every product of the delta, then (only then) move the cursor."""
        importer = ChannelCatalogImport(self.engine, self.channel, chunk_variants=self.chunk_variants)
        stopped = False
        for product in delta.products:
            if self.stopping.is_set():  # what was added is applied; the cursor stays, the rest is read again
                stopped = True
                break
            importer.add(product)
        report = importer.finish()
        for problem in delta.problems:
            importer.reject(problem)
        if delta.newest and not stopped:
            advance(self.engine, self.channel, delta.poll, delta.newest)
        cursor = cursor_of(self.engine, self.channel, delta.poll)
        log.info("product poll applied", channel=self.channel, poll=delta.poll.kind, source=delta.source,
                 products=report.products_read, cursor=cursor)
        return CatalogPollReport(delta.poll.kind, delta.source, delta.search, report, cursor)

    def _full(self, poll: ProductPoll) -> CatalogPollReport:
        from omnihub.services.channel_setup import import_catalog  # set-up imports this module's cursors

        report, source = import_catalog(self.engine, self.client, channel=self.channel)
        return CatalogPollReport(poll.kind, f"full ({source})", "", report, cursor_of(self.engine, self.channel, poll))
