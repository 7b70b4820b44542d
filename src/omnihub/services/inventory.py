"""Inventory use cases: receive, transfer, count, damage, quality control, reserve,
release, consume on shipment, record a POS sale. Each builds one `StockCommand` (all its
movements land together or not at all) and hands it to the stock writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from omnihub.adapters.db.group_commit import StockWriter
from omnihub.adapters.db.stock_store import StockResult
from omnihub.domain.ledger import LedgerError, Movement, Position, Reason, StockState as S
from omnihub.domain.limits import (
    CODE_LENGTH,
    MAX_QUANTITY,
    REFERENCE_LENGTH,
    SKU_LENGTH,
    check_texts,
    check_whole,
)
from omnihub.domain.stock_commands import Plan, PositionKey, StockCommand, fixed_plan


@dataclass(frozen=True, slots=True)
class Context:
    """Who and what a use case is acting for (kept on every movement)."""

    actor: str | None = None
    channel: str | None = None
    reference: str | None = None
    idempotency_key: str | None = None


def _check_qty(quantity: int) -> None:
    check_whole(quantity, "quantity", low=1, high=MAX_QUANTITY)


def _check_refs(sku: object, location: object, ctx: Context) -> None:
    """What a command writes as text fits its column and holds no NUL (domain/limits.py):
    refused here, it fails no batch."""
    check_texts((("sku", sku, SKU_LENGTH), ("location", location, CODE_LENGTH),
                 ("reference", ctx.reference, REFERENCE_LENGTH), ("channel", ctx.channel, CODE_LENGTH),
                 ("actor", ctx.actor, REFERENCE_LENGTH), ("Idempotency-Key", ctx.idempotency_key, REFERENCE_LENGTH)))


def _m(sku, loc, qty, src, dst, reason, ctx: Context) -> Movement:
    if isinstance(qty, bool):  # before the Movement: compiled, it keeps a bool as the int it is
        raise LedgerError("quantity must be a whole number", field="quantity")
    return Movement(sku, loc, qty, src, dst, reason, ctx.reference, ctx.channel, ctx.actor, ctx.idempotency_key)


class Inventory:
    def __init__(self, writer: StockWriter, on_stock_rose: Callable[[Iterable[str]], None] | None = None) -> None:
        self.writer = writer
        # Told the SKUs of every committed command that put units on hand, so that orders
        # queued for them are routed at once (services/queue_waker.py).
        self.on_stock_rose = on_stock_rose

    def _run(self, kind: str, movements: list[Movement], ctx: Context, request: dict, **kw) -> StockResult:
        for m in movements:
            _check_qty(m.quantity)
            _check_refs(m.sku, m.location, Context(m.actor, m.channel, m.reference, m.idempotency_key))
        keys = tuple(dict.fromkeys((m.sku, m.location) for m in movements))
        cmd = StockCommand(kind, keys, fixed_plan(movements), ctx.idempotency_key, request, **kw)
        result = self.writer.execute(cmd)
        if self.on_stock_rose is not None and any(m.to_state == S.ON_HAND for m in movements):
            self.on_stock_rose({m.sku for m in movements if m.to_state == S.ON_HAND})
        return result

    # -- movements as asked ----------------------------------------------------------------
    def record(self, movement: Movement, *, expected_version: int | None = None, allow_oversell: bool = False) -> StockResult:
        """Record one raw movement (the API's POST /movements)."""
        key = (movement.sku, movement.location)
        req = {
            "sku": movement.sku, "location": movement.location, "quantity": movement.quantity,
            "from": movement.from_state, "to": movement.to_state, "reason": movement.reason,
            "reference": movement.reference, "expected_version": expected_version,
        }
        ctx = Context(movement.actor, movement.channel, movement.reference, movement.idempotency_key)
        return self._run(
            "movement", [movement], ctx, req,
            expected_versions={key: expected_version} if expected_version is not None else None,
            allow_oversell=allow_oversell,
        )

    def receive(self, sku: str, location: str, quantity: int, *, source: str = "purchase_order",
                to_state: S = S.ON_HAND, ctx: Context = Context()) -> StockResult:
        """Receive stock from a purchase order, a return or an inbound transfer that was
        not announced. A return may go to damaged or quality control instead of the shelf."""
        if source not in ("purchase_order", "return", "transfer"):
            raise LedgerError(f"unknown receipt source {source!r}", field="source")
        reason = Reason.RETURN if source == "return" else Reason.RECEIPT
        mv = [_m(sku, location, quantity, S.RECEIVED, to_state, reason, ctx)]
        return self._run("receive", mv, ctx, {"sku": sku, "location": location, "quantity": quantity, "source": source, "to": to_state})

    def expect(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        """Record a purchase order line as incoming (counts for pre-orders, not for ATP)."""
        mv = [_m(sku, location, quantity, S.RECEIVED, S.INCOMING, Reason.RECEIPT, ctx)]
        return self._run("expect", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def receive_expected(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        mv = [_m(sku, location, quantity, S.INCOMING, S.ON_HAND, Reason.RECEIPT, ctx)]
        return self._run("receive_expected", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def ship_transfer(self, sku: str, from_location: str, to_location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        """Transfer, first leg: units leave the source shelf and are in transit to the
        destination (where they show as in_transit until received)."""
        if from_location == to_location:
            raise LedgerError("a transfer needs two different locations", field="to_location")
        mv = [
            _m(sku, from_location, quantity, S.ON_HAND, S.SHIPPED, Reason.TRANSFER, ctx),
            _m(sku, to_location, quantity, S.RECEIVED, S.IN_TRANSIT, Reason.TRANSFER, ctx),
        ]
        return self._run("ship_transfer", mv, ctx, {"sku": sku, "from": from_location, "to": to_location, "quantity": quantity})

    def receive_transfer(self, sku: str, location: str, quantity: int, *, damaged: int = 0, ctx: Context = Context()) -> StockResult:
        """Transfer, second leg: in-transit units arrive; some may arrive damaged."""
        mv = []
        good = quantity - damaged
        if damaged < 0 or good < 0:
            raise LedgerError("damaged must be between 0 and quantity", field="damaged")
        if good:
            mv.append(_m(sku, location, good, S.IN_TRANSIT, S.ON_HAND, Reason.TRANSFER, ctx))
        if damaged:
            mv.append(_m(sku, location, damaged, S.IN_TRANSIT, S.DAMAGED, Reason.DAMAGE, ctx))
        return self._run("receive_transfer", mv, ctx, {"sku": sku, "location": location, "quantity": quantity, "damaged": damaged})

    def mark_damaged(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        mv = [_m(sku, location, quantity, S.ON_HAND, S.DAMAGED, Reason.DAMAGE, ctx)]
        return self._run("mark_damaged", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def hold_for_quality_control(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        mv = [_m(sku, location, quantity, S.ON_HAND, S.QUALITY_CONTROL, Reason.QUALITY_CONTROL, ctx)]
        return self._run("hold_qc", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def release_quality_control(self, sku: str, location: str, passed: int, failed: int = 0, ctx: Context = Context()) -> StockResult:
        mv = []
        if passed:
            mv.append(_m(sku, location, passed, S.QUALITY_CONTROL, S.ON_HAND, Reason.QUALITY_CONTROL, ctx))
        if failed:
            mv.append(_m(sku, location, failed, S.QUALITY_CONTROL, S.DAMAGED, Reason.DAMAGE, ctx))
        if not mv:
            raise LedgerError("nothing to release: passed and failed are both 0", field="passed")
        return self._run("release_qc", mv, ctx, {"sku": sku, "location": location, "passed": passed, "failed": failed})

    def reserve(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        mv = [_m(sku, location, quantity, S.ON_HAND, S.RESERVED, Reason.RESERVATION, ctx)]
        return self._run("reserve", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def release(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        mv = [_m(sku, location, quantity, S.RESERVED, S.ON_HAND, Reason.RELEASE, ctx)]
        return self._run("release", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def consume(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        """Reserved units leave on a shipment."""
        mv = [_m(sku, location, quantity, S.RESERVED, S.SHIPPED, Reason.SHIPMENT, ctx)]
        return self._run("consume", mv, ctx, {"sku": sku, "location": location, "quantity": quantity})

    def record_sale(self, sku: str, location: str, quantity: int, ctx: Context = Context()) -> StockResult:
        """A physical sale (POS): never refused, because the shelf is the truth. Units
        the hub thought were gone are recorded as an oversell incident."""
        mv = [_m(sku, location, quantity, S.ON_HAND, S.SOLD, Reason.SALE, ctx)]
        return self._run("sale", mv, ctx, {"sku": sku, "location": location, "quantity": quantity}, allow_oversell=True)

    # -- counts: absolute numbers become variance movements --------------------------------
    def count(self, sku: str, location: str, counted: int, *, damaged: int | None = None,
              reason: Reason = Reason.CYCLE_COUNT, ctx: Context = Context()) -> StockResult:
        """A cycle count: `counted` sellable units on the shelf (and, if given, `damaged`
        units set aside). The difference from the ledger becomes found/lost movements."""
        result = self.writer.execute(count_command(sku, location, counted, damaged=damaged, reason=reason, ctx=ctx))
        if self.on_stock_rose is not None:  # a count may find units (the waker reads nothing if no order waits)
            self.on_stock_rose((sku,))
        return result


def count_command(sku: str, location: str, counted: int, *, damaged: int | None = None,
                  reason: Reason = Reason.CYCLE_COUNT, ctx: Context = Context()) -> StockCommand:
    for name, v in (("counted", counted), ("damaged", damaged)):
        if v is not None:
            check_whole(v, name, low=0, high=MAX_QUANTITY)
    _check_refs(sku, location, ctx)
    key: PositionKey = (sku, location)

    def plan(current: Mapping[PositionKey, Position]) -> Plan:
        pos = current[key]
        out: list[Movement] = []
        # Sellable shelf units: free + reserved (reserved units are still on the shelf).
        shelf = pos.on_hand - pos.damaged - pos.quality_control
        variance = counted - shelf
        if variance > 0:
            out.append(_m(sku, location, variance, S.RECEIVED, S.ON_HAND, Reason.FOUND if reason is Reason.CYCLE_COUNT else reason, ctx))
        elif variance < 0:
            out.append(_m(sku, location, -variance, S.ON_HAND, S.LOST, reason, ctx))
        if damaged is not None and damaged != pos.damaged:
            d = damaged - pos.damaged
            if d > 0:
                out.append(_m(sku, location, d, S.RECEIVED, S.DAMAGED, Reason.DAMAGE, ctx))
            else:
                out.append(_m(sku, location, -d, S.DAMAGED, S.LOST, Reason.DAMAGE, ctx))
        return Plan(out)

    return StockCommand(
        "count", (key,), plan, ctx.idempotency_key,
        {"sku": sku, "location": location, "counted": counted, "damaged": damaged, "reason": reason},
        allow_oversell=True,
    )
