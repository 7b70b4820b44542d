"""The inventory ledger's rules: states, reasons, movements and their fold into positions.

Every change of stock is an append-only `Movement` of units from one state to another.
A `Position` (per SKU and location) is nothing but the fold of its movements; this module
is the one place that fold is defined, so the database projection, the tests and any
rebuild all agree.

Quantity model. `on_hand` is the physical count on the shelf (what Shopify also calls
on_hand). `reserved`, `damaged` and `quality_control` are *sub-states of on_hand*: units
that are physically there but not free to sell. `incoming` and `in_transit` are not on the
shelf yet. The outside world (received, sold, shipped, lost) has no balance. So moving
on_hand → reserved leaves on_hand alone and raises reserved; reserved → shipped lowers both.
This keeps the ATP formula of the seeds literal: on_hand − reserved − damaged − QC − ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, NamedTuple


class StockState(StrEnum):
    ON_HAND = "on_hand"
    RESERVED = "reserved"
    DAMAGED = "damaged"
    QUALITY_CONTROL = "quality_control"
    INCOMING = "incoming"
    IN_TRANSIT = "in_transit"
    # The outside world: units come from or go to it, it keeps no balance.
    RECEIVED = "received"
    SOLD = "sold"
    SHIPPED = "shipped"
    LOST = "lost"


class Reason(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    SHIPMENT = "shipment"
    RETURN = "return"
    CYCLE_COUNT = "cycle_count"
    DAMAGE = "damage"
    FOUND = "found"
    TRANSFER = "transfer"
    ERP_SNAPSHOT = "erp_snapshot"
    CORRECTION = "correction"
    RESERVATION = "reservation"
    RELEASE = "release"
    QUALITY_CONTROL = "quality_control"


OUTSIDE = frozenset({StockState.RECEIVED, StockState.SOLD, StockState.SHIPPED, StockState.LOST})
ON_SHELF = frozenset(
    {StockState.ON_HAND, StockState.RESERVED, StockState.DAMAGED, StockState.QUALITY_CONTROL}
)
#: Balances kept per position besides on_hand.
SUB_STATES = (
    StockState.RESERVED,
    StockState.DAMAGED,
    StockState.QUALITY_CONTROL,
    StockState.INCOMING,
    StockState.IN_TRANSIT,
)


#: Where each balance sits in Position's field order (on_hand first).
_BALANCE_INDEX = {state: i for i, state in enumerate((StockState.ON_HAND, *SUB_STATES))}

#: Reasons that report what physically happened on the shelf: a sale at the till, a count,
#: the ERP's morning snapshot. These are recorded even when the hub believed the units
#: were not free (reserved for another order): the shortfall becomes an oversell incident.
SHELF_TRUTH_REASONS = frozenset({Reason.SALE, Reason.CYCLE_COUNT, Reason.ERP_SNAPSHOT})


#: The most units one balance of one position may hold (see domain/limits.py, where the
#: hub's other limits are): the database's columns are 32-bit, and a channel's pool sums
#: several locations' balances.
MAX_BALANCE: Final = 1_000_000_000


class LedgerError(ValueError):
    """A movement the ledger refuses. `field` names the input at fault for API errors."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid_movement"):
        super().__init__(message)
        self.field = field
        self.code = code


class InsufficientStock(LedgerError):
    def __init__(self, message: str, *, state: StockState, wanted: int, have: int):
        super().__init__(message, field="quantity", code="insufficient_stock")
        self.state = state
        self.wanted = wanted
        self.have = have


