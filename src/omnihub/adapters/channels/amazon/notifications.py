"""SP-API notifications as delivered to an SQS queue (the message body is the
notification JSON): which one it is, its de-duplication id, and what it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, TypeAdapter, ValidationError


class NotificationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: str
    kind: str  # ORDER_CHANGE | LISTINGS_ITEM_MFN_QUANTITY_CHANGE | ...
    order_id: str | None = None
    sku: str | None = None
    quantity: int | None = None
    event_time: datetime | None = None  # when it happened: EventTime, else NotificationMetadata.PublishTime


_WHEN = TypeAdapter(AwareDatetime)


def _event_time(body: dict, meta: dict) -> datetime | None:
    """The event's own time (EventTime; PublishTime when absent): what orders a late
    notification behind a newer figure. Missing or unreadable: unknown, not an error."""
    for value in (body.get("EventTime"), meta.get("PublishTime")):
        if isinstance(value, str):
            try:
                return _WHEN.validate_python(value)
            except ValidationError:
                continue
    return None


def parse_notification(body: dict) -> Notification:
    if not isinstance(body, dict):
        raise NotificationError("a notification is a JSON object")
    meta = body.get("NotificationMetadata") or {}
    nid = meta.get("NotificationId")
    kind = body.get("NotificationType")
    if not isinstance(nid, str) or not nid or not isinstance(kind, str):
        raise NotificationError("NotificationMetadata.NotificationId and NotificationType are required")
    payload = body.get("Payload") or {}
    if kind == "ORDER_CHANGE":
        change = payload.get("OrderChangeNotification") or {}
        if not change.get("AmazonOrderId"):
            raise NotificationError("ORDER_CHANGE without AmazonOrderId")
        return Notification(nid, kind, order_id=change["AmazonOrderId"])
    if kind == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE":
        if not payload.get("Sku") or not isinstance(payload.get("Quantity"), int):
            raise NotificationError("LISTINGS_ITEM_MFN_QUANTITY_CHANGE without Sku and Quantity")
        return Notification(nid, kind, sku=payload["Sku"], quantity=payload["Quantity"],
                            event_time=_event_time(body, meta))
    return Notification(nid, kind)
