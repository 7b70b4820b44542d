"""ORDER_CHANGE and LISTINGS_ITEM_MFN_QUANTITY_CHANGE notifications, delivered unreliably.

Amazon delivers notifications through SQS: at least once, sometimes twice, in no
guaranteed order, and a subscriber that is not listening loses them. The sandbox
records each notification in an outbox in the same transaction as the change that
raised it, decides once (from the seed and the notification's sequence number, so the
decision survives a restart) whether it will be lost, delivered once or delivered
twice, and POSTs the SQS message body (the notification JSON) to the configured
destination. Receivers de-duplicate on ``NotificationMetadata.NotificationId``.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import uuid
from typing import Any

import httpx

from .clock import SandboxClock, iso
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


class Notifier:
    def __init__(self, config: AmazonSandboxConfig, store: Store, clock: SandboxClock) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._subscription_ids = {
            kind: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{config.seller_id}/{kind}"))
            for kind in (ORDER_CHANGE, MFN_QUANTITY_CHANGE)
        }

    def emit(self, db: sqlite3.Connection, kind: str, payload: dict[str, Any], event_time: float) -> str:
        """Record a notification in the outbox (call inside the change's transaction)."""
        cfg = self._config
        seq = self._store.next_sequence("notification")
        notification_id = str(uuid.UUID(int=random.Random(f"amazon-nid:{cfg.seed}:{seq}").getrandbits(128), version=4))
        now = self._clock.now()
        body = {
            "NotificationVersion": "1.0",
            "NotificationType": kind,
            "PayloadVersion": "1.0",
            "EventTime": iso(event_time, millis=True),
            "Payload": payload,
            "NotificationMetadata": {
                "ApplicationId": cfg.application_id,
                "SubscriptionId": self._subscription_ids[kind],
                "PublishTime": iso(now, millis=True),
                "NotificationId": notification_id,
            },
        }
        copies = delivery_copies(cfg.seed, seq, cfg.notification_loss_rate, cfg.notification_duplicate_rate)
        db.execute(
            "INSERT INTO notifications (seq, notification_id, notification_type, body, copies, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (seq, notification_id, kind, json.dumps(body), copies, now),
        )
        self._store.bump(f"notifications_{'lost' if copies == 0 else 'duplicated' if copies == 2 else 'single'}")
        return notification_id

    def deliver_pending(self, client: httpx.Client | None = None, limit: int = 500) -> int:
        """POST undelivered notifications to the destination; returns messages POSTed.

        Network I/O happens outside the store lock. A destination that refuses or is
        down keeps the notification for the next round, as SQS keeps a message.
        """
        destination = self._config.notification_destination
        if not destination:
            return 0
        with self._store.tx() as db:
            rows = db.execute(
                "SELECT seq, body, copies FROM notifications WHERE sent = 0 ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        if not rows:
            return 0
        posted = 0
        owns_client = client is None
        client = client or httpx.Client(timeout=self._config.notification_timeout_seconds)
        try:
            for row in rows:
                ok = True
                for _ in range(row["copies"]):
                    try:
                        answer = client.post(
                            destination, content=row["body"], headers={"content-type": "application/json"}
                        )
                        ok = ok and answer.status_code < 300
                        posted += 1
                    except httpx.HTTPError as exc:
                        log.info("notification delivery failed: %s", exc)
                        ok = False
                        break
                if not ok:
                    break  # keep order; try again next round
                with self._store.tx() as db:
                    db.execute(
                        "UPDATE notifications SET sent = 1, delivered_at = ? WHERE seq = ?",
                        (self._clock.now(), row["seq"]),
                    )
        finally:
            if owns_client:
                client.close()
        return posted
