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
"""

from __future__ import annotations

from collections.abc import Mapping
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
