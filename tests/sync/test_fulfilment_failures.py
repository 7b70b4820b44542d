"""Shipments the channels could not be told about are visible: Prometheus counters of
fulfilment pushes sent, failed, retried and parked at /metrics, and the failed or parked
ones listed with the channel's last answer by the API and the CLI, each with a retry that
makes it due now."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from omnihub.domain.channel_fulfilment import NoticeRefused, Told
from tests.conftest import admin_app
from omnihub.entrypoints.cli.main import app as cli
from omnihub.services.fulfilment_sync import FulfilmentSync
from tests.sync.test_fulfilment_sync import _Flaky, _shipped_order

NAMES = ("sent", "failed", "retries", "parked")


def _counters(channel: str) -> dict[str, float]:
    return {n: REGISTRY.get_sample_value(f"omnihub_fulfilment_{n}_total", {"channel": channel}) or 0.0 for n in NAMES}


def _delta(before: dict, after: dict) -> dict:
    return {n: after[n] - before[n] for n in NAMES}


def test_counters_and_the_api_list_and_retry(stocked, serve):
    hub = stocked
    api = serve(admin_app(hub))
    down, refused = _shipped_order(hub, "6001"), _shipped_order(hub, "6002")
    notifier = _Flaky([ConnectionError("shop down"), NoticeRefused("order cancelled on the channel"),
                       Told("gid://shopify/Fulfillment/1"), Told("gid://shopify/Fulfillment/2")])
    job = FulfilmentSync(hub.engine, {"shopify": notifier}, backoff_base_s=3600)
    before = _counters("shopify")
    run = job.run_once()
    assert (run.retrying, run.dead, run.sent) == (1, 1, 0)
    assert _delta(before, _counters("shopify")) == {"sent": 0, "failed": 2, "retries": 1, "parked": 1}
    exposition = httpx.get(api.url + "/metrics").text
    for name in NAMES:
        assert f'omnihub_fulfilment_{name}_total{{channel="shopify"}}' in exposition, name

    listed = httpx.get(api.url + "/api/v1/sync/fulfilments/failures").json()["failures"]
    by_order = {f["order_id"]: f for f in listed}
    assert set(by_order) == {down, refused}
    assert (by_order[down]["state"], by_order[down]["attempts"]) == ("pending", 1)
    assert "shop down" in by_order[down]["last_error"]
    assert by_order[refused]["state"] == "dead" and "cancelled" in by_order[refused]["last_error"]
    assert httpx.get(api.url + "/api/v1/sync/fulfilments/failures", params={"channel": "amazon_seller"}).json() == {
        "failures": []}

    assert job.run_once().sent == 0  # the first waits out an hour's back-off; the parked one waits for an operator
    for f in listed:
        answer = httpx.post(api.url + f"/api/v1/sync/fulfilments/{f['id']}/retry")
        assert answer.status_code == 200 and answer.json() == {"id": f["id"], "state": "pending"}
    assert job.run_once().sent == 2
    assert _delta(before, _counters("shopify")) == {"sent": 2, "failed": 2, "retries": 1, "parked": 1}
    assert httpx.get(api.url + "/api/v1/sync/fulfilments/failures").json() == {"failures": []}
    again = httpx.post(api.url + f"/api/v1/sync/fulfilments/{listed[0]['id']}/retry")  # sent: nothing to retry
    assert again.status_code == 404 and again.headers["content-type"] == "application/problem+json"


def test_the_cli_lists_failures_and_retries_one(stocked, clean_url):
    hub = stocked
    order_id = _shipped_order(hub, "6101")
    job = FulfilmentSync(hub.engine, {"shopify": _Flaky([NoticeRefused("order 6101 was cancelled"), Told("9")])})
    assert job.run_once().dead == 1
    [row] = job.failures()
    run = CliRunner()
    env = {"COLUMNS": "200"}
    listed = run.invoke(cli, ["sync", "fulfilment-failures", "--database-url", clean_url], env=env)
    assert listed.exit_code == 0, listed.output
    assert "1 fulfilments not sent" in listed.output and "order 6101 was cancelled" in listed.output
    assert str(order_id) in listed.output and "dead" in listed.output

    retried = run.invoke(cli, ["sync", "fulfilment-retry", str(row["id"]), "--database-url", clean_url], env=env)
    assert retried.exit_code == 0 and "due again" in retried.output, retried.output
    assert job.run_once().sent == 1
    unknown = run.invoke(cli, ["sync", "fulfilment-retry", str(row["id"]), "--database-url", clean_url], env=env)
    assert unknown.exit_code == 1 and "no failed or parked fulfilment" in unknown.output
    listed = run.invoke(cli, ["sync", "fulfilment-failures", "--database-url", clean_url], env=env)
    assert "0 fulfilments not sent" in listed.output
