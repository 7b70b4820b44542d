"""The Notifications API, so that an app subscribes itself: grantless destinations, the
seller's subscriptions, and (with notifications_by_subscription) delivery only of what is
subscribed, under the subscription's id and event filter; every answer per the model."""

from __future__ import annotations

from amazon_sandbox_harness import Seller, TestClient, create_app
from spapi_contract import assert_response, body_errors, notification_errors

M = "notifications.json"
BASE = "/notifications/v1"
ARN = "arn:aws:sqs:us-east-1:123456789012:omnihub-notifications"


def _destination(seller: Seller, arn: str = ARN) -> str:
    body = {"name": "omnihub", "resourceSpecification": {"sqs": {"arn": arn}}}
    assert body_errors(M, "createDestination", body) == []
    answer = seller.grantless("POST", f"{BASE}/destinations", json=body)
    return assert_response(M, "createDestination", answer)["payload"]["destinationId"]


def _subscribe(seller: Seller, destination_id: str, kind: str = "ORDER_CHANGE", **extra):
    body = {"payloadVersion": "1.0", "destinationId": destination_id, **extra}
    assert body_errors(M, "createSubscription", body) == []
    return seller.call("POST", f"{BASE}/subscriptions/{kind}", json=body)


def test_destinations_are_grantless(seller: Seller) -> None:
    destination_id = _destination(seller)
    listed = assert_response(M, "getDestinations", seller.grantless("GET", f"{BASE}/destinations"))["payload"]
    assert listed == [{"name": "omnihub", "destinationId": destination_id, "resource": {"sqs": {"arn": ARN}}}]
    one = assert_response(M, "getDestination", seller.grantless("GET", f"{BASE}/destinations/{destination_id}"))
    assert one["payload"]["destinationId"] == destination_id
    again = seller.grantless("POST", f"{BASE}/destinations", json={"name": "x", "resourceSpecification": {
        "sqs": {"arn": ARN}}})
    assert again.status_code == 409 and assert_response(M, "createDestination", again)
    bad = seller.grantless("POST", f"{BASE}/destinations", json={"name": "x", "resourceSpecification": {
        "sqs": {"arn": "https://sqs.example/queue"}}})
    assert bad.status_code == 400 and assert_response(M, "createDestination", bad)
    bridge = seller.grantless("POST", f"{BASE}/destinations", json={"name": "bus", "resourceSpecification": {
        "eventBridge": {"region": "us-east-1", "accountId": "123456789012"}}})
    assert assert_response(M, "createDestination", bridge)["payload"]["resource"]["eventBridge"]["name"]
    as_seller = seller.call("GET", f"{BASE}/destinations")  # a selling partner's token is not the app's
    assert as_seller.status_code == 403 and assert_response(M, "getDestinations", as_seller)
    missing = seller.grantless("GET", f"{BASE}/destinations/nope")
    assert missing.status_code == 404 and assert_response(M, "getDestination", missing)


def test_lwa_grants_a_grantless_token_only_for_its_scope(seller: Seller) -> None:
    form = {"grant_type": "client_credentials", "client_id": seller.config.lwa_client_id,
            "client_secret": seller.config.lwa_client_secret}
    granted = seller.http.post("/auth/o2/token", data={**form, "scope": "sellingpartnerapi::notifications"})
    assert granted.status_code == 200 and granted.json()["scope"] == "sellingpartnerapi::notifications"
    assert seller.http.post("/auth/o2/token", data={**form, "scope": "sellingpartnerapi::everything"}).json()[
        "error"] == "invalid_scope"
    assert seller.http.post("/auth/o2/token", data=form).status_code == 400
    wrong = seller.http.post("/auth/o2/token", data={**form, "client_secret": "x", "scope": "sellingpartnerapi::notifications"})
    assert wrong.status_code == 401
    app_token = granted.json()["access_token"]
    orders = seller.http.get("/orders/v0/orders/111-0000000-0000000", headers={"x-amz-access-token": app_token})
    assert orders.status_code == 403 and "grantless" in orders.json()["errors"][0]["details"]


