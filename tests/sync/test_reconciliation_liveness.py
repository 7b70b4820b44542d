"""Interrupted reconciliation runs (issue #5): a run whose process died is reported failed
with a reason as soon as its lease has run out, and a new run of the channel starts at
once; a run that is alive keeps its lease by its heartbeat, however long a step takes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.services.reconciliation import Reconciliation, RunInProgress


class _SlowEmptyChannel:
    """A channel that lists nothing, slowly: one read outlasts the lease several times."""

    channel, order_channels = "shopify", ("shopify",)

    def __init__(self, read_s: float) -> None:
        self.read_s = read_s
        self.reading = threading.Event()

    def levels(self, locations, expected=0):
        self.reading.set()
        time.sleep(self.read_s)
        return []

    def order_headers(self, since):
        return []


def _job(hub, reader, lease: timedelta) -> Reconciliation:
    return Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale,
                          {"shopify": reader}, lease=lease)


def _process_died(hub, run_id: int, ago: timedelta) -> None:
    """The process running `run_id` was SIGKILLed `ago`: its last heartbeat is that old."""
    r = t.reconciliation_runs
    with hub.engine.begin() as conn:
        conn.execute(r.update().where(r.c.id == run_id).values(heartbeat_at=datetime.now(UTC) - ago,
                                                                 owner="worker-7:4242"))


@pytest.fixture
def api_with_shopify(hub, serve):
    from cryptography.fernet import Fernet

    from omnihub.adapters.channels.credentials import CredentialVault
    from tests.conftest import admin_app

    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": "http://127.0.0.1:9", "access_token": "x", "client_secret": "y"})
    return serve(admin_app(hub))


def test_a_run_whose_process_died_is_reported_failed_and_a_new_one_starts_at_once(hub, api_with_shopify):
    api = api_with_shopify
    dead = _job(hub, _SlowEmptyChannel(0), timedelta(minutes=2)).open_run("shopify", "api")
    refused = httpx.post(api.url + "/api/v1/reconciliation/runs", json={"channel": "shopify"})
    assert refused.status_code == 409  # alive as far as anyone can tell: its lease is fresh
    _process_died(hub, dead, ago=timedelta(minutes=3))  # the default lease is 2 minutes

    shown = httpx.get(f"{api.url}/api/v1/reconciliation/runs/{dead}").json()

    assert shown["state"] == "failed" and shown["finished_at"]
    assert shown["error"].startswith("abandoned: no heartbeat from worker-7:4242 since") and "stopped" in shown["error"]
    started = httpx.post(api.url + "/api/v1/reconciliation/runs", json={"channel": "shopify"})
    assert started.status_code == 202, started.text  # not an hour later: at once
    assert started.json()["id"] != dead


def test_requesting_a_new_run_fails_the_orphan_without_anyone_reading_it_first(hub):
    job = _job(hub, _SlowEmptyChannel(0), timedelta(seconds=30))
    dead = job.open_run("shopify", "schedule")
    _process_died(hub, dead, ago=timedelta(seconds=31))

    fresh = job.open_run("shopify", "api")

    with hub.engine.connect() as conn:
        state, error = conn.execute(sa.select(t.reconciliation_runs.c.state, t.reconciliation_runs.c.error)
                                    .where(t.reconciliation_runs.c.id == dead)).one()
    assert fresh != dead and state == "failed" and "lease 30 s" in error


def test_a_live_run_keeps_its_lease_through_a_step_longer_than_the_lease(hub):
    reader = _SlowEmptyChannel(read_s=1.2)
    job = _job(hub, reader, timedelta(seconds=0.4))  # heartbeat every 0.1 s
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    run_id = job.open_run("shopify", "api")
    finished: list[dict] = []
    worker = threading.Thread(target=lambda: finished.append(job.run("shopify", run_id=run_id)))
    worker.start()
    assert reader.reading.wait(5)
    time.sleep(0.8)  # twice the lease, inside one step

    with pytest.raises(RunInProgress, match=f"run {run_id} of shopify is still going"):
        _job(hub, reader, timedelta(seconds=0.4)).open_run("shopify", "api")
    worker.join(10)
    assert finished and finished[0]["state"] == "done" and finished[0]["error"] is None
