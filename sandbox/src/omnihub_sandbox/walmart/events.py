"""The events the sandbox raises, and their notification envelopes.

Walmart posts ``{"source": {eventType, eventTime, eventId}, "payload": {...}}`` to each
active subscription of the event's type. The sandbox raises PO_CREATED when an order is
released to the seller, PO_LINE_AUTOCANCELLED when Walmart cancels a line the seller did
not ship in time, and INVENTORY_OOS when a SKU's sellable quantity at a node reaches
zero. A notification is written to the outbox in the same transaction as the change
that raised it, so it is neither lost nor sent for a change that rolled back.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from .clock import iso


@dataclass(frozen=True)
class EventType:
    name: str
    resource_name: str
    description: str
    version: str = "V1"


EVENT_TYPES: dict[str, EventType] = {e.name: e for e in (
    EventType("PO_CREATED", "ORDER", "A new purchase order was released to the seller."),
    EventType("PO_LINE_AUTOCANCELLED", "ORDER",
              "Walmart cancelled an order line that was not shipped by its estimated ship date plus the grace."),
    EventType("INVENTORY_OOS", "INVENTORY", "A SKU's sellable quantity at a ship node reached zero."),
)}


def event_id(seed: int, seq: int) -> str:
    return str(uuid.UUID(int=random.Random(f"walmart-event:{seed}:{seq}").getrandbits(128), version=1))


def emit(db: sqlite3.Connection, *, seed: int, seq: int, event_type: str, payload: dict[str, Any], when: float) -> int:
    """Queue the event for every active subscription to its type; returns how many."""
    envelope = {"source": {"eventType": event_type, "eventTime": iso(when), "eventId": event_id(seed, seq)},
                "payload": payload}
    body = json.dumps(envelope, separators=(",", ":"))
    subscriptions = db.execute("SELECT subscription_id FROM subscriptions WHERE event_type = ? AND status = 'ACTIVE'",
                               (event_type,)).fetchall()
    for row in subscriptions:
        db.execute("INSERT INTO deliveries (event_id, subscription_id, event_type, body, created_at, next_attempt_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (envelope["source"]["eventId"], row["subscription_id"], event_type, body, when, when))
    db.execute("INSERT INTO stats (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
               (f"events_{event_type}",))
    return len(subscriptions)
