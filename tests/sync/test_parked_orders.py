"""An order for a SKU the hub does not know is parked once, with its reason, where an
operator looks (the API's inbox failures and `omnihub sync inbox-failures`); polling it
again, or hearing of it in a notification, neither refuses nor logs it again. Over real
HTTP against the Amazon sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import structlog
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from omnihub.adapters.channels.credentials import CredentialVault
from tests.conftest import admin_app
from omnihub.entrypoints.cli.main import app as cli
from omnihub.services.channel_polling import AmazonPoller
from tests.conftest import add_location, add_skus


def _operations(client, name: str) -> int:
    return sum(1 for op, *_ in client.sent if op == name)


def test_an_unknown_sku_order_is_parked_once_and_not_refused_again_by_polls(hub, serve, amazon_sandbox,
                                                                            amazon_connector):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, "A")
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    api = serve(admin_app(hub))
    amazon, _, cfg = amazon_sandbox(catalog_size=2, rate_multiplier=50.0)
    control = amazon.url + "/_sandbox"
    unknown = httpx.get(control + "/listings").json()["listings"][0]["sku"]  # a listing the hub never imported
    httpx.put(f"{control}/listings/{unknown}", json={"quantity": 5}).raise_for_status()
    placed = httpx.post(control + "/orders", json={"lines": [{"sku": unknown, "quantity": 1}],
                                                   "ship_to": {"postal_code": "10001"}})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["amazon_order_id"]
    # getOrders serves nothing newer than two minutes ago: let the sandbox's time pass.
    httpx.post(control + "/clock/advance", json={"seconds": 180}).raise_for_status()

    conn = amazon_connector(amazon.url, cfg)
    poller = AmazonPoller(hub.engine, conn.client, hub.orders.ingest_many)
    since = datetime.now(UTC) - timedelta(days=1)
    with structlog.testing.capture_logs() as logs:
        first = poller.poll_orders(since=since)
        second = poller.poll_orders(since=since)
        # The same order told by a notification (ORDER_CHANGE) goes the same way: counted, not logged.
        hub.inbox.fetch_amazon_order = conn.fetch_order
        note = {"NotificationType": "ORDER_CHANGE", "NotificationMetadata": {"NotificationId": "n-1"},
                "Payload": {"OrderChangeNotification": {"AmazonOrderId": order_id}}}
        import json

        assert hub.inbox.accept("amazon", "n-1", "ORDER_CHANGE", {}, json.dumps(note).encode()) == "accepted"
        hub.inbox.drain()
    assert (first.refused, first.ingested) == (1, 0), first
    assert (second.refused, second.parked_skipped) == (0, 1), second
    assert _operations(conn.client, "getOrderItems") == 2  # the first poll's and the notification's, not the second poll's
    parked_logs = [e for e in logs if e["event"] == "order refused and parked"]
    assert len(parked_logs) == 1 and parked_logs[0]["order"] == order_id, logs
    assert not [e for e in logs if e.get("log_level") in ("warning", "error") and e["event"] != "order refused and parked"]

    failures = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert len(failures) == 1, failures  # one row for the order; the notification itself was processed
    [row] = failures
    assert row["state"] == "parked" and row["topic"] == "order/refused" and order_id in row["delivery_id"]
    assert "unknown_sku" in row["error"] and unknown in row["error"] and row["attempts"] == 2

    out = CliRunner().invoke(cli, ["sync", "inbox-failures", "--database-url", hub.settings.database_url],
                             env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "parked" in out.output and order_id in out.output and "unknown_sku" in out.output