def test_the_seller_subscribes_and_the_app_reads_and_deletes_by_id(seller: Seller) -> None:
    destination_id = _destination(seller)
    created = assert_response(M, "createSubscription", _subscribe(seller, destination_id))["payload"]
    assert created["destinationId"] == destination_id and created["payloadVersion"] == "1.0"
    twice = _subscribe(seller, destination_id)
    assert twice.status_code == 409 and assert_response(M, "createSubscription", twice)
    for bad in (_subscribe(seller, "no-such-destination"), _subscribe(seller, destination_id, kind="FEED_PROCESSING_FINISHED"),
                seller.call("POST", f"{BASE}/subscriptions/ORDER_CHANGE", json={"payloadVersion": "2.0",
                                                                               "destinationId": destination_id})):
        assert bad.status_code in (400, 409) and assert_response(M, "createSubscription", bad)
    got = assert_response(M, "getSubscription", seller.call("GET", f"{BASE}/subscriptions/ORDER_CHANGE"))["payload"]
    assert got == created
    listed = assert_response(M, "getSubscriptions", seller.call("GET", f"{BASE}/subscriptions", params={
        "notificationTypes": "ORDER_CHANGE,LISTINGS_ITEM_MFN_QUANTITY_CHANGE"}))["payload"]["subscriptions"]
    assert listed == [created]
    by_id = f"{BASE}/subscriptions/ORDER_CHANGE/{created['subscriptionId']}"
    assert assert_response(M, "getSubscriptionById", seller.grantless("GET", by_id))["payload"] == created
    in_use = seller.grantless("DELETE", f"{BASE}/destinations/{destination_id}")
    assert in_use.status_code == 409 and assert_response(M, "deleteDestination", in_use)
    assert assert_response(M, "deleteSubscriptionById", seller.grantless("DELETE", by_id)) == {}
    gone = seller.call("GET", f"{BASE}/subscriptions/ORDER_CHANGE")
    assert gone.status_code == 404 and assert_response(M, "getSubscription", gone)
    assert assert_response(M, "deleteDestination", seller.grantless("DELETE", f"{BASE}/destinations/{destination_id}")) == {}


def _outbox(seller: Seller) -> list[dict]:
    return seller.http.get("/_sandbox/notifications", params={"type": "ORDER_CHANGE"}).json()["notifications"]


def test_with_subscriptions_only_what_is_subscribed_goes_out(make_config, clock) -> None:
    config = make_config(notifications_by_subscription=True)
    seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    sku = seller.listings()[0]["sku"]
    seller.set_quantity(sku, 50)
    assert seller.buy((sku, 1)).status_code == 201  # nobody subscribed: recorded, never sent
    (unsent,) = _outbox(seller)
    assert unsent["copies"] == 0
    destination_id = _destination(seller)
    subscription = _subscribe(seller, destination_id, processingDirective={"eventFilter": {
        "eventFilterType": "ORDER_CHANGE", "orderChangeTypes": ["BuyerRequestedChange"]}}).json()["payload"]
    order_id = seller.buy((sku, 1)).json()["amazon_order_id"]  # an OrderStatusChange: filtered out
    assert seller.http.post(f"/_sandbox/orders/{order_id}/cancel").status_code == 200  # a BuyerRequestedChange
    _, placed, cancelled = _outbox(seller)
    assert placed["copies"] == 0
    assert cancelled["copies"] >= 1
    metadata = cancelled["notification"]["NotificationMetadata"]
    assert metadata["SubscriptionId"] == subscription["subscriptionId"]
    assert not notification_errors("OrderChangeNotification.json", cancelled["notification"])
    quantity_changes = seller.http.get("/_sandbox/notifications", params={
        "type": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"}).json()["notifications"]
    assert quantity_changes and {n["copies"] for n in quantity_changes} == {0}  # a type nobody subscribed to
    assert seller.http.get("/_sandbox/stats").json()["notifications_unsubscribed"] == 2 + len(quantity_changes)
