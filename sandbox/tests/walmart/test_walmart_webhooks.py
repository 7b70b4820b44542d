"""Webhook subscriptions and their deliveries over real HTTP: the three authentication methods,
WM_SEC.SIGNATURE checked the way a receiver checks it, retries, and the events raised."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from typing import Any, Iterator
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnihub_sandbox.serving import SandboxServer
from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller

SKU = "WM-00001"


class Receiver:
    """A subscriber on loopback: records every request, answers what it is told to."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.tokens_issued = 0
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.requests.append({"path": request.url.path, "query": request.url.query, "body": body,
                                      "headers": dict(request.headers)})
            return Response(status_code=self.status)

        async def token(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.tokens_issued += 1
                self.requests.append({"path": "/oauth", "body": body, "headers": dict(request.headers)})
            return JSONResponse({"access_token": f"receiver-token-{self.tokens_issued}", "expires_in": 3600})

        self.app = Starlette(routes=[Route("/hooks/{name}", hook, methods=["POST"]), Route("/oauth", token, methods=["POST"])])

    def hooks(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith("/hooks")]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    subscriber = Receiver()
    with SandboxServer(subscriber.app) as server:
        yield subscriber, server.url


def verify(request: dict[str, Any], secret: str) -> bool:
    """A receiver's check of WM_SEC.SIGNATURE, written from Walmart's description."""
    path = request["path"] + (f"?{request['query']}" if request.get("query") else "")
    timestamp = request["headers"]["wm_sec.timestamp"]
    to_sign = "\n".join(["POST", path, timestamp, hashlib.sha256(request["body"]).hexdigest()])
    expected = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, request["headers"]["wm_sec.signature"])


def subscribe(seller: Seller, url: str, auth: dict[str, Any] | None, event: str = "PO_CREATED", **extra: Any) -> dict:
    resource = "INVENTORY" if event == "INVENTORY_OOS" else "ORDER"
    body: dict[str, Any] = {"eventType": event, "eventVersion": "V1", "resourceName": resource, "eventUrl": url, **extra}
    if auth:
        body["authDetails"] = auth
    answer = seller.call("POST", "/v3/webhooks/subscriptions", json={"events": [body]})
    assert answer.status_code == 200, answer.text
    assert problems("Subscriptions", answer.json()) == []
    return dict(answer.json()["events"][0])


def _deliver(seller: Seller) -> int:
    return int(seller.http.post("/_sandbox/webhooks/deliver").json()["delivered"])


def _stock(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 5, "shelf": 5}})


def test_po_created_with_hmac_is_signed_and_verifiable(seller: Seller, receiver, clock) -> None:
    subscriber, base = receiver
    created = subscribe(seller, f"{base}/hooks/orders?tenant=a", {"authMethod": "HMAC", "clientSecret": "receiver-secret",
                                                                   "authHeaderName": "X-Walmart-Hmac"},
                        headers={"X-Tenant": "a"})
    assert "clientSecret" not in created["authDetails"] and created["status"] == "ACTIVE"
    _stock(seller)
    po = seller.bought((SKU, 2))
    assert _deliver(seller) == 1
    [request] = subscriber.hooks()
    notification = json.loads(request["body"])
    assert problems("Notification", notification) == []
    assert notification["source"]["eventType"] == "PO_CREATED" and notification["payload"]["purchaseOrderId"] == po
    assert notification["payload"]["orderLines"][0]["quantity"] == {"unitOfMeasure": "EACH", "measurementValue": "2"}
    assert verify(request, seller.config.webhook_signing_secret)
    assert request["headers"]["wm_sec.timestamp"] == str(int(clock()))
    assert not verify({**request, "body": request["body"].replace(b'"2"', b'"3"')}, seller.config.webhook_signing_secret)
    assert not verify(request, "another-secret")
    expected = base64.b64encode(hmac.new(b"receiver-secret", request["body"], hashlib.sha256).digest()).decode()
    assert request["headers"]["x-walmart-hmac"] == expected and request["headers"]["x-tenant"] == "a"
    assert _deliver(seller) == 0  # delivered once


