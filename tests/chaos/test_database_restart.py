"""The chaos day's database restart, piece by piece: a PostgreSQL server of the test's own
(never the machine's shared one) is stopped under a running hub API; while it is down every
request is answered 503 problem+json with Retry-After (nothing written), and once it is up
again the same API reads and writes without being restarted (its pool's dead sessions are
replaced). The whole day with the fault is tests/chaos/test_short_chaos_day.py."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.db.engine import migrate
from omnihub.benchmarks.scratch_db import scratch_database
from omnihub.entrypoints.chaos.private_postgres import PrivatePostgres
from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.conftest import BACKEND, add_location, add_skus, bearer, issue_token
from tests.live_server import LiveServer

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="a restart of PostgreSQL: the PostgreSQL pass runs it")


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
            auth = bearer(issue_token(hub, "admin"))
            with LiveServer(create_app(hub=hub)) as live, httpx.Client(base_url=live.url + "/api/v1", headers=auth,
                                                                        timeout=30) as api:
                assert api.post("/stock/receive", json={"sku": "A", "location": "ST", "quantity": 5}).status_code < 300
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
                r = api.post("/stock/receive", json={"sku": "A", "location": "ST", "quantity": 2})
                assert r.status_code < 300, r.text
                assert api.get("/positions/A").json()["locations"]["ST"]["on_hand"] == 7  # the refused receipt wrote nothing
        finally:
            hub.close()
