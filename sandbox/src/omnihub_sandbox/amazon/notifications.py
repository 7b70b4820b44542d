"""ORDER_CHANGE and LISTINGS_ITEM_MFN_QUANTITY_CHANGE notifications, delivered unreliably.

Amazon delivers notifications through SQS: at least once, sometimes twice, in no
guaranteed order, and a subscriber that is not listening loses them. The sandbox
records each notification in an outbox in the same transaction as the change that
raised it, decides once (from the seed and the notification's sequence number, so the
decision survives a restart) whether it will be lost, delivered once or delivered
twice, and POSTs the SQS message body (the notification JSON) to the configured
destination. Receivers de-duplicate on ``NotificationMetadata.NotificationId``. With
``notifications_by_subscription`` only a subscribed type goes out (notifications_api.py),
under its subscription's id and event filter; the others are recorded and never sent.

SP-API itself posts nowhere but to SQS or EventBridge; what reaches an HTTP receiver is
what a forwarder on the queue sends it. The sandbox plays Amazon and that forwarder at
once, so it signs each POST as the forwarder does: ``X-Omnihub-Hmac-Sha256``, the base64
HMAC-SHA256 of the exact body bytes keyed with ``notification_signing_secret``. (Written
here again rather than imported: the sandbox shares no code with the hub.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import sqlite3
import threading
import uuid
from typing import Any

import httpx

from ..spapi.clock import SandboxClock, iso
from .config import AmazonSandboxConfig
from .store import Store

log = logging.getLogger(__name__)

ORDER_CHANGE = "ORDER_CHANGE"
MFN_QUANTITY_CHANGE = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"


def delivery_copies(seed: int, seq: int, loss_rate: float, duplicate_rate: float) -> int:
    """How many times notification number ``seq`` reaches the destination: 0, 1 or 2."""
    rng = random.Random(f"amazon-notification:{seed}:{seq}")
    if rng.random() < loss_rate:
        return 0
    return 2 if rng.random() < duplicate_rate else 1


def subscription_for(db: sqlite3.Connection, kind: str, payload: dict[str, Any]) -> str | None:
    """The subscription a notification of `kind` goes out under, or None (no subscription,
    or its event filter leaves this one out)."""
    row = db.execute("SELECT * FROM subscriptions WHERE notification_type = ?", (kind,)).fetchone()
    if row is None:
        return None
    if row["processing_directive"]:
        event_filter = json.loads(row["processing_directive"])["eventFilter"]
        change = payload.get("OrderChangeNotification", {})
        if "orderChangeTypes" in event_filter and change.get("OrderChangeType") not in event_filter["orderChangeTypes"]:
            return None
        marketplaces = event_filter.get("marketplaceIds")
        if marketplaces and change.get("Summary", {}).get("MarketplaceId") not in marketplaces:
            return None
    subscription_id: str = row["subscription_id"]
    return subscription_id


class Notifier:
    def __init__(self, config: AmazonSandboxConfig, store: Store, clock: SandboxClock) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._subscription_ids = {
            kind: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{config.seller_id}/{kind}"))
            for kind in (ORDER_CHANGE, MFN_QUANTITY_CHANGE)
        }
        self._client: httpx.Client | None = None
        self._deliver_lock = threading.Lock()

    def emit(self, db: sqlite3.Connection, kind: str, payload: dict[str, Any], event_time: float) -> str:
        """Record a notification in the outbox (call inside the change's transaction)."""
        cfg = self._config
        seq = self._store.next_sequence("notification")
        notification_id = str(uuid.UUID(int=random.Random(f"amazon-nid:{cfg.seed}:{seq}").getrandbits(128), version=4))
        now = self._clock.now()
        metadata = {
            "ApplicationId": cfg.application_id,
            "SubscriptionId": self._subscription_ids[kind],
            "PublishTime": iso(now, millis=True),
            "NotificationId": notification_id,
        }
        body = {
            "NotificationVersion": "1.0",
            "NotificationType": kind,
            "PayloadVersion": "1.0",
            "EventTime": iso(event_time, millis=True),
            "Payload": payload,
            "NotificationMetadata": metadata,
        }
        copies = delivery_copies(cfg.seed, seq, cfg.notification_loss_rate, cfg.notification_duplicate_rate)
        unsubscribed = False
        if cfg.notifications_by_subscription:  # out only under a subscription (notifications_api.py)
            subscription_id = subscription_for(db, kind, payload)
            unsubscribed = subscription_id is None
            if subscription_id is None:
                copies = 0
            else:
                metadata["SubscriptionId"] = subscription_id
        db.execute(
            "INSERT INTO notifications (seq, notification_id, notification_type, body, copies, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (seq, notification_id, kind, json.dumps(body), copies, now),
        )
        self._store.bump("notifications_unsubscribed" if unsubscribed else
                         f"notifications_{'lost' if copies == 0 else 'duplicated' if copies == 2 else 'single'}")
        return notification_id

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self._config.notification_timeout_seconds, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def signature(self, body: bytes) -> str:
        """The forwarder's X-Omnihub-Hmac-Sha256 of these exact bytes."""
        key = self._config.notification_signing_secret.encode()
        return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()

    def _post(self, client: httpx.Client, destination: str, body: str) -> httpx.Response | None:
        """One POST, retried once at once: a pooled keep-alive connection may have just closed."""
        raw = body.encode()
        headers = {"content-type": "application/json", "x-omnihub-hmac-sha256": self.signature(raw)}
        for attempt in (1, 2):
            try:
                return client.post(destination, content=raw, headers=headers)
            except httpx.HTTPError as exc:
                log.info("notification delivery attempt %d failed: %s", attempt, exc)
        return None

    def deliver_pending(self, limit: int = 500) -> int:
        """POST undelivered notifications to the destination; returns how many were settled.

        Network I/O happens outside the store lock. A destination that refuses or is
        down keeps the notification for the next round, as SQS keeps a message; once
        one copy got through, the notification counts as delivered.
        """
        destination = self._config.notification_destination
        if not destination:
            return 0
        with self._deliver_lock:
            with self._store.tx() as db:
                rows = db.execute(
                    "SELECT seq, body, copies FROM notifications WHERE sent = 0 ORDER BY seq LIMIT ?", (limit,)
                ).fetchall()
            settled = 0
            client = self._http()
            for row in rows:
                got_through = 0
                for _ in range(row["copies"]):
                    answer = self._post(client, destination, row["body"])
                    if answer is None:
                        break
                    if answer.status_code >= 300:
                        log.warning("notification refused by destination: %s %s", answer.status_code, answer.text[:200])
                        break
                    got_through += 1
                if row["copies"] and not got_through:
                    break  # keep order; try again next round
                with self._store.tx() as db:
                    db.execute(
                        "UPDATE notifications SET sent = 1, delivered_at = ? WHERE seq = ?",
                        (self._clock.now(), row["seq"]),
                    )
                settled += 1
            return settled