def test_basic_auth_deliveries(seller: Seller, receiver) -> None:
    subscriber, base = receiver
    subscribe(seller, f"{base}/hooks/basic", {"authMethod": "BASIC_AUTH", "userName": "walmart", "password": "pa:ss"})
    _stock(seller)
    seller.bought((SKU, 1))
    assert _deliver(seller) == 1
    [request] = subscriber.hooks()
    assert request["headers"]["authorization"] == "Basic " + base64.b64encode(b"walmart:pa:ss").decode()
    assert verify(request, seller.config.webhook_signing_secret)


def test_oauth_deliveries_fetch_a_token_keep_it_and_renew_it_after_a_401(seller: Seller, receiver) -> None:
    subscriber, base = receiver
    subscribe(seller, f"{base}/hooks/oauth", {"authMethod": "OAUTH", "clientId": "walmart-app", "clientSecret": "s3",
                                              "authUrl": f"{base}/oauth"})
    _stock(seller)
    seller.bought((SKU, 1))
    seller.bought((SKU, 1))
    assert _deliver(seller) == 2
    token_calls = [r for r in subscriber.requests if r["path"] == "/oauth"]
    assert len(token_calls) == 1
    assert parse_qs(token_calls[0]["body"].decode()) == {"grant_type": ["client_credentials"]}
    assert token_calls[0]["headers"]["authorization"] == "Basic " + base64.b64encode(b"walmart-app:s3").decode()
    assert token_calls[0]["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
    assert [r["headers"]["authorization"] for r in subscriber.hooks()] == ["Bearer receiver-token-1"] * 2
    subscriber.status = 401
    seller.bought((SKU, 1))
    assert _deliver(seller) == 0
    subscriber.status = 200
    seller.advance(60)  # the first retry is due
    assert _deliver(seller) == 1
    assert subscriber.hooks()[-1]["headers"]["authorization"] == "Bearer receiver-token-2"


def test_a_refusing_subscriber_is_retried_with_backoff_then_given_up(make_seller, make_config, receiver, clock) -> None:
    seller = make_seller(make_config(webhook_max_attempts=3, webhook_retry_seconds=10))
    subscriber, base = receiver
    subscribe(seller, f"{base}/hooks/down", None)
    subscriber.status = 500
    _stock(seller)
    seller.bought((SKU, 1))
    assert _deliver(seller) == 0 and len(subscriber.hooks()) == 1
    clock.advance(9)
    assert _deliver(seller) == 0 and len(subscriber.hooks()) == 1  # not due before 10 s
    clock.advance(1)
    _deliver(seller)
    clock.advance(20)  # the wait doubles
    _deliver(seller)
    clock.advance(1000)
    _deliver(seller)
    assert len(subscriber.hooks()) == 3
    [delivery] = seller.http.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert (delivery["attempts"], delivery["gaveUp"], delivery["lastStatus"]) == (3, True, 500)


def test_inactive_updated_and_deleted_subscriptions(seller: Seller, receiver) -> None:
    subscriber, base = receiver
    sub = subscribe(seller, f"{base}/hooks/x", None, status="INACTIVE")
    _stock(seller)
    seller.bought((SKU, 1))
    assert _deliver(seller) == 0 and subscriber.hooks() == []
    sid = sub["subscriptionId"]
    patched = seller.call("PATCH", f"/v3/webhooks/subscriptions/{sid}", json={"status": "ACTIVE", "eventUrl": f"{base}/hooks/y"})
    assert patched.status_code == 200 and patched.json()["events"][0]["eventUrl"].endswith("/hooks/y")
    seller.bought((SKU, 1))
    assert _deliver(seller) == 1 and subscriber.hooks()[0]["path"] == "/hooks/y"
    listed = seller.call("GET", "/v3/webhooks/subscriptions", params={"eventType": "PO_CREATED"}).json()
    assert [e["subscriptionId"] for e in listed["events"]] == [sid]
    assert seller.call("DELETE", f"/v3/webhooks/subscriptions/{sid}").status_code == 200
    assert seller.call("DELETE", f"/v3/webhooks/subscriptions/{sid}").status_code == 404
    seller.bought((SKU, 1))
    assert _deliver(seller) == 0


@pytest.mark.parametrize("event, auth, field", [
    ({"eventType": "OFFER_UNPUBLISHED", "resourceName": "ITEM"}, None, "eventType"),
    ({"resourceName": "INVENTORY"}, None, "resourceName"),
    ({"eventUrl": "https://hooks.example.com/walmart"}, None, "eventUrl"),
    ({}, {"authMethod": "HMAC"}, "authDetails"),
    ({}, {"authMethod": "OAUTH", "clientId": "a", "clientSecret": "b", "authUrl": "http://192.0.2.1/token"}, "authUrl"),
    ({}, {"authMethod": "KERBEROS"}, "authDetails.authMethod"),
])
def test_bad_subscriptions_are_refused_with_the_field(seller: Seller, event, auth, field) -> None:
    body = {"eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER", "eventUrl": "http://127.0.0.1:9/h",
            **event}
    if auth:
        body["authDetails"] = auth
    answer = seller.call("POST", "/v3/webhooks/subscriptions", json={"events": [body]})
    assert answer.status_code == 400 and problems("ErrorResponse", answer.json()) == []
    assert answer.json()["errors"][0]["field"].endswith(field), answer.json()
    assert seller.call("GET", "/v3/webhooks/subscriptions").json() == {"events": []}


def test_inventory_oos_and_autocancelled_lines_are_raised(seller: Seller, receiver, clock) -> None:
    subscriber, base = receiver
    subscribe(seller, f"{base}/hooks/oos", None, event="INVENTORY_OOS")
    subscribe(seller, f"{base}/hooks/cancelled", None, event="PO_LINE_AUTOCANCELLED")
    _stock(seller)
    seller.bought((SKU, 5))  # the last units at the node
    assert seller.push("WM-00002", 0, ship_node="10001").status_code == 200
    assert seller.buy((SKU, 1), ship_node="10001").status_code == 409  # nothing left to sell there
    clock.advance(6 * 86400)
    assert _deliver(seller) >= 2
    bodies = [json.loads(r["body"]) for r in subscriber.hooks()]
    for body in bodies:
        assert problems("Notification", body) == []
    oos = [b["payload"] for b in bodies if b["source"]["eventType"] == "INVENTORY_OOS"]
    assert {(p["sku"], p["shipNodes"][0]["shipNode"]) for p in oos} >= {(SKU, "10001")}
    cancelled = [b["payload"] for b in bodies if b["source"]["eventType"] == "PO_LINE_AUTOCANCELLED"]
    assert len(cancelled) == 1 and cancelled[0]["orderLines"][0]["status"] == "CANCELLED"


def test_event_types_and_the_test_notification(seller: Seller, receiver) -> None:
    subscriber, base = receiver
    types = seller.call("GET", "/v3/webhooks/eventTypes").json()
    assert problems("EventTypes", types) == []
    assert {e["eventType"] for e in types["events"]} == {"PO_CREATED", "PO_LINE_AUTOCANCELLED", "INVENTORY_OOS"}
    answer = seller.call("POST", "/v3/webhooks/test", json={
        "eventType": "PO_CREATED", "eventVersion": "V1", "resourceName": "ORDER", "eventUrl": f"{base}/hooks/test",
        "authDetails": {"authMethod": "BASIC_AUTH", "userName": "u", "password": "p"}})
    assert answer.status_code == 200 and answer.json()["status"] == "SUCCESS"
    [request] = subscriber.hooks()
    assert verify(request, seller.config.webhook_signing_secret) and request["headers"]["authorization"].startswith("Basic ")
