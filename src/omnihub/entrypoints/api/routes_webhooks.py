"""Channel webhooks: verify, de-duplicate, store raw in the inbox, answer at once.

Nothing is processed here (a worker does it): Shopify wants an answer within 5 s and
retries a slow one, and a burst of webhooks must not hold stock locks. A bad signature is
401 (Shopify's privacy topics require it) and stores nothing; the same delivery twice is
200 and stored once.

Amazon notifications arrive from the forwarder that drains the channel's SQS queue,
signed with the channel's notification secret (why, in
adapters/channels/amazon/notification_signature.py). A channel with no secret configured
accepts nothing: failing closed is visible at once, failing open never is.

Which secret verifies a delivery is never the caller's choice (no `?channel=`): a Shopify
delivery names its shop in `X-Shopify-Shop-Domain`, the hub finds that shop among the
Shopify shops connected in the vault (by the host of its `shop_url`, or its stored
`shop_domain`) and verifies with that shop's client secret only; a shop it does not know
is 401. An Amazon notification is verified with the notification secret of the Amazon
channel the inbox processes notifications for, nothing else. Both bodies must be declared
application/json (415 otherwise).
"""

from __future__ import annotations

import hashlib
import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.amazon import notification_signature as amazon_signature
from omnihub.adapters.channels.credentials import CredentialsUnavailable
from omnihub.adapters.channels.shopify.webhook_signature import is_authentic, normal_domain, shop_domains
from omnihub.entrypoints.api.answers import problems
from omnihub.entrypoints.api.answers_operations import WebhookTaken
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.request_guards import unsupported_media_type

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_SECRET_TTL_S = 30.0
_KEPT_HEADERS = ("x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id",
                 "x-shopify-event-id", "x-shopify-triggered-at")


_MISS_REFRESH_S = 1.0


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


def _shopify_shops(request: Request) -> dict[str, list[tuple[str, str]]]:
    """Shop domain → [(channel, client secret)] of the Shopify shops connected in the vault,
    cached like the secrets above (and read again, at most once a second, when a delivery
    names a shop not in it: a shop connected a moment ago is found)."""
    hub = request.app.state.hub
    shops: dict[str, list[tuple[str, str]]] = {}
    if hub.vault:
        for channel in hub.vault.channels():
            try:
                secrets = hub.vault.get(channel) or {}
            except CredentialsUnavailable:  # another key's entry: no shop of this hub's to verify with
                continue
            for name in shop_domains(secrets):
                shops.setdefault(name, []).append((channel, str(secrets["client_secret"])))
    return shops


def _shop_secrets(request: Request, domain: str) -> list[tuple[str, str]]:
    state = request.app.state.__dict__
    hit = state.get("webhook_shops")
    age = time.monotonic() - hit[0] if hit else None
    if age is None or age >= _SECRET_TTL_S or (domain not in hit[1] and age >= _MISS_REFRESH_S):
        hit = state["webhook_shops"] = (time.monotonic(), _shopify_shops(request))
    return hit[1].get(domain, []) if domain else []


@router.post("/shopify", response_model=WebhookTaken, responses=problems(400, 401, 413, 415), summary="Shopify webhook receiver (HMAC verified, stored in the inbox)", openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
async def shopify_webhook(request: Request):
    if (refused := unsupported_media_type(request, "application/json")) is not None:
        return refused
    body = await request.body()
    hub = request.app.state.hub
    from starlette.concurrency import run_in_threadpool

    domain = normal_domain(request.headers.get("x-shopify-shop-domain"))
    candidates = await run_in_threadpool(_shop_secrets, request, domain)
    signature = request.headers.get("x-shopify-hmac-sha256")
    if not any(is_authentic(body, secret, signature) for _, secret in candidates):
        m.WEBHOOKS.labels("shopify", "rejected").inc()
        detail = ("the X-Shopify-Hmac-Sha256 signature does not match this body" if candidates else
                  "X-Shopify-Shop-Domain names no Shopify shop connected to this hub")
        return problem(401, "unauthorized", detail, instance=request.url.path, code="bad_signature")
    delivery = request.headers.get("x-shopify-webhook-id") or request.headers.get("x-shopify-event-id")
    topic = request.headers.get("x-shopify-topic")
    if not delivery or not topic:
        m.WEBHOOKS.labels("shopify", "rejected").inc()
        return problem(400, "bad request", "X-Shopify-Webhook-Id and X-Shopify-Topic are required",
                       instance=request.url.path, code="missing_headers")
    headers = {k: request.headers[k] for k in _KEPT_HEADERS if k in request.headers}
    outcome = await run_in_threadpool(hub.inbox.accept, "shopify", delivery, topic, headers, body)
    return JSONResponse({"status": outcome})


@router.post("/amazon", response_model=WebhookTaken, responses=problems(401, 413, 415), summary="Amazon SP-API notifications (the SQS message body, HMAC signed by the forwarder)",
             openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
async def amazon_notification(request: Request):
    if (refused := unsupported_media_type(request, "application/json")) is not None:
        return refused
    body = await request.body()
    hub = request.app.state.hub
    channel = hub.inbox.amazon_channel  # the channel the inbox processes them as: its secret, no other
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
