"""What the sync engine decides, without I/O: how urgent a push is, and what to send
when the channel refused a compare-and-swap because its quantity moved.

The hub is the source of truth for what each channel may sell; a channel's own number
can still move under us (a sale there, a merchant's edit in the channel's admin). When a
compare-and-swap comes back stale, the channel holds fewer units than we last confirmed
or more:

- fewer: the channel may have sold units whose order the hub has not ingested yet. The
  hub's figure does not know about them, so raising the channel back to it could sell a
  unit twice. We land min(hub figure, what the channel shows) now, and re-assert the hub's
  figure after a short hold (by then the order has arrived and lowered the hub's figure,
  or it never will and the hub's figure was right).
- more (or the same): nothing was sold behind our back; land the hub's figure now.
"""

from __future__ import annotations

from dataclasses import dataclass

#: At or below this, a SKU is "near zero": its pushes go first (oversell risk).
NEAR_ZERO = 2


class IntentState:
    """A sync intent's state (`sync_intents.state`): the sync engine writes it, and
    reconciliation reads it to tell a parked push from drift."""

    PENDING = "pending"  # waiting for its push or its retry
    DEAD = "dead"  # parked after its last attempt, for an operator


class Priority:
    NEAR_ZERO = 0  # going to zero or near zero: the next sale may be an oversell
    DECREASE = 1  # fewer units: still protects against overselling
    INCREASE = 2  # more units: only lost sales while it waits


def priority(target: int, confirmed: int | None) -> int:
    if target <= NEAR_ZERO:
        return Priority.NEAR_ZERO
    if confirmed is None or target < confirmed:
        return Priority.DECREASE
    return Priority.INCREASE


@dataclass(frozen=True, slots=True)
class Redecision:
    send: int  # quantity to send now
    reassert: bool  # the hub's figure must be pushed again after the hold


def redecide(hub_target: int, confirmed: int | None, observed: int) -> Redecision:
    """After CHANGE_FROM_QUANTITY_STALE: the channel shows `observed`, not `confirmed`."""
    if confirmed is not None and observed < confirmed and observed < hub_target:
        return Redecision(send=max(0, observed), reassert=True)
    return Redecision(send=hub_target, reassert=False)


@dataclass(slots=True)
class PushItem:
    """One intent handed to a channel's pusher."""

    intent_id: int
    sku: str
    location: str  # hub location code, '' for a channel total
    target: int
    confirmed: int | None  # last value the channel confirmed (compare-and-swap base)


class PushStatus:
    OK = "ok"  # the channel confirmed `landed`
    STALE = "stale"  # compare-and-swap refused; the channel shows `observed`
    AGAIN = "again"  # not applied only because a batch-mate was refused: resend at once
    RETRY = "retry"  # not applied (throttled, network, channel error): try again after a back-off
    DEFERRED = "deferred"  # not attempted: the channel's budget is spent; no failure counted
    FAILED = "failed"  # refused for a reason a retry will not fix (unmapped SKU, invalid)


@dataclass(slots=True)
class PushOutcome:
    intent_id: int
    status: str
    landed: int | None = None
    observed: int | None = None
    error: str = ""
