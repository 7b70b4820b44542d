"""The chaos day's database restart, piece by piece: a PostgreSQL server of the test's own
(never the machine's shared one) is stopped under a running hub API; while it is down every
request is answered 503 problem+json with Retry-After (nothing written), and once it is up
again the same API reads and writes without being restarted (its pool's dead sessions are
replaced). The whole day with the fault is tests/chaos/test_short_chaos_day.py."""

from __future__ import annotations

import threading
import time

from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.domain.orders import Address, Order, OrderLine
from omnihub.adapters.db.engine import migrate
from omnihub.benchmarks.scratch_db import scratch_database
from omnihub.entrypoints.chaos.private_postgres import PrivatePostgres
from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.conftest import BACKEND, add_location, add_skus, bearer, issue_token
from tests.live_server import LiveServer

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="a restart of PostgreSQL: the PostgreSQL pass runs it")


class _OrdersUntilStopped(threading.Thread):
    """Orders ingested through the stock writer one after another (their jobs claim keys:
    advisory locks on the writer's own session), counted; a failed one is sent again, as
    a channel's retry would, until it lands (ingest is idempotent by external id)."""

    def __init__(self, hub) -> None:
        super().__init__(daemon=True)
        self.hub = hub
        self.done = self.failed = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        n = 1
        while not self._stop_event.is_set() or n == self.done:  # ends with its last order in
            order = Order("shopify", f"#R{n}", datetime(2026, 11, 20, 10, 0, tzinfo=UTC), (OrderLine("1", "A", 1),),
                          shipping_address=Address(country="US"))
            try:
                self.hub.orders.ingest(order)
            except Exception:
                self.failed += 1
                time.sleep(0.05)
                continue
            self.done, n = n, n + 1

    def stop(self) -> None:
        time.sleep(0.5)  # a few orders once the server is back
        self._stop_event.set()
        self.join(90)


@pytest.fixture(scope="module")
def server():
    with PrivatePostgres() as pg:
        yield pg


def test_the_private_server_is_not_the_shared_one_and_restarts(server):
    assert server.port != 5432
    engine = sa.create_engine(server.url)
    with engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT pg_postmaster_start_time()").scalar()
    assert server.restart(0.5) >= 0.5
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_postmaster_start_time()").scalar() > before
    engine.dispose()


def test_while_the_database_is_down_the_api_answers_503_and_after_it_carries_on(server):
    from omnihub.entrypoints.api.app import create_app

    with scratch_database("postgresql", server.url) as url:
        migrate(url)
        hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
        try:
            add_location(hub, "ST")
            add_skus(hub, "A")
            hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
            auth = bearer(issue_token(hub, "admin"))
            with LiveServer(create_app(hub=hub)) as live, httpx.Client(base_url=live.url + "/api/v1", headers=auth,
                                                                        timeout=30) as api:
                assert api.post("/stock/receive", json={"sku": "A", "location": "ST", "quantity": 5}).status_code < 300
                writes = _OrdersUntilStopped(hub)  # the writer is mid-batch, holding claims, when the server stops
                writes.start()
                time.sleep(0.3)
                server.stop_server()
                try:
                    for call in (lambda: api.get("/atp/A"),
                                 lambda: api.post("/stock/receive", json={"sku": "A", "location": "ST", "quantity": 2})):
                        r = call()
                        assert r.status_code == 503, r.text
                        assert r.headers["content-type"].startswith("application/problem+json")
                        assert r.headers["retry-after"] == "5"
                        assert r.json()["code"] == "database_unavailable"
                finally:
                    server.start_server()
                    writes.stop()
                assert writes.failed > 0 and writes.done > 0, (writes.done, writes.failed)
                assert hub.writer._thread is not None and hub.writer._thread.is_alive()  # it outlived the restart
                r = api.post("/stock/receive", json={"sku": "A", "location": "ST", "quantity": 2})
                assert r.status_code < 300, r.text
                assert api.get("/positions/A").json()["locations"]["ST"]["on_hand"] == 7  # the refused receipt wrote nothing
                with hub.engine.connect() as conn:  # each order in once
                    assert conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar() == writes.done
        finally:
            hub.close()
