"""The order state machine: the one place that says which step may follow which.

Why a table and not methods scattered over the order: every channel, the API, the router
and the fulfilment workers move orders, and they must all agree. A table can be printed,
tested exhaustively and shown to an operator when a move is refused ("an order that is
`shipped` can only become `delivered` or `returned`").

The happy paths:

    created → (held) → brokering → allocated → partly_picked → picked → packed
        → shipped (partly_shipped first when the order leaves in several parcels) → delivered
        → picked_up (pickup in store and curbside) → delivered

Side paths: `backordered` and `partly_allocated` while brokering; `cancelled` from any
step before the goods leave; `partly_cancelled` when some lines or units are cancelled
and the rest continues (from it the order moves on along the happy path); `returned`
after delivery or pickup; `refunded` closes a cancelled or returned order.

An order whose allocation is rejected by a store (ship-from-store stores may refuse)
goes back to `brokering`.

After a cancellation, the state follows from the units alone, whoever cancelled them (a
newer channel version, the channel cancelling the whole order, an operator in the hub) and
whether it was one line, several or the whole order (`after_cancellation`):

* nothing left to fulfil and nothing gone → `cancelled` (final: a newer channel version
  cannot bring it back, see omnihub.domain.orders.apply_newer_version);
* some units still to fulfil → `partly_cancelled`, and the order carries on with them. An
  order not yet brokered (`created`, `held`) stays where it is: nothing was being worked
  on, it simply asks for fewer units, and a hold still waits for its reviewer;
* nothing left to fulfil but some units already left the building → `partly_cancelled`,
  then `shipped` (`picked_up` when every unit that left was collected in store). The
  retailer reads the order as what happened to its goods: they are on their way, and the
  cancelled units show on the lines; the `partly_cancelled` step keeps the cancellation in
  the order's history (an OrderStateChanged event per step). An order whose goods have all
  left already stays put: units gone can only come back as a return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class OrderState(StrEnum):
    CREATED = "created"
    HELD = "held"
    BROKERING = "brokering"
    BACKORDERED = "backordered"
    PARTLY_ALLOCATED = "partly_allocated"
    ALLOCATED = "allocated"
    PARTLY_PICKED = "partly_picked"
    PICKED = "picked"
    PACKED = "packed"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    PARTLY_CANCELLED = "partly_cancelled"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"


S = OrderState

TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = {
    S.CREATED: frozenset({S.HELD, S.BROKERING, S.CANCELLED}),
    # A hold is released into brokering or ends in cancellation.
    S.HELD: frozenset({S.BROKERING, S.CANCELLED}),
    # A late fraud signal (e.g. a chargeback on another order) may still hold it.
    S.BROKERING: frozenset(
        {S.HELD, S.ALLOCATED, S.PARTLY_ALLOCATED, S.BACKORDERED, S.CANCELLED, S.PARTLY_CANCELLED}
    ),
    S.BACKORDERED: frozenset(
        {S.BROKERING, S.ALLOCATED, S.PARTLY_ALLOCATED, S.CANCELLED, S.PARTLY_CANCELLED}
    ),
    S.PARTLY_ALLOCATED: frozenset(
        {S.ALLOCATED, S.BROKERING, S.BACKORDERED, S.PARTLY_PICKED, S.PARTLY_SHIPPED,
         S.CANCELLED, S.PARTLY_CANCELLED}
    ),
    S.ALLOCATED: frozenset(
        {S.BROKERING, S.PARTLY_PICKED, S.PICKED, S.CANCELLED, S.PARTLY_CANCELLED}
    ),
    S.PARTLY_PICKED: frozenset({S.PICKED, S.BROKERING, S.CANCELLED, S.PARTLY_CANCELLED}),
    S.PICKED: frozenset({S.PACKED, S.CANCELLED, S.PARTLY_CANCELLED}),
    S.PACKED: frozenset(
        {S.SHIPPED, S.PARTLY_SHIPPED, S.PICKED_UP, S.CANCELLED, S.PARTLY_CANCELLED}
    ),
    S.PARTLY_SHIPPED: frozenset({S.SHIPPED, S.PARTLY_CANCELLED, S.DELIVERED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.PICKED_UP: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED, S.REFUNDED}),
    # Partly cancelled orders carry on with what is left.
    S.PARTLY_CANCELLED: frozenset(
        {S.BROKERING, S.BACKORDERED, S.PARTLY_ALLOCATED, S.ALLOCATED, S.PARTLY_PICKED,
         S.PICKED, S.PACKED, S.PARTLY_SHIPPED, S.SHIPPED, S.PICKED_UP, S.DELIVERED,
         S.CANCELLED, S.REFUNDED}
    ),
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

#: States in which the order's unrouted units sit in the brokering queue (they count
#: against ATP but are not yet reserved at a location).
QUEUED_STATES: frozenset[OrderState] = frozenset(
    {S.CREATED, S.HELD, S.BROKERING, S.BACKORDERED, S.PARTLY_ALLOCATED}
)
#: States after which goods have left (cancelling is no longer possible, only a return).
GOODS_LEFT_STATES: frozenset[OrderState] = frozenset(
    {S.SHIPPED, S.PICKED_UP, S.DELIVERED, S.RETURNED, S.REFUNDED}
)
TERMINAL_STATES: frozenset[OrderState] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class IllegalTransition(ValueError):
    """An order was asked to move to a state that may not follow its current one."""

    def __init__(self, from_state: OrderState, to_state: OrderState) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = tuple(sorted(TRANSITIONS[from_state]))
        allowed = ", ".join(s.value for s in self.allowed) or "nothing (final state)"
        super().__init__(
            f"an order that is {from_state.value!r} cannot become {to_state.value!r}; "
            f"allowed: {allowed}"
        )


def allowed_transitions(state: OrderState) -> frozenset[OrderState]:
    return TRANSITIONS[state]


def can_transition(from_state: OrderState, to_state: OrderState) -> bool:
    return to_state in TRANSITIONS[from_state]


def transition(from_state: OrderState, to_state: OrderState) -> OrderState:
    """Return `to_state` if the move is legal, else raise IllegalTransition.

    Moving to the same state is not a transition and is refused too: callers that may
    repeat themselves (at-least-once delivery) should check `from_state == to_state`
    first, which makes the repeat visible instead of silently accepted.
    """
    if to_state not in TRANSITIONS[from_state]:
        raise IllegalTransition(OrderState(from_state), OrderState(to_state))
    return to_state


@dataclass(frozen=True, slots=True)
class LineUnits:
    """One line's units as a cancellation leaves them: `ordered`, of which `cancelled`
    and, of the rest, `fulfilled` (already left: shipped, picked up, delivered)."""

    ordered: int
    cancelled: int = 0
    fulfilled: int = 0

    @property
    def to_fulfil(self) -> int:
        """Units still wanted that have not left yet (queued or reserved somewhere)."""
        return max(0, self.ordered - self.cancelled - self.fulfilled)


_NOT_YET_BROKERED = frozenset({S.CREATED, S.HELD})


def after_cancellation(
    state: OrderState,
    lines: Iterable[LineUnits],
    *,
    whole_order: bool = False,
    fulfilled_as: OrderState = S.SHIPPED,
) -> tuple[OrderState, ...]:
    """The states an order in `state` walks through once units were cancelled (empty when
    it stays put): the rule in the module docstring, written once for every path.

    `whole_order` is the channel's (or operator's) "cancel the order": every unit still
    to fulfil goes, so it is `cancelled` unless some units already left (then, as for
    any cancellation of all that is left, the order ends `shipped`). `fulfilled_as` is
    where an order ends when nothing is left to fulfil but some units left (`shipped` or
    `picked_up`). Each step still goes through `transition`, so an impossible one is
    refused.
    """
    if state is S.CANCELLED:
        return ()
    lines = tuple(lines)
    to_fulfil = 0 if whole_order else sum(ln.to_fulfil for ln in lines)
    gone = sum(ln.fulfilled for ln in lines)
    if not (to_fulfil or gone):
        return (S.CANCELLED,)
    if to_fulfil:
        return () if state in _NOT_YET_BROKERED or state is S.PARTLY_CANCELLED else (S.PARTLY_CANCELLED,)
    if state in GOODS_LEFT_STATES:
        return ()
    return tuple(s for s in (S.PARTLY_CANCELLED, fulfilled_as) if s is not state)
