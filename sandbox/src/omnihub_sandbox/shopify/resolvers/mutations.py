"""Mutation root: inventory (set, adjust, move, activate, deactivate), fulfillment (moving
and holding fulfillment orders), cancellation, webhook subscriptions, bulk operations; the
returns and refunds mutations are in return_mutations.py."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from graphql import GraphQLError

from .. import cancellations, sales
from ..fulfillment_holds import place_hold, release_holds
from ..fulfillment_moves import move_fulfillment_order
from ..inventory_activation import activate, deactivate
from ..inventory_moves import move_quantities
from ..events import TOPICS
from ..gid import number_of
from ..inventory_mutations import adjust_quantities, missing_argument_message, missing_change_from, set_quantities
from . import query, return_mutations, views
from .idempotency import MISMATCH_MESSAGE, run_once


def _require_change_from(entries: list[dict], input_type: str) -> None:
    """A quantity without ``changeFromQuantity`` is refused before anything runs, as Shopify
    does since 2026-04 (a document error, not a user error: no retry can fix it)."""
    if missing_change_from(entries):
        raise GraphQLError(missing_argument_message(input_type), extensions={"code": "INVALID_FIELD_ARGUMENTS"})


def _adjustment_answer(info, data: dict, operation) -> dict:
    """Run an inventory operation once per idempotency key; the answer names its adjustment group."""
    ctx = info.context

    def apply(conn) -> tuple[dict, list]:
        group_id, errors, events = operation(conn, data, lambda: ctx.shop.next_id("InventoryAdjustmentGroup"),
                                             ctx.now_iso())
        return {"group_id": group_id, "userErrors": errors}, events

    payload = run_once(info, data, apply, {"group_id": None, "userErrors": [
        {"field": ["input"], "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "message": MISMATCH_MESSAGE}]})
    return {"inventoryAdjustmentGroup": (lambda info: views.load_adjustment_group(info, payload["group_id"]))
            if payload["group_id"] else None, "userErrors": payload["userErrors"]}


def inventory_set_quantities(info, input: dict) -> dict:
    _require_change_from(input["quantities"], "InventoryQuantityInput")
    return _adjustment_answer(info, input, set_quantities)


def inventory_adjust_quantities(info, input: dict) -> dict:
    _require_change_from(input["changes"], "InventoryChangeInput")
    return _adjustment_answer(info, input, adjust_quantities)


def inventory_move_quantities(info, input: dict) -> dict:
    _require_change_from([end for change in input["changes"] for end in (change["from"], change["to"])],
                         "InventoryMoveQuantityTerminalInput")
    return _adjustment_answer(info, input, move_quantities)


def inventory_activate(info, inventoryItemId: str, locationId: str, available: int | None = None,
                       onHand: int | None = None, stockAtLegacyLocation: bool = False) -> dict:
    """inventoryActivate: once per idempotency key (mandatory since 2026-04)."""
    ctx = info.context
    data = {"inventoryItemId": inventoryItemId, "locationId": locationId, "available": available, "onHand": onHand}

    def apply(conn) -> tuple[dict, list]:
        level, errors, events = activate(conn, inventoryItemId, locationId, available, onHand, ctx.now_iso())
        return {"level": list(level) if level else None, "userErrors": errors}, events

    answer = run_once(info, data, apply, {"level": None, "userErrors": [{"field": ["inventoryItemId"],
                                                                         "message": MISMATCH_MESSAGE}]})
    level = answer["level"]
    return {"inventoryLevel": (lambda info: views._level_for(info, level[0], level[1])) if level else None,
            "userErrors": answer["userErrors"]}


def inventory_deactivate(info, inventoryLevelId: str) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        errors, events = deactivate(conn, inventoryLevelId, ctx.now_iso())
    ctx.events.extend(events)
    return {"userErrors": errors}


def fulfillment_order_hold(info, id: str, fulfillmentHold: dict) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        hold_id, fo_id, remaining_id, errors, events = place_hold(conn, ctx.shop.next_id, id, fulfillmentHold,
                                                                  ctx.now_iso())
    ctx.events.extend(events)
    if errors:
        return {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None, "userErrors": errors}
    return {"fulfillmentHold": views.load_fulfillment_hold(info, hold_id),
            "fulfillmentOrder": views.load_fulfillment_order(info, fo_id),
            "remainingFulfillmentOrder": views.load_fulfillment_order(info, remaining_id), "userErrors": []}


def fulfillment_order_release_hold(info, id: str, holdIds: list[str] | None = None, externalId: str | None = None) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        fo_id, errors, events = release_holds(conn, id, holdIds, ctx.now_iso())
    ctx.events.extend(events)
    return {"fulfillmentOrder": None if errors else views.load_fulfillment_order(info, fo_id), "userErrors": errors}


def fulfillment_create(info, fulfillment: dict, message: str | None = None) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        fid, errors, events = sales.create_fulfillment(conn, ctx.shop.next_id, fulfillment, ctx.now_iso())
    ctx.events.extend(events)
    return {"fulfillment": views.load_fulfillment(info, fid) if fid else None, "userErrors": errors}


def fulfillment_order_move(info, id: str, newLocationId: str, fulfillmentOrderLineItems: list[dict] | None = None) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        moved, original, errors, events = move_fulfillment_order(conn, ctx.shop.next_id, id, newLocationId,
                                                                 fulfillmentOrderLineItems, ctx.now_iso())
    ctx.events.extend(events)
    remaining = original if moved is not None and moved != original else None  # deprecated field
    return {"movedFulfillmentOrder": views.load_fulfillment_order(info, moved),
            "originalFulfillmentOrder": views.load_fulfillment_order(info, original),
            "remainingFulfillmentOrder": views.load_fulfillment_order(info, remaining), "userErrors": errors}


def _refund_method(refund, refundMethod) -> tuple[str | None, str | None]:
    """`refund` (deprecated) or `refundMethod` (@oneOf: exactly one of its fields) → (how
    to refund or None, the store credit's expiry); both at once is ambiguous: refused."""
    if refundMethod is None:
        return (cancellations.ORIGINAL if refund else None), None
    if refund is not None:
        raise GraphQLError("Provide either refund or refundMethod, not both.", extensions={"code": "BAD_REQUEST"})
    given = {k: v for k, v in refundMethod.items() if v is not None}
    if len(given) != 1:
        raise GraphQLError(f"OrderCancelRefundMethodInput is a OneOf input: exactly one field must be given "
                           f"(not {len(given)}).", extensions={"code": "argumentLiteralsIncompatible"})
    if "storeCreditRefund" in given:
        return cancellations.STORE_CREDIT, given["storeCreditRefund"].get("expiresAt")
    return (cancellations.ORIGINAL if given["originalPaymentMethodsRefund"] else None), None


def order_cancel(info, orderId: str, reason: str, restock: bool, refund: bool | None = None,
                 refundMethod: dict | None = None, notifyCustomer: bool = False, staffNote: str | None = None) -> dict:
    """orderCancel: cancellations.py does the work within the call, so the job is done."""
    ctx = info.context
    how, expires = _refund_method(refund, refundMethod)
    oid = number_of(orderId, "Order")
    if oid is None:
        return {"job": None, "jobResult": None, "orderCancelUserErrors": [
            {"field": ["orderId"], "message": "Order does not exist.", "code": "NOT_FOUND"}]}
    asked = cancellations.Cancellation(reason, restock, how, expires, bool(notifyCustomer), staffNote)
    with ctx.store.tx() as conn:
        job_id, errors, events = cancellations.cancel_order(conn, ctx.shop.next_id, oid, asked, ctx.shop.clock.now())
    ctx.events.extend(events)
    if job_id is None:
        return {"job": None, "jobResult": None, "orderCancelUserErrors": errors}
    return {"job": query.job(job_id), "jobResult": views.order_cancel_job_result(job_id, oid),
            "orderCancelUserErrors": []}


def order_close(info, input: dict) -> dict:
    ctx = info.context
    oid = number_of(input["id"], "Order")
    if oid is None:
        return {"order": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}
    with ctx.store.tx() as conn:
        errors, events = sales.close_order(conn, oid, ctx.now_iso())
    ctx.events.extend(events)
    return {"order": None if errors else views.load_order(info, oid), "userErrors": errors}


def webhook_subscription_create(info, topic: str, webhookSubscription: dict) -> dict:
    ctx = info.context
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    errors = []
    parsed = urlparse(uri or "")
    if not uri or parsed.scheme not in ("http", "https") or not parsed.netloc:
        errors.append({"field": ["webhookSubscription", "uri"], "message": "Address is invalid"})
    include = webhookSubscription.get("includeFields") or []
    if errors:
        return {"webhookSubscription": None, "userErrors": errors}
    rest_topic = TOPICS[topic]
    now = ctx.now_iso()
    with ctx.store.tx() as conn:
        if conn.execute("SELECT 1 FROM webhook_subscriptions WHERE topic = ? AND uri = ?", (rest_topic, uri)).fetchone():
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}]}
        sid = ctx.shop.next_id("WebhookSubscription")
        conn.execute(
            "INSERT INTO webhook_subscriptions(id, topic, uri, format, filter, include_fields, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (sid, rest_topic, uri, webhookSubscription.get("format") or "JSON", webhookSubscription.get("filter"),
             json.dumps(include), now, now))
    return {"webhookSubscription": views.load_webhook_subscription(info, sid), "userErrors": []}


