"""State survives a restart; notifications are lost and duplicated at the configured rates."""

from __future__ import annotations

import json
import threading

from fastapi import FastAPI, Request

from amazon_sandbox_harness import Seller, TestClient, create_app
from omnihub_sandbox.amazon.notifications import delivery_copies
from spapi_contract import notification_errors


def test_state_survives_restart(make_config, clock) -> None:
    config = make_config()
    first = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    sku = first.listings()[0]["sku"]
    assert first.patch_quantity(sku, 12).status_code == 200
    order_id = first.buy((sku, 2)).json()["amazon_order_id"]
    first.advance(3600 * 5)  # time travel is part of the state
    token = first.login()
    first.http.app.state.sandbox.store.close()

    second = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    second._token = token  # the access token survives too
    assert {r["sku"]: r["quantity"] for r in second.listings()}[sku] == 10
    order = second.call("GET", f"/orders/v0/orders/{order_id}").json()["payload"]
    assert order["OrderStatus"] == "Unshipped"
    assert second.http.get("/_sandbox/clock").json()["offset_seconds"] == 3600 * 5
    assert second.http.get("/_sandbox/stats").json()["orders_placed"] == 1
    assert len(second.listings()) == config.catalog_size  # the catalog is not re-seeded over the state


def test_loss_and_duplicate_rates_within_tolerance() -> None:
    n = 20_000
    copies = [delivery_copies(7, seq, 0.1, 0.2) for seq in range(1, n + 1)]
    lost = copies.count(0) / n
    duplicated = copies.count(2) / (n - copies.count(0))
    assert abs(lost - 0.1) < 0.01 and abs(duplicated - 0.2) < 0.015, (lost, duplicated)
    assert copies == [delivery_copies(7, seq, 0.1, 0.2) for seq in range(1, n + 1)]  # seeded


def test_notifications_posted_to_destination_match_schemas(make_config, serve, clock) -> None:
    received: list[dict] = []
    lock = threading.Lock()
    receiver = FastAPI()

    @receiver.post("/sqs")
    async def sqs(request: Request) -> dict:
        with lock:
            received.append(json.loads(await request.body()))
        return {}

    with serve(receiver) as destination:
        config = make_config(notification_destination=f"{destination.url}/sqs", notification_loss_rate=0.2,
                             notification_duplicate_rate=0.3, seed=11, catalog_size=5)
        seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
        sku = seller.listings()[0]["sku"]
        seller.set_quantity(sku, 500)
        for _ in range(150):
            assert seller.buy((sku, 1)).status_code == 201
        clock.advance(120)
        seller.http.post("/_sandbox/tick")
        for _ in range(10):  # 500 per round
            if not seller.http.post("/_sandbox/notifications/deliver").json()["delivered"]:
                break
        outbox = seller.http.get("/_sandbox/notifications", params={"limit": 10000}).json()["notifications"]
        assert all(n["sent"] for n in outbox), [n for n in outbox if not n["sent"]][:2]

    expected_posts = sum(n["copies"] for n in outbox)
    assert len(received) == expected_posts
    for body in received:
        schema = {"ORDER_CHANGE": "OrderChangeNotification.json",
                  "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "ListingsItemMfnQuantityChange.json"}[body["NotificationType"]]
        assert not notification_errors(schema, body), notification_errors(schema, body)
    unique = {b["NotificationMetadata"]["NotificationId"] for b in received}
    total = len(outbox)
    lost_rate = 1 - len(unique) / total
    dup_rate = (len(received) - len(unique)) / len(unique)
    assert total > 400  # 150 new orders, 150 payments, 150 + quantity changes
    assert abs(lost_rate - 0.2) < 0.06 and abs(dup_rate - 0.3) < 0.07, (lost_rate, dup_rate)
    quantities = [b["Payload"]["Quantity"] for b in received
                  if b["NotificationType"] == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE" and b["Payload"]["Sku"] == sku]
    assert min(quantities) >= 350 and max(quantities) <= 500
