"""What a difference between a channel and the hub means, so an operator knows what to do.

Webhooks get lost (seeds 001/002: "webhook delivery is not guaranteed ... reconciliation
jobs are necessary"), so the hub regularly reads what each channel shows and compares it
with what it says the channel should show. A bare "differs" is useless at 3 a.m.; each
difference gets one class:

- ``push_pending``: an intent for this key is queued or in flight; the channel is about
  to show the hub's figure. Not a drift.
- ``dead_letter``: the intent for this key was parked after failing; an operator must look
  (``omnihub sync dead-letters``).
- ``drift_repaired``: the channel showed another number and nothing explained it (an edit
  in the channel's admin, a lost push); a push of the hub's figure was queued.
- ``missed_pos_sale``: at a store's POS location the channel shows fewer units than the
  hub expects, no push is pending and no open online order committed them there: a till
  sale whose inventory_levels/update webhook was lost. Seed 002: "download inventory
  snapshots ... at frequent intervals and record the differences": the run records the
  units as sold at that store.
- ``missed_order`` / ``missed_order_update``: an order (or a newer version of one) on the
  channel the hub never ingested; the run ingests it through the same idempotent pipeline.
- ``unknown_sku``: listed on the channel but not mapped in the hub (import the catalog).
- ``unsold_on_channel``: mapped in the hub but missing on the channel, so the hub's figure
  cannot be shown there (list it, or stock it at that location).
- ``order_not_understood``: a channel order the run could not map; left for an operator.
- ``order_parked``: a channel order the hub knows it does not hold: refused for what it
  says, or failing, and parked with its reason in the inbox (``omnihub sync
  inbox-failures``). Known, not missed: the run neither counts it as missing nor
  ingests it again.
- ``shipment_unmarked``: a shipment the hub told the channel about, whose order the channel
  still shows unshipped (the fulfilment was lost or undone there): it is told again. One
  the hub gave up telling (parked) is left for an operator with the channel's last answer
  (``omnihub sync fulfilment-retry``).
- ``missed_cancellation``: the channel cancelled an order the hub still holds open (its
  orders/cancelled webhook or Amazon notification lost): the run ingests the cancelled
  version, so its reservations are released and the channels shown the units again.
- ``cancelled_after_shipment``: the channel cancelled an order some of whose units the hub
  already shipped (or handed over): nothing the hub can undo. Left for a person (refund,
  or recover the parcel), reported once (services/channel_cancellations.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omnihub.domain.channel_sync import IntentState
from omnihub.domain.order_states import OrderState


class Kind(StrEnum):
    PUSH_PENDING = "push_pending"
    DEAD_LETTER = "dead_letter"
    DRIFT_REPAIRED = "drift_repaired"
    MISSED_POS_SALE = "missed_pos_sale"
    MISSED_ORDER = "missed_order"
    MISSED_ORDER_UPDATE = "missed_order_update"
    UNKNOWN_SKU = "unknown_sku"
    UNSOLD_ON_CHANNEL = "unsold_on_channel"
    ORDER_NOT_UNDERSTOOD = "order_not_understood"
    ORDER_PARKED = "order_parked"
    SHIPMENT_UNMARKED = "shipment_unmarked"
    MISSED_CANCELLATION = "missed_cancellation"
    CANCELLED_AFTER_SHIPMENT = "cancelled_after_shipment"


@dataclass(frozen=True, slots=True)
class LevelVerdict:
    kind: Kind | None  # None: the channel shows what the hub expects
    sold_at_till: int = 0  # units to record as a POS sale (missed_pos_sale only)


def judge_level(*, expected: int, shown: int, intent_state: str | None, pos_location: bool,
                committed_there: int = 0) -> LevelVerdict:
    """Classify one (SKU, location) level.

    `intent_state` is the sync intent's state for the key (None: no intent). At a POS
    location, a shortfall is a till sale only for the units no open online order explains:
    Shopify moves an online order's units from available to committed at the location it
    assigned, which may not be where the hub routed it. Those units are re-asserted after
    the engine's hold instead (the conservative choice: a phantom sale would lose stock for
    good; a re-assertion is corrected by the next order poll).
    """
    if shown == expected:
        return LevelVerdict(None)
    if intent_state == IntentState.DEAD:
        return LevelVerdict(Kind.DEAD_LETTER)
    if intent_state is not None:
        return LevelVerdict(Kind.PUSH_PENDING)
    if pos_location and shown < expected:
        unexplained = expected - shown - max(committed_there, 0)
        if unexplained > 0:
            return LevelVerdict(Kind.MISSED_POS_SALE, sold_at_till=unexplained)
    return LevelVerdict(Kind.DRIFT_REPAIRED)


#: Hub order states a channel's cancellation leaves as they are: already in line with it.
CLOSED_STATES = frozenset({OrderState.CANCELLED, OrderState.REFUNDED})


def judge_cancellation(*, hub_state: str, units_gone: int, newer: bool, reported: bool) -> Kind | None:
    """Classify an order the channel shows cancelled that the hub holds.

    `units_gone`: units of it that left the hub (shipped, picked up, delivered); `newer`:
    the channel's version is newer than the hub's; `reported`: a run already left it for a
    person. Once any unit left, the cancellation needs a person whether or not the hub
    heard of it (the pipeline keeps a shipped order shipped), and only once. An open order
    is a missed cancellation while the hub lacks the cancelled version; with it, the
    pipeline has applied it (a cancelled order is final), so there is nothing to do.
    """
    if hub_state in CLOSED_STATES:
        return None
    if units_gone > 0:
        return None if reported else Kind.CANCELLED_AFTER_SHIPMENT
    return Kind.MISSED_CANCELLATION if newer else None
