"""The pickup desk of a store: BOPIS and curbside orders ready for their customers, the
pickup code checked at the hand-over, the customer's "I'm here" at the curb.

An order is ready once its store has picked every unit (services/store_picking.py calls
`ready`): a pickup code is issued then (domain/pickup_codes.py), once. The hand-over
checks the code typed or scanned against it, counting wrong codes in a row and locking
the order's hand-over after too many (the counters are updated only if nobody else
updated them since they were read, so two tills trying at once cannot share one try);
the right code hands the order over through OrderOperations.hand_over (the stock sold,
the order `picked_up`, its history), and the fulfilment job tells the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import TEXT_LENGTH, check_text
from omnihub.domain.orders import DeliveryMethod
from omnihub.domain.pickup_codes import MAX_WRONG_CODES, check_code, new_code
from omnihub.services.catalog import Conflict, NotFound
from omnihub.services.order_operations import OrderOperations
from omnihub.services.order_pipeline import OrderResult

#: the order states of one ready for its customer (every unit picked, nothing handed over)
READY_STATES = ("picked", "packed")
PICKUP_METHODS = (DeliveryMethod.PICKUP_IN_STORE.value, DeliveryMethod.CURBSIDE.value)
WAITING_SHOWN = 200  # orders on one store's hand-over list


class WrongPickupCode(LedgerError):
    """The code is not the order's (HTTP 422): the message says how many tries are left."""

    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message, field="code", code="wrong_pickup_code")
        self.tries_left = tries_left


