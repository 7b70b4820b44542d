"""A large estate's level snapshot reads Shopify's levels by one bulk query (issue 24):
page by page a level costs ~3 points, and at 5 M levels every snapshot would hold a
Plus bucket for hours, starving the pushes. Over real HTTP against the sandbox: the
same differences are found either road, the bulk one without a single page of levels,
and a snapshot that meets another job's bulk operation compares nothing rather than
paging through the estate."""

from __future__ import annotations

import threading
import time

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.db import tables as t
from omnihub.services.channel_polling import ShopifyPoller
from tests.sync.shop_setup import connect_shopify


class _Counting:
    """The connector's client, counting the documents it sends."""

    def __init__(self, client) -> None:
        self.client = client
        self.sent: list[str] = []

    def execute(self, document, variables=None, **kw):
        self.sent.append(document)
        return self.client.execute(document, variables, **kw)

    def __getattr__(self, name):
        return getattr(self.client, name)


def _snapshot(hub, client, bulk_from):
    observed: list[tuple] = []
    poller = ShopifyPoller(hub.engine, client, hub.orders.ingest_many, channel="shopify", bulk_from=bulk_from,
                           observe_level=lambda channel, sku, code, available, read_at: observed.append((sku, code, available)))
    poller.poll_orders = lambda *a, **kw: None  # the sales behind differences: not this test's
    report = poller.snapshot_levels()
    return report, sorted(observed)


def test_a_large_estate_is_compared_from_one_bulk_query(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox()
    connector = shopify_connector(server.url)
    setup = connect_shopify(hub, connector)
    cl = t.channel_locations
    with hub.engine.connect() as conn:
        gid_of = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id).where(cl.c.channel == "shopify")).all())
    levels = sorted(setup["summary"].levels)
    edits = {levels[0]: 41, levels[-1]: 0}  # an admin's edits the hub never heard of
    for (sku, code), available in edits.items():
        r = httpx.post(server.url + "/_sandbox/inventory/admin-edits",
                       json={"sku": sku, "location_id": gid_of[code], "available": available})
        assert r.status_code < 300, r.text
    expected = sorted((sku, code, available) for (sku, code), available in edits.items())

    paged = _Counting(connector.client)
    report, found = _snapshot(hub, paged, bulk_from=None)
    assert found == expected and report.differences == len(edits)
    assert docs.RECONCILE_LOCATION_LEVELS in paged.sent and docs.BULK_RUN_QUERY not in paged.sent

    bulk = _Counting(connector.client)
    report, found = _snapshot(hub, bulk, bulk_from=1)
    assert found == expected and report.differences == len(edits) and report.seen == len(levels)
    assert bulk.sent.count(docs.BULK_RUN_QUERY) == 1 and docs.RECONCILE_LOCATION_LEVELS not in bulk.sent


def test_a_snapshot_that_meets_other_bulk_operations_waits_for_the_next_one(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox(bulk_operation_min_duration_s=600)  # each bulk operation runs ten minutes
    connector = shopify_connector(server.url)
    connect_shopify(hub, connector)
    for _ in range(5):  # as many as a shop runs at once (reconciliation's and others')
        running = connector.client.execute(docs.BULK_RUN_QUERY, {"query": "{ products { edges { node { id } } } }"})
        assert running["bulkOperationRunQuery"]["bulkOperation"], running
    client = _Counting(connector.client)
    report, found = _snapshot(hub, client, bulk_from=1)
    if docs.RECONCILE_LOCATION_LEVELS in client.sent or report.seen:
        raise AssertionError(f"the snapshot paged through the estate: {report}")
    assert client.sent.count(docs.BULK_RUN_QUERY) == 1 and found == [] and not report.stopped


def test_the_workers_stop_cuts_the_wait_for_the_bulk_query_short(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox(bulk_operation_min_duration_s=600)
    connector = shopify_connector(server.url)
    connect_shopify(hub, connector)
    client = _Counting(connector.client)
    poller = ShopifyPoller(hub.engine, client, hub.orders.ingest_many, channel="shopify", bulk_from=1,
                           observe_level=lambda *a: None)
    reports = []
    job = threading.Thread(target=lambda: reports.append(poller.snapshot_levels()))
    job.start()
    while docs.BULK_OPERATION not in client.sent and job.is_alive():  # started, and polling its status
        time.sleep(0.01)
    poller.stopping.set()
    job.join(60)  # the operation itself would run ten minutes
    assert not job.is_alive() and reports and reports[0].stopped and reports[0].seen == 0
