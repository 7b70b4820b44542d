"""Notifications API: ``/v3/webhooks/subscriptions`` (create, list, update, delete),
``GET /v3/webhooks/eventTypes`` and ``POST /v3/webhooks/test``.

A subscription names an event type the sandbox raises (events.py), the ``eventUrl`` to
post it to, the delivery authentication (``authDetails``: BASIC_AUTH, HMAC or OAUTH,
deliveries.py says what each sends), custom ``headers`` and a status (ACTIVE or
INACTIVE: an inactive one is sent nothing). Secrets given in ``authDetails`` (password,
clientSecret) are kept and never shown back. The sandbox posts to loopback addresses
only, as it listens only there.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
import uuid
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .clock import iso
from .context import SandboxContext
from .contract import require
from .errors import WEBHOOKS, WalmartError, bad_content, not_found
from .events import EVENT_TYPES, event_id
from .gateway import api

router = APIRouter()

SECRET_FIELDS = ("password", "clientSecret")
SHOWN_AUTH_FIELDS = ("authMethod", "authHeaderName", "userName", "clientId", "authUrl")


def _loopback(url: str, field: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise bad_content(f"{field} {url} is not on loopback: the sandbox delivers to loopback addresses only.",
                          field=field, service=WEBHOOKS)


def _check_urls(event: dict[str, Any]) -> None:
    if "eventUrl" in event:
        _loopback(event["eventUrl"], "eventUrl")
    auth = event.get("authDetails") or {}
    if auth.get("authMethod") == "OAUTH":
        _loopback(auth["authUrl"], "authUrl")


def render(row: sqlite3.Row, partner_id: str) -> dict[str, Any]:
    auth = json.loads(row["auth"])
    rendered: dict[str, Any] = {"subscriptionId": row["subscription_id"], "partnerId": partner_id,
                                "eventType": row["event_type"], "eventVersion": row["event_version"],
                                "resourceName": row["resource_name"], "eventUrl": row["event_url"],
                                "headers": json.loads(row["headers"]), "status": row["status"]}
    if auth:
        rendered["authDetails"] = {k: auth[k] for k in SHOWN_AUTH_FIELDS if auth.get(k)}
    return rendered


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise WalmartError("MALFORMED_REQUEST_CONTENT", "The request body is not valid JSON.", service=WEBHOOKS) from None


@router.post("/v3/webhooks/subscriptions")
async def create_subscriptions(request: Request, sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    body = await _json(request)
    require("SubscriptionCreate", body, WEBHOOKS)
    for event in body["events"]:
        if EVENT_TYPES[event["eventType"]].resource_name != event["resourceName"]:
            raise bad_content(f"{event['eventType']} belongs to resource {EVENT_TYPES[event['eventType']].resource_name}.",
                              field="resourceName", service=WEBHOOKS)
        _check_urls(event)
    created = []
    with sandbox.store.tx() as db:
        for event in body["events"]:
            sid = str(uuid.uuid4())
            db.execute("INSERT INTO subscriptions (subscription_id, event_type, event_version, resource_name, event_url, "
                       "auth, headers, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (sid, event["eventType"], event["eventVersion"], event["resourceName"], event["eventUrl"],
                        json.dumps(event.get("authDetails") or {}), json.dumps(event.get("headers") or {}),
                        event.get("status", "ACTIVE"), sandbox.now()))
            created.append(render(db.execute("SELECT * FROM subscriptions WHERE subscription_id = ?", (sid,)).fetchone(),
                                  sandbox.config.partner_id))
    return JSONResponse({"events": created})


@router.get("/v3/webhooks/subscriptions")
def list_subscriptions(request: Request, sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    where, args = [], []
    for param, column in (("eventType", "event_type"), ("resourceName", "resource_name"), ("status", "status"),
                          ("subscriptionId", "subscription_id")):
        if request.query_params.get(param):
            where.append(f"{column} = ?")
            args.append(request.query_params[param])
    sql = "SELECT * FROM subscriptions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at"
    with sandbox.store.tx() as db:
        rows = db.execute(sql, args).fetchall()
    return JSONResponse({"events": [render(r, sandbox.config.partner_id) for r in rows]})


@router.patch("/v3/webhooks/subscriptions/{subscription_id}")
async def update_subscription(subscription_id: str, request: Request,
                              sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    body = await _json(request)
    require("SubscriptionUpdate", body, WEBHOOKS)
    _check_urls(body)
    with sandbox.store.tx() as db:
        row = db.execute("SELECT * FROM subscriptions WHERE subscription_id = ?", (subscription_id,)).fetchone()
        if row is None:
            raise not_found(f"No subscription {subscription_id}.", WEBHOOKS)
        db.execute("UPDATE subscriptions SET event_url = ?, auth = ?, headers = ?, status = ? WHERE subscription_id = ?",
                   (body.get("eventUrl", row["event_url"]),
                    json.dumps(body["authDetails"]) if "authDetails" in body else row["auth"],
                    json.dumps(body["headers"]) if "headers" in body else row["headers"],
                    body.get("status", row["status"]), subscription_id))
        row = db.execute("SELECT * FROM subscriptions WHERE subscription_id = ?", (subscription_id,)).fetchone()
    return JSONResponse({"events": [render(row, sandbox.config.partner_id)]})


@router.delete("/v3/webhooks/subscriptions/{subscription_id}")
def delete_subscription(subscription_id: str, sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    with sandbox.store.tx() as db:
        if db.execute("DELETE FROM subscriptions WHERE subscription_id = ?", (subscription_id,)).rowcount == 0:
            raise not_found(f"No subscription {subscription_id}.", WEBHOOKS)
        db.execute("DELETE FROM deliveries WHERE subscription_id = ? AND delivered_at IS NULL", (subscription_id,))
    return JSONResponse({"subscriptionId": subscription_id, "message": "Subscription deleted successfully"})


@router.get("/v3/webhooks/eventTypes")
def event_types(sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    return JSONResponse({"events": [{"eventType": e.name, "eventVersion": e.version, "resourceName": e.resource_name,
                                     "description": e.description} for e in EVENT_TYPES.values()]})


@router.post("/v3/webhooks/test")
async def test_notification(request: Request, sandbox: SandboxContext = api("webhooks")) -> JSONResponse:
    """Send one sample notification of a subscription's shape to its URL now."""
    body = await _json(request)
    require("SubscriptionCreate", {"events": [body]}, WEBHOOKS)
    _check_urls(body)
    now = sandbox.now()
    sample = {"source": {"eventType": body["eventType"], "eventTime": iso(now), "eventId": event_id(sandbox.config.seed, 0)},
              "payload": {"partnerId": sandbox.config.partner_id, "test": True}}
    raw = json.dumps(sample, separators=(",", ":")).encode()
    subscription = {"subscription_id": f"test:{uuid.uuid4()}", "auth": json.dumps(body.get("authDetails") or {}),
                    "headers": json.dumps(body.get("headers") or {})}
    status = sandbox.deliverer.post_once(subscription, body["eventUrl"], raw)
    delivered = status is not None and 200 <= status < 300
    return JSONResponse({"message": "Test notification delivered" if delivered else "Test notification failed",
                         "eventUrl": body["eventUrl"], "status": "SUCCESS" if delivered else "FAILURE",
                         "responseStatus": status})