class Position(NamedTuple):
    """Balances of one SKU at one location; `version` counts the movements folded in.

    A named tuple rather than a frozen dataclass: just as immutable, and built in C. The
    stock writer makes one per movement, tens of thousands a second, and a frozen
    dataclass's field-by-field `__init__` cost more than the fold itself."""

    on_hand: int = 0
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    incoming: int = 0
    in_transit: int = 0
    version: int = 0

    @property
    def free(self) -> int:
        """Units on the shelf that are neither reserved nor held back (may be < 0 after
        a recorded oversell)."""
        return self.on_hand - self.reserved - self.damaged - self.quality_control

    def balance(self, state: StockState) -> int:
        if state is StockState.ON_HAND:
            return self.free
        return getattr(self, state.value)

    def as_dict(self) -> dict[str, int]:
        return {
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "damaged": self.damaged,
            "quality_control": self.quality_control,
            "incoming": self.incoming,
            "in_transit": self.in_transit,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Movement:
    """One append-only ledger entry (what the use case asks for, before it is stored)."""

    sku: str
    location: str
    quantity: int
    from_state: StockState
    to_state: StockState
    reason: Reason
    reference: str | None = None
    channel: str | None = None
    actor: str | None = None
    idempotency_key: str | None = None
    occurred_at: datetime | None = None

    # -- written out from the fields by `python -m omnihub.compiled_inits`: edit the fields, not this
    def __init__(
        self,
        sku: str,
        location: str,
        quantity: int,
        from_state: StockState,
        to_state: StockState,
        reason: Reason,
        reference: str | None = None,
        channel: str | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        object.__setattr__(self, "sku", sku)
        object.__setattr__(self, "location", location)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "from_state", from_state)
        object.__setattr__(self, "to_state", to_state)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "actor", actor)
        object.__setattr__(self, "idempotency_key", idempotency_key)
        object.__setattr__(self, "occurred_at", occurred_at)
    # -- end of the written-out code


class Applied(NamedTuple):
    """The result of folding one movement: the new position and the oversell shortfall
    (units sold beyond what the hub believed was free; 0 almost always)."""

    position: Position
    oversold: int = 0


def validate_movement(m: Movement) -> None:
    if not isinstance(m.quantity, int) or isinstance(m.quantity, bool):
        raise LedgerError("quantity must be a whole number", field="quantity")
    if m.quantity <= 0:
        raise LedgerError(f"quantity must be positive, got {m.quantity}", field="quantity")
    if m.from_state == m.to_state:
        raise LedgerError(f"from_state and to_state are both {m.from_state}", field="to_state")
    if m.from_state in OUTSIDE and m.to_state in OUTSIDE:
        raise LedgerError("a movement must touch at least one balance", field="to_state")


def apply_movement(pos: Position, m: Movement, *, allow_oversell: bool = False) -> Applied:
    """Fold one movement into a position, refusing any balance going negative.

    The only exception is what the shelf reports (`on_hand → sold/lost` for a sale, a
    count or an ERP snapshot) with `allow_oversell`: the shelf is the truth, so it is
    recorded and the shortfall returned for an OversellDetected incident, never refused.
    """
    validate_movement(m)
    q = m.quantity
    src, dst = m.from_state, m.to_state
    # Balances as a list indexed like Position's fields: the hot path folds tens of
    # thousands of movements a second, and dataclasses.replace costs more than the fold.
    b = list(pos[:6])  # on_hand, reserved, damaged, quality_control, incoming, in_transit
    oversold = 0
    if src not in OUTSIDE:
        have = pos.balance(src)
        if have < q:
            is_physical_sale = (
                allow_oversell
                and src is StockState.ON_HAND
                and dst in (StockState.SOLD, StockState.LOST)
                and m.reason in SHELF_TRUTH_REASONS
            )
            if not is_physical_sale:
                raise InsufficientStock(
                    f"{m.sku} at {m.location}: {src} has {have}, cannot move {q}",
                    state=src,
                    wanted=q,
                    have=have,
                )
            oversold = q - max(have, 0)
        if src is not StockState.ON_HAND:
            b[_BALANCE_INDEX[src]] -= q
    if dst not in OUTSIDE and dst is not StockState.ON_HAND:
        b[_BALANCE_INDEX[dst]] += q
    b[0] += q * ((dst in ON_SHELF) - (src in ON_SHELF))
    if dst not in OUTSIDE and b[_BALANCE_INDEX[dst]] > MAX_BALANCE:
        raise LedgerError(f"{m.sku} at {m.location}: {dst} would hold more than {MAX_BALANCE} units",
                          field="quantity", code="out_of_range")
    return Applied(Position(b[0], b[1], b[2], b[3], b[4], b[5], pos.version + 1), oversold)


def fold(movements: list[Movement], *, allow_oversell_flags: list[bool] | None = None) -> Position:
    """Replay movements from an empty position (used to prove the projection)."""
    pos = Position()
    for i, m in enumerate(movements):
        flag = allow_oversell_flags[i] if allow_oversell_flags else True
        pos = apply_movement(pos, m, allow_oversell=flag).position
    return pos