class PickupLocked(Conflict):
    """Too many wrong codes: the order's hand-over waits for the lock to end (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="code", code="pickup_locked")


@dataclass(frozen=True, slots=True)
class WaitingLine:
    sku: str
    title: str
    units: int


@dataclass(frozen=True, slots=True)
class WaitingPickup:
    """An order ready at the store, as its hand-over list shows it."""

    order_id: int
    channel: str
    external_id: str
    curbside: bool
    ready_at: datetime
    customer_arrived_at: datetime | None
    arrival_note: str | None
    locked_until: datetime | None
    lines: tuple[WaitingLine, ...]


class PickupDesk:
    def __init__(self, engine: Engine, read_engine: Engine, order_ops: OrderOperations,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.order_ops = order_ops
        self.clock = clock

    def ready(self, order_id: int, location: str) -> bool:
        """The order is ready at `location`: its pickup code is issued (True), unless one
        was already (False)."""
        p = t.order_pickups
        with self.engine.begin() as conn:
            if conn.execute(sa.select(p.c.order_id).where(p.c.order_id == order_id)).first() is not None:
                return False
            conn.execute(sa.insert(p).values(order_id=order_id, location=location, code=new_code(),
                                             ready_at=self.clock(), wrong_codes=0))
        return True

    def status(self, order_id: int) -> dict | None:
        """The order's pickup row (its code among the rest), or None when it is not ready."""
        p = t.order_pickups
        with self.read_engine.connect() as conn:
            row = conn.execute(sa.select(p).where(p.c.order_id == order_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        for name in ("ready_at", "locked_until", "customer_arrived_at", "handed_over_at"):
            out[name] = as_utc(out[name])
        return out

    def waiting(self, location: str) -> list[WaitingPickup]:
        """The orders ready for their customers at `location`: customers who said they are
        here first, then the longest waiting."""
        p, o, a, v, pr = t.order_pickups, t.orders, t.order_assignments, t.variants, t.products
        q = (sa.select(p, o.c.channel, o.c.external_id, o.c.delivery_method)
             .join(o, o.c.id == p.c.order_id)
             .where(p.c.location == location, p.c.handed_over_at.is_(None), o.c.state.in_(READY_STATES))
             .order_by(p.c.customer_arrived_at.is_(None), p.c.customer_arrived_at, p.c.ready_at, p.c.order_id)
             .limit(WAITING_SHOWN))
        with self.read_engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
            ids = [r["order_id"] for r in rows]
            lines: dict[int, list[WaitingLine]] = {}
            if ids:
                units = conn.execute(
                    sa.select(a.c.order_id, a.c.sku, sa.func.sum(a.c.quantity), pr.c.title, v.c.title)
                    .outerjoin(v, v.c.sku == a.c.sku).outerjoin(pr, pr.c.id == v.c.product_id)
                    .where(a.c.order_id.in_(ids), a.c.location == location, a.c.state.in_(("picked", "packed")))
                    .group_by(a.c.order_id, a.c.sku, pr.c.title, v.c.title).order_by(a.c.order_id, a.c.sku)).all()
                for oid, sku, n, product_title, variant_title in units:
                    lines.setdefault(oid, []).append(WaitingLine(sku, title_of(product_title, variant_title, sku), int(n)))
        return [WaitingPickup(r["order_id"], r["channel"], r["external_id"],
                              r["delivery_method"] == DeliveryMethod.CURBSIDE.value, as_utc(r["ready_at"]),
                              as_utc(r["customer_arrived_at"]), r["arrival_note"], as_utc(r["locked_until"]),
                              tuple(lines.get(r["order_id"], ())))
                for r in rows]

    def hand_over(self, order_id: int, location: str, typed: str | None, actor: str | None = None) -> OrderResult:
        """Check the code typed or scanned for the order ready at `location`, then hand it
        over. WrongPickupCode (422) or PickupLocked (409) when the code does not open it."""
        check_text(typed, "code", 64)
        for _ in range(MAX_WRONG_CODES * 2):  # another till's attempt in between: read again
            row = self._ready_row(order_id, location)
            now = self.clock()
            checked = check_code(row["code"], typed, wrong_codes=row["wrong_codes"],
                                 locked_until=as_utc(row["locked_until"]), now=now)
            if self._count(order_id, row, checked.wrong_codes, checked.locked_until):
                break
        else:  # pragma: no cover - ten attempts at once on one order
            raise Conflict(f"order {order_id}: the code is being tried elsewhere, try again", field="code")
        if not checked.accepted:
            if checked.locked_until is not None:
                raise PickupLocked(checked.message)
            raise WrongPickupCode(checked.message, checked.tries_left)
        result = self.order_ops.hand_over(order_id, actor=actor)
        p = t.order_pickups
        with self.engine.begin() as conn:
            conn.execute(sa.update(p).where(p.c.order_id == order_id)
                         .values(handed_over_at=self.clock(), handed_over_by=actor))
        return result

    def arrived(self, order_id: int, channel: str, note: str | None = None) -> dict:
        """The customer of a ready order says they are here (curbside: at the car, with a
        note such as the car and the bay): their order goes to the top of the store's list."""
        check_text(note, "note", TEXT_LENGTH)
        p, o = t.order_pickups, t.orders
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(p.c.handed_over_at, o.c.channel).join(o, o.c.id == p.c.order_id)
                               .where(p.c.order_id == order_id)).first()
            if row is None or row.channel != channel:
                raise NotFound(f"no order {order_id} of {channel} is ready for pickup", field="order_id",
                               code="not_found")
            if row.handed_over_at is not None:
                raise Conflict(f"order {order_id} was already handed over", field="order_id", code="handed_over")
            conn.execute(sa.update(p).where(p.c.order_id == order_id)
                         .values(customer_arrived_at=self.clock(), arrival_note=note or None))
        found = self.status(order_id)
        assert found is not None
        return found

    def _ready_row(self, order_id: int, location: str) -> dict:
        p, o = t.order_pickups, t.orders
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(p, o.c.state).join(o, o.c.id == p.c.order_id)
                               .where(p.c.order_id == order_id)).mappings().first()
        if row is None or row["location"] != location:
            raise NotFound(f"order {order_id} is not waiting for pickup at {location}", field="order_id",
                           code="not_found")
        if row["handed_over_at"] is not None:
            raise Conflict(f"order {order_id} was already handed over at {as_utc(row['handed_over_at']):%Y-%m-%d %H:%M} UTC",
                           field="order_id", code="handed_over")
        if row["state"] not in READY_STATES:
            raise Conflict(f"order {order_id} is {row['state'].replace('_', ' ')}, not ready for pickup",
                           field="order_id", code="not_ready")
        return dict(row)

    def _count(self, order_id: int, seen: dict, wrong_codes: int, locked_until: datetime | None) -> bool:
        """Store the counters after one attempt, if they are still those it read."""
        p = t.order_pickups
        same_lock = p.c.locked_until.is_(None) if seen["locked_until"] is None else p.c.locked_until == seen["locked_until"]
        with self.engine.begin() as conn:
            return conn.execute(sa.update(p).where(p.c.order_id == order_id, p.c.wrong_codes == seen["wrong_codes"],
                                                   same_lock)
                                .values(wrong_codes=wrong_codes, locked_until=locked_until)).rowcount == 1


def title_of(product_title: str | None, variant_title: str | None, sku: str) -> str:
    """A SKU's name as the store reads it: the product's title and the variant's."""
    title = " / ".join(x for x in (product_title, variant_title) if x and x != "Default Title")
    return title or sku
