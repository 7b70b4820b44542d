"""Late channel notifications (issue #5): Amazon's listings notifications and Shopify's
inventory_levels/update webhooks can arrive long after the moment they describe. One
older than the level the hub already confirmed (here: a push Amazon acknowledged) leaves
that level alone and starts no re-assert hold; a newer one still counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.amazon.usage_plans import OFFICIAL_PLANS, UsagePlan, UsagePlanLimiter
from omnihub.adapters.db import tables as t
from omnihub.services.channel_sync import is_late
from tests.conftest import add_location, add_skus

SKU = "RAIN-S"


def _quantity_change(quantity: int, event_time: datetime) -> bytes:
    """A LISTINGS_ITEM_MFN_QUANTITY_CHANGE as the official schema shapes it."""
    stamp = event_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({
        "NotificationVersion": "1.0", "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "PayloadVersion": "1.0",
        "EventTime": stamp,
        "Payload": {"SellerId": "A1SANDBOX", "FulfillmentChannelCode": "DEFAULT", "Sku": SKU, "Quantity": quantity},
        "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.omnihub", "SubscriptionId": "sub-1",
                                 "PublishTime": stamp, "NotificationId": str(uuid.uuid4())}}).encode()


def _deliver(hub, body: bytes) -> None:
    note_id = json.loads(body)["NotificationMetadata"]["NotificationId"]
    assert hub.inbox.accept("amazon", note_id, "LISTINGS_ITEM_MFN_QUANTITY_CHANGE", {}, body) == "accepted"
    assert hub.inbox.process_once() == 1


def _level(hub) -> tuple[int, datetime]:
    lv = t.channel_levels
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(lv.c.confirmed, lv.c.confirmed_at).where(
            lv.c.channel == "amazon_seller", lv.c.sku == SKU, lv.c.location == "")).one()


def _intents(hub) -> list[tuple]:
    i = t.sync_intents
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(i.c.target, i.c.next_attempt_at).where(i.c.channel == "amazon_seller")).all()


def test_an_old_notification_after_a_newer_push_confirmation_changes_nothing(hub, amazon_sandbox, amazon_connector):
    server, _, cfg = amazon_sandbox(rate_multiplier=20.0)
    fast = UsagePlanLimiter({op: UsagePlan(p.rate * 20, max(1, int(p.burst * 20))) for op, p in OFFICIAL_PLANS.items()})
    connector = amazon_connector(server.url, cfg, limiter=fast)
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, SKU)
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.catalog.set_listing("amazon_seller", SKU, SKU)
    assert httpx.put(f"{server.url}/_sandbox/listings/{SKU}", json={"quantity": 0}).status_code == 200
    hub.sync.register("amazon_seller", connector.pusher)
    before_push = datetime.now(UTC)
    hub.inventory.receive(SKU, "WH", 9)
    hub.relay.drain()
    hub.sync.flush()
    assert hub.sync.run_channel_once("amazon_seller") == 1  # Amazon acknowledged 9
    confirmed = _level(hub)
    assert confirmed[0] == 9 and _intents(hub) == []

    # Sent while Amazon still showed the 4 it had before the push, delivered only now.
    _deliver(hub, _quantity_change(4, before_push - timedelta(seconds=30)))

    assert _level(hub) == confirmed  # neither the figure nor when it was confirmed moved
    assert _intents(hub) == []  # and no re-assert hold was started

    # A newer notification is believed: Amazon shows 7 now (a sale not ingested yet?).
    _deliver(hub, _quantity_change(7, datetime.now(UTC) + timedelta(seconds=1)))
    assert _level(hub)[0] == 7
    assert [target for target, _ in _intents(hub)] == [9]  # the hub's figure, re-asserted after the hold


def test_lateness_is_judged_at_the_observations_own_precision():
    acked = datetime(2026, 11, 30, 12, 0, 0, 700_000, tzinfo=UTC)
    assert is_late(datetime(2026, 11, 30, 11, 59, 59, tzinfo=UTC), acked)
    assert not is_late(datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC), acked)  # Shopify's whole second: can't tell
    assert is_late(datetime(2026, 11, 30, 12, 0, 0, 500_000, tzinfo=UTC), acked)  # Amazon's milliseconds can
    assert not is_late(datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC), acked)
    assert not is_late(datetime(2020, 1, 1, tzinfo=UTC), None)  # nothing held yet
