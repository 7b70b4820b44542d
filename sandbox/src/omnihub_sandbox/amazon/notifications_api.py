"""Notifications API v1: destinations and subscriptions, so that an app subscribes itself.

Destinations (an SQS queue's ARN, or an EventBridge account and region) are the app's own:
``createDestination``, ``getDestinations``, ``getDestination`` and ``deleteDestination`` are
grantless (a ``client_credentials`` token of scope ``sellingpartnerapi::notifications``).
A subscription is the seller's: ``createSubscription``, ``getSubscription`` and
``getSubscriptions`` take the seller's LWA token; ``getSubscriptionById`` and
``deleteSubscriptionById`` are grantless again.

The sandbox plays the queue and the forwarder behind it: what is sent to a subscribed
destination is POSTed to ``notification_destination`` (notifications.py). With
``notifications_by_subscription`` a notification goes out only while its type has a
subscription (and passes its ``processingDirective``'s event filter); without it every
notification is delivered as configured (the sandbox's earlier behaviour, for a hub that
does not subscribe yet). The sandbox raises ORDER_CHANGE and
LISTINGS_ITEM_MFN_QUANTITY_CHANGE; subscribing to another type is refused.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.errors import SpApiError, invalid_input, not_found
from ..spapi.lwa import NOTIFICATIONS_SCOPE, operation
from ..spapi.query_params import csv_list, single
from .context import SandboxContext
from .notifications import MFN_QUANTITY_CHANGE, ORDER_CHANGE

router = APIRouter()

BASE = "/notifications/v1"
SUPPORTED_TYPES = (ORDER_CHANGE, MFN_QUANTITY_CHANGE)
PAYLOAD_VERSIONS = {ORDER_CHANGE: "1.0", MFN_QUANTITY_CHANGE: "1.0"}
SQS_ARN = re.compile(r"^arn:aws:sqs:\S+:\S+:\S+$")
ORDER_CHANGE_TYPES = {"BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange"}


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    return body


def conflict(message: str) -> SpApiError:
    return SpApiError(409, "Conflict", message)


def _render_destination(row: sqlite3.Row) -> dict[str, Any]:
    return {"name": row["name"], "destinationId": row["destination_id"], "resource": json.loads(row["resource"])}


def _render_subscription(row: sqlite3.Row) -> dict[str, Any]:
    subscription: dict[str, Any] = {"subscriptionId": row["subscription_id"], "payloadVersion": row["payload_version"],
                                    "destinationId": row["destination_id"]}
    if row["processing_directive"]:
        subscription["processingDirective"] = json.loads(row["processing_directive"])
    return subscription


# -- destinations (grantless) -----------------------------------------------------------


@router.post(f"{BASE}/destinations")
async def create_destination(request: Request, sandbox: SandboxContext = operation(
        "createDestination", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    body = _body(await request.body())
    name, spec = body.get("name"), body.get("resourceSpecification")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise invalid_input("name is required (at most 256 characters).", "name")
    if not isinstance(spec, dict) or len([k for k in ("sqs", "eventBridge") if spec.get(k) is not None]) != 1:
        raise invalid_input("resourceSpecification names one of sqs or eventBridge.", "resourceSpecification")
    if spec.get("sqs") is not None:
        arn = spec["sqs"].get("arn") if isinstance(spec["sqs"], dict) else None
        if not isinstance(arn, str) or not SQS_ARN.match(arn) or len(arn) > 1000:
            raise invalid_input("sqs.arn must be an SQS queue's ARN (arn:aws:sqs:region:account:queue).", "sqs.arn")
        resource: dict[str, Any] = {"sqs": {"arn": arn}}
    else:
        bridge = spec["eventBridge"]
        if not isinstance(bridge, dict) or not all(isinstance(bridge.get(k), str) and bridge[k]
                                                   for k in ("region", "accountId")):
            raise invalid_input("eventBridge needs region and accountId.", "eventBridge")
        resource = {"eventBridge": {"name": f"aws.partner/sellingpartnerapi.amazon.com/{bridge['accountId']}/"
                                            f"{uuid.uuid4()}", "region": bridge["region"],
                                    "accountId": bridge["accountId"]}}
    with sandbox.store.tx() as db:
        for row in db.execute("SELECT resource FROM destinations"):
            if "sqs" in resource and json.loads(row["resource"]).get("sqs") == resource["sqs"]:
                raise conflict("A destination for this queue exists already.")
        destination_id = str(uuid.uuid4())
        db.execute("INSERT INTO destinations (destination_id, name, resource, created_at) VALUES (?, ?, ?, ?)",
                   (destination_id, name, json.dumps(resource), sandbox.now()))
        row = db.execute("SELECT * FROM destinations WHERE destination_id = ?", (destination_id,)).fetchone()
    return JSONResponse({"payload": _render_destination(row)})


@router.get(f"{BASE}/destinations")
def get_destinations(sandbox: SandboxContext = operation("getDestinations", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT * FROM destinations ORDER BY created_at, destination_id").fetchall()
    return JSONResponse({"payload": [_render_destination(r) for r in rows]})


def _destination(db: sqlite3.Connection, destination_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute("SELECT * FROM destinations WHERE destination_id = ?",
                                         (destination_id,)).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No destination {destination_id}.")
    return row


@router.get(f"{BASE}/destinations/{{destination_id}}")
def get_destination(destination_id: str, sandbox: SandboxContext = operation(
        "getDestination", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    with sandbox.store.tx() as db:
        return JSONResponse({"payload": _render_destination(_destination(db, destination_id))})


@router.delete(f"{BASE}/destinations/{{destination_id}}")
def delete_destination(destination_id: str, sandbox: SandboxContext = operation(
        "deleteDestination", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    with sandbox.store.tx() as db:
        _destination(db, destination_id)
        if db.execute("SELECT 1 FROM subscriptions WHERE destination_id = ?", (destination_id,)).fetchone():
            raise conflict("Subscriptions still deliver to this destination: delete them first.")
        db.execute("DELETE FROM destinations WHERE destination_id = ?", (destination_id,))
    return JSONResponse({})


# -- subscriptions ------------------------------------------------------------------------


def _notification_type(notification_type: str) -> str:
    if notification_type not in SUPPORTED_TYPES:
        raise invalid_input(f"The sandbox raises {' and '.join(SUPPORTED_TYPES)}; {notification_type} is not one.",
                            "notificationType")
    return notification_type


def _directive(notification_type: str, directive: Any) -> dict[str, Any] | None:
    """An ORDER_CHANGE subscription's event filter (order change types, marketplaces), or none."""
    if directive is None:
        return None
    event_filter = directive.get("eventFilter") if isinstance(directive, dict) else None
    if notification_type != ORDER_CHANGE or not isinstance(event_filter, dict) \
            or event_filter.get("eventFilterType") != ORDER_CHANGE or set(directive) - {"eventFilter"}:
        raise invalid_input("The sandbox's processingDirective is an ORDER_CHANGE eventFilter only.",
                            "processingDirective")
    changes = event_filter.get("orderChangeTypes", list(ORDER_CHANGE_TYPES))
    marketplaces = event_filter.get("marketplaceIds", [])
    if not isinstance(changes, list) or not set(changes) <= ORDER_CHANGE_TYPES:
        raise invalid_input(f"orderChangeTypes are {', '.join(sorted(ORDER_CHANGE_TYPES))}.", "orderChangeTypes")
    if not isinstance(marketplaces, list) or not all(isinstance(m, str) for m in marketplaces):
        raise invalid_input("marketplaceIds must list marketplace ids.", "marketplaceIds")
    if set(event_filter) - {"eventFilterType", "orderChangeTypes", "marketplaceIds"}:
        raise invalid_input("The sandbox filters on orderChangeTypes and marketplaceIds only.", "eventFilter")
    return {"eventFilter": event_filter}