def webhook_subscription_delete(info, id: str) -> dict:
    ctx = info.context
    sid = number_of(id, "WebhookSubscription")
    with ctx.store.tx() as conn:
        gone = conn.execute("DELETE FROM webhook_subscriptions WHERE id = ?", (sid,)).rowcount if sid else 0
    if not gone:
        return {"deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}]}
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def bulk_operation_run_query(info, query: str, groupObjects: bool = True) -> dict:
    ctx = info.context
    bid, errors = ctx.shop.bulk.start_query(query, ctx.base_url)
    return {"bulkOperation": views.load_bulk_operation(info, bid) if bid else None, "userErrors": errors}


def bulk_operation_run_mutation(info, mutation: str, stagedUploadPath: str, groupObjects: bool = True,
                                clientIdentifier: str | None = None) -> dict:
    ctx = info.context
    bid, errors = ctx.shop.bulk.start_mutation(mutation, stagedUploadPath, clientIdentifier, ctx.base_url)
    return {"bulkOperation": views.load_bulk_operation(info, bid) if bid else None, "userErrors": errors}


def bulk_operation_cancel(info, id: str) -> dict:
    ctx = info.context
    bid = number_of(id, "BulkOperation")
    errors = ctx.shop.bulk.cancel(bid)
    return {"bulkOperation": views.load_bulk_operation(info, bid), "userErrors": errors}


def staged_uploads_create(info, input: list[dict]) -> dict:
    ctx = info.context
    targets, errors = ctx.shop.bulk.staged_targets(input, ctx.base_url)
    return {"stagedTargets": targets, "userErrors": errors}


def root() -> dict:
    return {
        **return_mutations.root(),
        "inventorySetQuantities": inventory_set_quantities,
        "inventoryAdjustQuantities": inventory_adjust_quantities,
        "inventoryMoveQuantities": inventory_move_quantities,
        "inventoryActivate": inventory_activate,
        "inventoryDeactivate": inventory_deactivate,
        "fulfillmentOrderHold": fulfillment_order_hold,
        "fulfillmentOrderReleaseHold": fulfillment_order_release_hold,
        "fulfillmentCreate": fulfillment_create,
        "fulfillmentOrderMove": fulfillment_order_move,
        "orderCancel": order_cancel,
        "orderClose": order_close,
        "webhookSubscriptionCreate": webhook_subscription_create,
        "webhookSubscriptionDelete": webhook_subscription_delete,
        "bulkOperationRunQuery": bulk_operation_run_query,
        "bulkOperationRunMutation": bulk_operation_run_mutation,
        "bulkOperationCancel": bulk_operation_cancel,
        "stagedUploadsCreate": staged_uploads_create,
    }
