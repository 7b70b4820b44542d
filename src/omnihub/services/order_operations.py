"""What people do to an order after it is in: cancel lines, hold and release, pick (and
short-pick), ship, hand over at pickup, a store rejecting its assignment, returns.

Each operation runs as a job on the group-commit writer, in the same kind of batch as
ingest (order row and positions locked, ledger and events in the same transaction), so an
operation and a routing decision for the same order can never interleave.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from omnihub.domain.ledger import Movement, Reason, StockState as S
from omnihub.domain.limits import (
    CODE_LENGTH,
    LINE_ID_LENGTH,
    MAX_ID,
    MAX_LINE_QUANTITY,
    REFERENCE_LENGTH,
    SHIPMENT_ID_LENGTH,
    TEXT_LENGTH,
    check_text,
    check_whole,
)
from omnihub.domain.order_states import GOODS_LEFT_STATES, OrderState, can_transition
from omnihub.domain.orders import (
    RELEASABLE_ASSIGNMENT_STATES,
    ROUTING_REJECTED,
    AssignmentState,
    FulfilmentAssignment,
    Order,
    apply_newer_version,
    cancellation_path,
)
from omnihub.domain.stock_commands import Plan
from omnihub.services.order_pipeline import OpContext, OrderError, OrderPipeline, OrderResult, held_for_routing, stored_id



def _acting_as(fn, actor: str | None):
    """`fn` whose movements carry `actor` in the ledger, those the pipeline makes for it
    too (the releases of a cancellation, the reservations of the routing a release or a
    rejection sets off): the pipeline makes them for channels' versions as well, where
    no one acts, so it leaves the actor out and the operation names its own here."""
    if actor is None:
        return fn

    def op(order: Order, ctx: OpContext) -> OrderResult:
        mark = ctx.batch.checkpoint()
        result = fn(order, ctx)
        ctx.batch.name_actor(mark, actor)
        return result

    return op


class OrderOperations:
    def __init__(self, pipeline: OrderPipeline) -> None:
        self.pipeline = pipeline

    def _run(self, order_id: int, fn, *, texts: tuple = (), lines: dict | None = None,
             actor: str | None = None) -> OrderResult:
        """Run `fn` on the order as a writer job, its movements in the name of `actor` (the
        principal's, domain/access.py). What the database would refuse (an id beyond 64
        bits, a text with NUL or over its column) is refused first: it would fail the
        batch the job runs in (domain/limits.py)."""
        check_whole(order_id, "order_id", high=MAX_ID)
        check_text(actor, "actor", REFERENCE_LENGTH)
        for field, value, length in texts:
            check_text(value, field, length)
        for line_id, units in (lines or {}).items():
            check_text(line_id, "lines", LINE_ID_LENGTH)
            check_whole(units, f"lines.{line_id}", high=MAX_LINE_QUANTITY)
        res = self.pipeline.writer.submit(_OpJob(self.pipeline, order_id, _acting_as(fn, actor))).result(120)
        if isinstance(res, Exception):
            raise res
        return res

    # -- cancellation -----------------------------------------------------------------------
    def cancel(self, order_id: int, lines: dict[str, int] | None = None, reason: str = "cancelled",
               actor: str | None = None) -> OrderResult:
        """Cancel the whole order (lines None) or some units of some lines, releasing
        exactly those units: from the queue first, then from reservations."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            if order.state in (OrderState.CANCELLED, OrderState.REFUNDED):
                raise OrderError(f"order {order.id} is already {order.state}", field="state", code="illegal_transition")
            if lines is None:
                incoming = replace(order, cancelled=True)
            else:
                new_lines = []
                for ln in order.lines:
                    q = lines.get(ln.line_id, 0)
                    if q < 0 or q > ln.open_quantity:
                        raise OrderError(f"line {ln.line_id}: cannot cancel {q} of {ln.open_quantity} open units",
                                         field=f"lines.{ln.line_id}", code="invalid_quantity")
                    new_lines.append(replace(ln, cancelled_quantity=ln.cancelled_quantity + q))
                unknown = set(lines) - {ln.line_id for ln in order.lines}
                if unknown:
                    raise OrderError(f"no line(s) {sorted(unknown)}", field="lines", code="unknown_line")
                incoming = replace(order, lines=tuple(new_lines))
            # The hub's own edit is a version just after the one it knows.
            incoming = replace(incoming, channel_updated_at=order.channel_updated_at + timedelta(microseconds=1))
            outcome = apply_newer_version(order, incoming)
            new = outcome.order
            unreleasable = sum(c.unreleasable for c in outcome.diff.line_changes)
            if unreleasable:
                raise OrderError(f"{unreleasable} unit(s) already left the building: return them instead",
                                 field="lines", code="already_shipped")
            ctx.apply_line_changes(new, outcome.diff)
            # The same rule as a channel's cancellation (cancellation_path): cancelled when
            # nothing is left, partly cancelled (then shipped if the rest has left) if not.
            if new.cancelled:
                new = ctx.cancel_remaining(new, reason)
            else:
                new = ctx.walk(new, cancellation_path(new), reason)
            if new.state is OrderState.CANCELLED or all(ln.unassigned_quantity == 0 for ln in new.lines):
                ctx.work.queue_deletes.add(oid)
            ctx.work.orders[oid] = new
            return OrderResult(oid, "cancelled", new.state.value)

        return self._run(order_id, op, texts=(("reason", reason, TEXT_LENGTH),), lines=lines, actor=actor)

    # -- holds ------------------------------------------------------------------------------
    def hold(self, order_id: int, reason: str, actor: str | None = None) -> OrderResult:
        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            new = replace(ctx.move(order, OrderState.HELD, reason), holds=order.holds + (reason,))
            ctx.work.orders[oid] = new
            return OrderResult(oid, "held", new.state.value, holds=list(new.holds))

        return self._run(order_id, op, texts=(("reason", reason, TEXT_LENGTH),), actor=actor)

    def release(self, order_id: int, actor: str | None = None) -> OrderResult:
        """Release a hold: the order goes to brokering and is routed at once. An order the
        routing rules refused is routed again under the rules now in force (refused again,
        it is held again with their reason). One already partly on its way, whose state
        cannot be `held`, only loses its routing hold and is routed."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            if order.state is OrderState.HELD:
                new = replace(ctx.move(order, OrderState.BROKERING, "hold released"), holds=())
            elif held_for_routing(order):
                new = replace(order, holds=tuple(h for h in order.holds if not h.startswith(ROUTING_REJECTED)))
            else:
                raise OrderError(f"order {order.id} is {order.state}, not held", field="state", code="illegal_transition")
            ctx.work.orders[oid] = new
            return ctx.route(new, "released")

        return self._run(order_id, op, actor=actor)

    def route_again(self, order_id: int, actor: str | None = None) -> OrderResult:
        """Route again what has not left a shelf: the order's reservations (units reserved,
        not yet picked) are released and every open unit not picked, packed or on its way
        is routed under the rules in force against the stock of now, with a new routing
        decision that explains it. For an order whose store fell behind, stock that
        arrived nearer, or rules changed since it was placed. A held order is not routed
        again: releasing its hold routes it."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            if order.state is OrderState.HELD or held_for_routing(order):
                raise OrderError(f"order {order.id} is held: release the hold, which routes it", field="state",
                                 code="illegal_transition")
            if order.state in GOODS_LEFT_STATES or order.state is OrderState.CANCELLED:
                raise OrderError(f"order {order.id} is {order.state}: nothing of it can be routed again", field="state",
                                 code="illegal_transition")
            new = ctx.release_reservations(order, "routed again")
            if all(ln.unassigned_quantity == 0 for ln in new.lines):
                raise OrderError(f"order {order.id} has nothing to route again: every open unit is picked, packed "
                                 "or on its way", field="state", code="nothing_to_route")
            ctx.work.orders[oid] = new
            return ctx.route(new, "rerouted")

        return self._run(order_id, op, actor=actor)

    # -- fulfilment -------------------------------------------------------------------------
    def ship(self, order_id: int, location: str, *, carrier: str | None = None, tracking: str | None = None,
             actor: str | None = None) -> OrderResult:
        """Everything reserved for this order at `location` leaves in one parcel: the
        reservation is consumed (reserved → shipped)."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            lid = ctx.cfg.id_of.get(location)
            if lid is None:
                raise OrderError(f"unknown location {location!r}", field="location", code="unknown_location")
            movements, lines, n = [], [], 0
            shipment = f"{order.id}-{location}-{tracking or len(ctx.work.events)}"
            if len(shipment) > SHIPMENT_ID_LENGTH:  # the shipment's id column (and the channel's fulfilment's)
                raise OrderError(f"tracking number too long for a shipment id of {SHIPMENT_ID_LENGTH} characters",
                                 field="tracking_number", code="too_long")
            for ln in order.lines:
                kept = []
                for a in ln.assignments:
                    if a.location_id == lid and a.state in RELEASABLE_ASSIGNMENT_STATES:
                        movements.append(Movement(ln.sku, location, a.quantity, S.RESERVED, S.SHIPPED, Reason.SHIPMENT,
                                                  reference=f"order:{order.id}", channel=order.channel, actor=actor))
                        a = replace(a, state=AssignmentState.SHIPPED, shipment_id=shipment)
                        n += a.quantity
                    kept.append(a)
                lines.append(replace(ln, assignments=tuple(kept)))
            if not movements:
                raise OrderError(f"order {order.id} has nothing to ship from {location}", field="location", code="nothing_to_ship")
            ctx.batch.apply(Plan(movements))
            new = replace(order, lines=tuple(lines))
            done = all(ln.unassigned_quantity == 0 and all(a.state not in RELEASABLE_ASSIGNMENT_STATES for a in ln.assignments) for ln in new.lines)
            path = [s for s in (OrderState.PICKED, OrderState.PACKED) if order.state not in (OrderState.PACKED, OrderState.PARTLY_SHIPPED)]
            if order.state is OrderState.PARTLY_ALLOCATED:
                path = []
            new = ctx.walk(new, path, "picked and packed")
            new = ctx.move(new, OrderState.SHIPPED if done else OrderState.PARTLY_SHIPPED, f"shipped from {location}")
            ctx.work.orders[oid] = new
            ctx.work.shipments.append((oid, location, carrier, tracking, shipment))
            return OrderResult(oid, "shipped", new.state.value, assignments=[{"location": location, "units": n, "shipment_id": shipment}])

        return self._run(order_id, op, texts=(("location", location, CODE_LENGTH), ("carrier", carrier, LINE_ID_LENGTH),
                                              ("tracking_number", tracking, REFERENCE_LENGTH)), actor=actor)

    def pick(self, order_id: int, location: str, found: dict[str, int], *, reason: str = "",
             actor: str | None = None) -> OrderResult:
        """The store's associate took the order's units off the shelf at `location`:
        `found` is the units found per line (every line reserved there; a line left out
        was found whole). Found units are picked (still reserved, now in the tote); a
        line found short is a short pick, treated as the hub treats a store that cannot
        fulfil (`reject_assignment`): the missing units go to quality control (the
        shelf is no longer trusted until a count says otherwise) and are routed again by
        the rules in force, the order's history saying why."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            lid = ctx.cfg.id_of.get(location)
            if lid is None:
                raise OrderError(f"unknown location {location!r}", field="location", code="unknown_location")
            to_pick = {ln.line_id: sum(a.quantity for a in ln.assignments
                                       if a.location_id == lid and a.state is AssignmentState.RESERVED)
                       for ln in order.lines}
            to_pick = {line_id: n for line_id, n in to_pick.items() if n}
            if not to_pick:
                raise OrderError(f"order {order.id} has nothing to pick at {location}", field="location",
                                 code="nothing_to_pick")
            unknown = sorted(set(found) - set(to_pick))
            if unknown:
                raise OrderError(f"no line(s) {unknown} to pick at {location}", field="lines", code="unknown_line")
            for line_id, n in found.items():
                if n > to_pick[line_id]:
                    raise OrderError(f"line {line_id}: {n} found, only {to_pick[line_id]} to pick at {location}",
                                     field=f"lines.{line_id}", code="invalid_quantity")
            movements, lines, short = [], [], []
            for ln in order.lines:
                left = found.get(ln.line_id, to_pick.get(ln.line_id, 0))  # units found, still to mark
                kept: list[FulfilmentAssignment] = []
                for a in ln.assignments:
                    if a.location_id != lid or a.state is not AssignmentState.RESERVED:
                        kept.append(a)
                        continue
                    took = min(left, a.quantity)
                    left -= took
                    if took:
                        kept.append(replace(a, quantity=took, state=AssignmentState.PICKED))
                    if a.quantity - took:
                        missing = a.quantity - took
                        kept.append(replace(a, quantity=missing, state=AssignmentState.REJECTED))
                        movements.append(Movement(ln.sku, location, missing, S.RESERVED, S.QUALITY_CONTROL,
                                                  Reason.QUALITY_CONTROL,
                                                  reference=f"order:{order.id} short pick: {reason or 'not found'}"[:200],
                                                  channel=order.channel, actor=actor))
                        short.append(f"{missing} × {ln.sku}")
                lines.append(replace(ln, assignments=tuple(kept)))
            new = replace(order, lines=tuple(lines))
            if not short:
                whole = all(ln.unassigned_quantity == 0 and all(a.state is not AssignmentState.RESERVED
                                                                for a in ln.assignments) for ln in new.lines)
                new = _step_if_legal(ctx, new, OrderState.PICKED if whole else OrderState.PARTLY_PICKED,
                                     f"picked at {location}")
                ctx.work.orders[oid] = new
                return OrderResult(oid, "picked", new.state.value)
            demand: dict[str, int] = {}
            for m in movements:
                demand[m.sku] = demand.get(m.sku, 0) + m.quantity
            ctx.batch.apply(Plan(movements, demand))
            why = f"short pick at {location}: {', '.join(short)} not found" + (f" ({reason})" if reason else "")
            picked_any = any(a.state in (AssignmentState.PICKED, AssignmentState.PACKED)
                             for ln in new.lines for a in ln.assignments)
            new = _step_if_legal(ctx, new, OrderState.PARTLY_PICKED if picked_any else OrderState.BROKERING, why)
            ctx.work.orders[oid] = new
            routed = ctx.route(new, "short_picked")
            return OrderResult(oid, "short_picked", routed.state, routed.outcome, routed.assignments,
                               alternatives=routed.alternatives)

        return self._run(order_id, op, texts=(("location", location, CODE_LENGTH), ("reason", reason, TEXT_LENGTH)),
                         lines=found, actor=actor)

    def hand_over(self, order_id: int, actor: str | None = None) -> OrderResult:
        """The customer collected a pickup (BOPIS/curbside) order. The units handed over
        at a store are one parcel (`<order>-<store>-pickup`) that the fulfilment job tells
        the channel about, as it does a shipment (services/fulfilment_sync.py)."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            if not order.delivery_method.is_pickup:
                raise OrderError(f"order {order.id} is {order.delivery_method}, not a pickup", field="delivery_method")
            movements, lines = [], []
            for ln in order.lines:
                kept = []
                for a in ln.assignments:
                    if a.state in RELEASABLE_ASSIGNMENT_STATES:
                        movements.append(Movement(ln.sku, ctx.cfg.code_of[a.location_id], a.quantity, S.RESERVED, S.SOLD,
                                                  Reason.SALE, reference=f"order:{order.id}", channel=order.channel,
                                                  actor=actor))
                        a = replace(a, state=AssignmentState.PICKED_UP,
                                    shipment_id=f"{order.id}-{ctx.cfg.code_of[a.location_id]}-pickup")
                    kept.append(a)
                lines.append(replace(ln, assignments=tuple(kept)))
            if not movements:
                raise OrderError(f"order {order.id} has nothing ready to hand over", field="state", code="nothing_to_hand_over")
            ctx.batch.apply(Plan(movements))
            new = ctx.walk(replace(order, lines=tuple(lines)), [OrderState.PICKED, OrderState.PACKED, OrderState.PICKED_UP],
                           "collected by the customer")
            ctx.work.orders[oid] = new
            return OrderResult(oid, "picked_up", new.state.value)

        return self._run(order_id, op, actor=actor)

    def deliver(self, order_id: int, shipment_id: str | None = None, actor: str | None = None) -> OrderResult:
        """The carrier (or the customer, for a pickup) confirms delivery of one parcel,
        or of every parcel that has left when no shipment is named. No stock moves: the
        units left the shelf when they shipped or were handed over. The order becomes
        `delivered` once nothing of it is still open; until then it keeps its state and
        the parcel's lines say `delivered`."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            gone = (AssignmentState.SHIPPED, AssignmentState.PICKED_UP)
            lines, n = [], 0
            for ln in order.lines:
                kept = []
                for a in ln.assignments:
                    if a.state in gone and (shipment_id is None or a.shipment_id == shipment_id):
                        a = replace(a, state=AssignmentState.DELIVERED)
                        n += a.quantity
                    kept.append(a)
                lines.append(replace(ln, assignments=tuple(kept)))
            if not n:
                what = f"no parcel {shipment_id!r} on its way" if shipment_id else "nothing shipped or handed over"
                raise OrderError(f"order {order.id} has {what}", field="shipment_id" if shipment_id else "state",
                                 code="nothing_to_deliver")
            new = replace(order, lines=tuple(lines))
            # Settled: no unit waits for a location, is still on a shelf or on its way.
            settled = all(ln.unassigned_quantity == 0 and all(a.state not in RELEASABLE_ASSIGNMENT_STATES and a.state not in gone
                                                                   for a in ln.assignments)
                          for ln in new.lines)
            if settled and new.state in (OrderState.SHIPPED, OrderState.PARTLY_SHIPPED, OrderState.PICKED_UP):
                new = ctx.move(new, OrderState.DELIVERED, f"delivered ({shipment_id or 'every parcel'})")
            ctx.work.orders[oid] = new
            return OrderResult(oid, "delivered", new.state.value,
                               assignments=[{"shipment_id": shipment_id, "units": n}])

        return self._run(order_id, op, texts=(("shipment_id", shipment_id, REFERENCE_LENGTH),), actor=actor)

    def reject_assignment(self, order_id: int, location: str, reason: str = "store could not fulfil",
                          actor: str | None = None) -> OrderResult:
        """A ship-from-store store refuses its assignment: the reservation is released,
        the units it could not find go to quality control (out of ATP until a count says
        otherwise: the store's stock is no longer trusted), and the units are routed again."""

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            lid = ctx.cfg.id_of.get(location)
            movements, lines, n = [], [], 0
            for ln in order.lines:
                kept = []
                for a in ln.assignments:
                    if a.location_id == lid and a.state is AssignmentState.RESERVED:
                        movements.append(Movement(ln.sku, location, a.quantity, S.RESERVED, S.QUALITY_CONTROL, Reason.QUALITY_CONTROL,
                                                  reference=f"order:{order.id} rejected: {reason}"[:200], channel=order.channel,
                                                  actor=actor))
                        a = replace(a, state=AssignmentState.REJECTED)
                        n += a.quantity
                    kept.append(a)
                lines.append(replace(ln, assignments=tuple(kept)))
            if not movements:
                raise OrderError(f"order {order.id} has no open assignment at {location}", field="location", code="nothing_to_reject")
            demand: dict[str, int] = {}
            for m in movements:
                demand[m.sku] = demand.get(m.sku, 0) + m.quantity
            ctx.batch.apply(Plan(movements, demand))
            new = ctx.move(replace(order, lines=tuple(lines)), OrderState.BROKERING, f"{location} rejected: {reason}")
            ctx.work.orders[oid] = new
            return ctx.route(new, "rerouted")

        return self._run(order_id, op, texts=(("location", location, CODE_LENGTH), ("reason", reason, TEXT_LENGTH)),
                         actor=actor)

    def receive_return(self, order_id: int, location: str, lines: dict[str, int], to_state: str = "on_hand",
                       actor: str | None = None) -> OrderResult:
        """Returned units arrive at `location`: back to stock, to damaged, or to QC."""
        target = S(to_state)
        if target not in (S.ON_HAND, S.DAMAGED, S.QUALITY_CONTROL):
            raise OrderError("a return goes to on_hand, damaged or quality_control", field="to_state")

        def op(order: Order, ctx: OpContext) -> OrderResult:
            oid = stored_id(order)
            if location not in ctx.cfg.id_of:
                raise OrderError(f"unknown location {location!r}", field="location", code="unknown_location")
            movements = []
            for ln in order.lines:
                q = lines.get(ln.line_id, 0)
                delivered = sum(a.quantity for a in ln.assignments
                                if a.state in (AssignmentState.SHIPPED, AssignmentState.PICKED_UP, AssignmentState.DELIVERED))
                if q < 0 or q > delivered:
                    raise OrderError(f"line {ln.line_id}: cannot return {q}, {delivered} delivered", field=f"lines.{ln.line_id}")
                if q:
                    movements.append(Movement(ln.sku, location, q, S.RECEIVED, target, Reason.RETURN,
                                              reference=f"order:{order.id}", channel=order.channel, actor=actor))
            if not movements:
                raise OrderError("nothing to return", field="lines", code="nothing_to_return")
            ctx.batch.apply(Plan(movements))
            new = order
            if order.state in (OrderState.SHIPPED, OrderState.PICKED_UP, OrderState.DELIVERED):
                new = ctx.move(order, OrderState.RETURNED, f"returned to {location}")
            ctx.work.orders[oid] = new
            return OrderResult(oid, "returned", new.state.value)

        return self._run(order_id, op, texts=(("location", location, CODE_LENGTH),), lines=lines, actor=actor)


def _step_if_legal(ctx: OpContext, order: Order, state: OrderState, reason: str) -> Order:
    """The order moved to `state` when the state machine allows it from where it is: a
    pick changes what is on the shelf whatever the order's state says (an order partly
    shipped may still have units to pick at another store), so it never refuses a pick."""
    if order.state is state or not can_transition(order.state, state):
        return order
    return ctx.move(order, state, reason)


class _OpJob:
    """An operation on a stored order (it names no keys: the writer claims everything)."""

    __slots__ = ("batch_kind", "order_id", "fn")

    def __init__(self, pipeline: OrderPipeline, order_id: int, fn) -> None:
        self.batch_kind = pipeline
        self.order_id = order_id
        self.fn = fn
