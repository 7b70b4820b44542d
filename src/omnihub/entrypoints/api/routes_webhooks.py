"""Channel webhooks: verify, de-duplicate, store raw in the inbox, answer at once.

Nothing is processed here (a worker does it): Shopify wants an answer within 5 s and
retries a slow one, and a burst of webhooks must not hold stock locks. A bad signature is
401 (Shopify's privacy topics require it) and stores nothing; the same delivery twice is
200 and stored once.

Amazon notifications arrive from the forwarder that drains the channel's SQS queue,
signed with the channel's notification secret (why, in
adapters/channels/amazon/notification_signature.py). A channel with no secret configured
accepts nothing: failing closed is visible at once, failing open never is.
"""

from __future__ import annotations

import hashlib
import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.amazon import notification_signature as amazon_signature
from omnihub.adapters.channels.shopify.webhook_signature import is_authentic
from omnihub.entrypoints.api.problems import problem

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_SECRET_TTL_S = 30.0
_KEPT_HEADERS = ("x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id",
                 "x-shopify-event-id", "x-shopify-triggered-at")


def _channel_secret(request: Request, channel: str, key: str) -> str | None:
    """One secret of a channel's vault entry, cached briefly: decrypting on every webhook
    would cost a query and a Fernet round per delivery in a burst."""
    cache = request.app.state.__dict__.setdefault("webhook_secrets", {})
    hit = cache.get((channel, key))
    if hit and time.monotonic() - hit[0] < _SECRET_TTL_S:
        return hit[1]
    hub = request.app.state.hub
    secrets = hub.vault.get(channel) if hub.vault else None
    secret = (secrets or {}).get(key)
    cache[(channel, key)] = (time.monotonic(), secret)
    return secret


@router.post("/shopify", summary="Shopify webhook receiver (HMAC verified, stored in the inbox)")
async def shopify_webhook(request: Request, channel: str = "shopify"):
    body = await request.body()
    hub = request.app.state.hub
    secret = _channel_secret(request, channel, "client_secret")
    if not secret or not is_authentic(body, secret, request.headers.get("x-shopify-hmac-sha256")):
        m.WEBHOOKS.labels("shopify", "rejected").inc()
        return problem(401, "unauthorized", "the X-Shopify-Hmac-Sha256 signature does not match this body",
                       instance=request.url.path, code="bad_signature")
    delivery = request.headers.get("x-shopify-webhook-id") or request.headers.get("x-shopify-event-id")
    topic = request.headers.get("x-shopify-topic")
    if not delivery or not topic:
        m.WEBHOOKS.labels("shopify", "rejected").inc()
        return problem(400, "bad request", "X-Shopify-Webhook-Id and X-Shopify-Topic are required",
                       instance=request.url.path, code="missing_headers")
    headers = {k: request.headers[k] for k in _KEPT_HEADERS if k in request.headers}
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(hub.inbox.accept, "shopify", delivery, topic, headers, body)
    return JSONResponse({"status": outcome})


@router.post("/amazon", summary="Amazon SP-API notifications (the SQS message body, HMAC signed by the forwarder)")
async def amazon_notification(request: Request, channel: str = "amazon_seller"):
    body = await request.body()
    hub = request.app.state.hub
    secret = _channel_secret(request, channel, amazon_signature.SECRET_KEY)
    if not amazon_signature.is_authentic(body, secret, request.headers.get(amazon_signature.HEADER)):
        m.WEBHOOKS.labels("amazon", "rejected").inc()
        return problem(401, "unauthorized",
                       f"the {amazon_signature.HEADER} signature does not match this body for channel {channel!r}",
                       instance=request.url.path, code="bad_signature")
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        doc = None
    meta = (doc or {}).get("NotificationMetadata") if isinstance(doc, dict) else None
    nid = meta.get("NotificationId") if isinstance(meta, dict) else None
    kind = doc.get("NotificationType") if isinstance(doc, dict) else None
    # Kept even when unreadable (with a content hash as its id): an operator sees it.
    delivery = nid if isinstance(nid, str) and nid else "sha256:" + hashlib.sha256(body).hexdigest()
    from starlette.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(hub.inbox.accept, "amazon", delivery, str(kind or "unknown"), {}, body)
    return JSONResponse({"status": outcome})
