"""What the hub tells a channel about a shipment, independent of the channel's API.

The fulfilment job (services/fulfilment_sync.py) builds a ShipmentNotice from the hub's
own records; each channel's notifier (adapters/channels/*/fulfilment.py) turns it into the
channel's call and answers with a Told, or raises NoticeRefused when a retry cannot help
(the channel said no for a reason only an operator can fix). Anything else that goes wrong
is a transport failure the job retries with back-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ShipmentNotice:
    order_external_id: str
    shipment_id: str
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime
    lines: tuple[tuple[str, int], ...]  # (the channel's line id, units in this parcel)
    reference: int = 0  # the hub's row id: a short, stable package reference
    # The channel's id of the location the parcel left from (Shopify location gid), when
    # the channel has one: a channel that assigned the order elsewhere is told to move it.
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class Told:
    external_id: str | None = None  # the channel's fulfillment id when it gives one
    note: str = ""  # e.g. "already fulfilled on the channel"


class FulfilmentNotifier(Protocol):
    """A channel's notifier (adapters/channels/*/fulfilment.py), as the job calls it."""

    def tell(self, notice: ShipmentNotice) -> Told: ...


class NoticeRefused(RuntimeError):
    """The channel refused the notice for good (unknown order, cancelled, bad input)."""