@router.post(f"{BASE}/subscriptions/{{notification_type}}")
async def create_subscription(notification_type: str, request: Request,
                              sandbox: SandboxContext = operation("createSubscription")) -> JSONResponse:
    _notification_type(notification_type)
    body = _body(await request.body())
    if body.get("payloadVersion") != PAYLOAD_VERSIONS[notification_type]:
        raise invalid_input(f"payloadVersion of {notification_type} is {PAYLOAD_VERSIONS[notification_type]}.",
                            "payloadVersion")
    destination_id = body.get("destinationId")
    directive = _directive(notification_type, body.get("processingDirective"))
    with sandbox.store.tx() as db:
        if not isinstance(destination_id, str) or db.execute(
                "SELECT 1 FROM destinations WHERE destination_id = ?", (destination_id,)).fetchone() is None:
            raise invalid_input(f"destinationId {destination_id} is not a destination of this application.",
                                "destinationId")
        if db.execute("SELECT 1 FROM subscriptions WHERE notification_type = ?", (notification_type,)).fetchone():
            raise conflict(f"A subscription for {notification_type} exists already.")
        subscription_id = str(uuid.uuid4())
        db.execute("INSERT INTO subscriptions (subscription_id, notification_type, payload_version, destination_id, "
                   "processing_directive, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   (subscription_id, notification_type, body["payloadVersion"], destination_id,
                    json.dumps(directive) if directive else None, sandbox.now()))
        row = db.execute("SELECT * FROM subscriptions WHERE subscription_id = ?", (subscription_id,)).fetchone()
    return JSONResponse({"payload": _render_subscription(row)})


