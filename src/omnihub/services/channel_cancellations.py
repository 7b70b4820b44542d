"""Orders a channel cancelled that the hub still treats as live: the orders/cancelled
webhook (or Amazon's ORDER_CHANGE notification) was lost, or came after the hub shipped.
Reconciliation's order pass (services/reconciliation.py) asks this module about every
order the channel shows cancelled in its window that the hub holds, and the rule is
domain/reconciliation.judge_cancellation:

- open in the hub, no unit gone: ``missed_cancellation``. The channel's cancelled version
  goes through the order pipeline, exactly as the webhook would have: reservations
  released, ATP back, every channel's level pushed by the relay. The hub then has that
  version, so the webhook arriving late is a duplicate and the next run finds the order
  in line: the cancellation is applied once.
- some units already left (shipped, picked up, delivered): ``cancelled_after_shipment``.
  The hub cannot call a parcel back, so a person must settle it (refund, intercept the
  parcel or ask for it back); units not yet gone are released by the same ingest. It is
  recorded in `cancellations_after_shipment` as the run reports it, so later runs over
  the same window do not report it again, whether or not the hub heard of it by webhook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters.channels.snapshots import OrderHeader
from omnihub.adapters.db import tables as t
from omnihub.domain.orders import GONE_ASSIGNMENT_STATES, RELEASABLE_ASSIGNMENT_STATES, AssignmentState
from omnihub.domain.reconciliation import Kind, judge_cancellation

IN_HAND = (AssignmentState.PICKED, AssignmentState.PACKED)  # someone holds them: back on the shelf
ID_PAGE = 500  # order ids asked about per query


@dataclass(frozen=True, slots=True)
class HubOrder:
    """What the check needs of the hub's order."""

    order_id: int
    channel: str
    state: str
    units_gone: int  # shipped, picked up or delivered
    units_open: int  # reserved, picked or packed: what the cancellation releases
    units_in_hand: int  # of those, picked or packed: someone must put them back on the shelf
    reported: bool  # a run left it for a person already


class ChannelCancellations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hub_orders(self, channels: Iterable[str], external_ids: list[str]) -> dict[str, HubOrder]:
        """The hub's side of these orders (by the channel's id), those it holds."""
        o, a, r = t.orders, t.order_assignments, t.cancellations_after_shipment
        gone = {s.value for s in GONE_ASSIGNMENT_STATES}
        releasable = {s.value for s in RELEASABLE_ASSIGNMENT_STATES}
        in_hand = {s.value for s in IN_HAND}
        out: dict[str, HubOrder] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(external_ids), ID_PAGE):
                rows = conn.execute(sa.select(o.c.id, o.c.channel, o.c.external_id, o.c.state).where(
                    o.c.channel.in_(tuple(channels)), o.c.external_id.in_(external_ids[start:start + ID_PAGE]))).all()
                ids = [row.id for row in rows]
                if not ids:
                    continue
                by_state: dict[int, dict[str, int]] = {}
                for oid, state, n in conn.execute(sa.select(a.c.order_id, a.c.state, sa.func.sum(a.c.quantity)).where(
                        a.c.order_id.in_(ids), a.c.state.in_(gone | releasable)).group_by(a.c.order_id, a.c.state)):
                    by_state.setdefault(oid, {})[state] = int(n or 0)
                reported = set(conn.execute(sa.select(r.c.order_id).where(r.c.order_id.in_(ids))).scalars())
                for row in rows:
                    units = by_state.get(row.id, {})
                    out[row.external_id] = HubOrder(
                        row.id, row.channel, row.state, sum(n for st, n in units.items() if st in gone),
                        sum(n for st, n in units.items() if st in releasable),
                        sum(n for st, n in units.items() if st in in_hand), row.id in reported)
        return out

    @staticmethod
    def judge(hub: HubOrder, newer: bool) -> Kind | None:
        return judge_cancellation(hub_state=hub.state, units_gone=hub.units_gone, newer=newer, reported=hub.reported)

    @staticmethod
    def missed_action(header: OrderHeader, hub: HubOrder) -> str:
        said = f" ({header.cancel_reason})" if header.cancel_reason else ""
        put_back = (f"; {hub.units_in_hand} unit(s) were picked or packed: put them back on the shelf"
                    if hub.units_in_hand else "")
        return (f"cancelled on the channel{said}, its notification lost: cancelled in the hub through the order "
                f"pipeline, reservations released{put_back}")[:500]

    @staticmethod
    def after_shipment_reason(header: OrderHeader, hub: HubOrder, released: bool) -> str:
        """`released`: the run ingested the cancelled version, releasing what had not left."""
        said = f" ({header.cancel_reason})" if header.cancel_reason else ""
        rest = f"; the {hub.units_open} unit(s) not yet shipped were released" if released and hub.units_open else ""
        return (f"left for a person: cancelled on the channel{said} after the hub shipped {hub.units_gone} unit(s) "
                f"of it (hub order {hub.order_id}, {hub.state}): refund the customer or recover the parcel{rest}")[:500]

    def record_after_shipment(self, run_id: int, header: OrderHeader, hub: HubOrder, reason: str) -> bool:
        """Note that a run reported the order; False if another run had already (the unique
        order id decides, so two runs never both report it)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(t.cancellations_after_shipment.insert().values(
                    order_id=hub.order_id, channel=hub.channel, external_id=header.external_id,
                    units_gone=hub.units_gone, reason=reason, reported_at=datetime.now(UTC), run_id=run_id))
        except IntegrityError:
            return False
        return True