@router.get(f"{BASE}/subscriptions")
def get_subscriptions(request: Request, sandbox: SandboxContext = operation("getSubscriptions")) -> JSONResponse:
    types = csv_list(request, "notificationTypes", required=True)
    version = single(request, "payloadVersion")
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT * FROM subscriptions WHERE notification_type IN (%s) ORDER BY created_at"
                          % ",".join("?" * len(types)), types).fetchall()
    return JSONResponse({"payload": {"subscriptions": [_render_subscription(r) for r in rows
                                                       if version is None or r["payload_version"] == version]}})


def _subscription(db: sqlite3.Connection, notification_type: str, subscription_id: str | None = None) -> sqlite3.Row:
    sql, args = "SELECT * FROM subscriptions WHERE notification_type = ?", [notification_type]
    if subscription_id is not None:
        sql += " AND subscription_id = ?"
        args.append(subscription_id)
    row: sqlite3.Row | None = db.execute(sql, args).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No subscription for {notification_type}.")
    return row


@router.get(f"{BASE}/subscriptions/{{notification_type}}")
def get_subscription(notification_type: str, sandbox: SandboxContext = operation("getSubscription")) -> JSONResponse:
    with sandbox.store.tx() as db:
        return JSONResponse({"payload": _render_subscription(_subscription(db, _notification_type(notification_type)))})


@router.get(f"{BASE}/subscriptions/{{notification_type}}/{{subscription_id}}")
def get_subscription_by_id(notification_type: str, subscription_id: str, sandbox: SandboxContext = operation(
        "getSubscriptionById", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    with sandbox.store.tx() as db:
        return JSONResponse({"payload": _render_subscription(
            _subscription(db, _notification_type(notification_type), subscription_id))})


@router.delete(f"{BASE}/subscriptions/{{notification_type}}/{{subscription_id}}")
def delete_subscription_by_id(notification_type: str, subscription_id: str, sandbox: SandboxContext = operation(
        "deleteSubscriptionById", grantless=NOTIFICATIONS_SCOPE)) -> JSONResponse:
    with sandbox.store.tx() as db:
        _subscription(db, _notification_type(notification_type), subscription_id)
        db.execute("DELETE FROM subscriptions WHERE subscription_id = ?", (subscription_id,))
    return JSONResponse({})
