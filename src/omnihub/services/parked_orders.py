"""Orders a channel sent that the hub refuses (an unknown SKU, an unknown location...):
parked once, with the reason, where an operator looks.

A refusal is about the order's content, not about the moment: polling the same order
again, or hearing of it in another notification, would only refuse it again, and every
poll would say so in the logs. So the first refusal parks the order (one row per channel
and order, whatever the number of versions and deliveries) and logs it; later sightings
only count on that row. Pollers skip a version they have parked already (for Amazon that
also saves getOrderItems, 0.5/s); a newer version is tried again, silently, since the
channel may have changed the lines. An order that later goes in is no longer parked.

The row lives in the inbox table (`channel_inbox`, state `parked`, topic
`order/refused`), beside the deliveries that could not be processed: one list for an
operator, served by `GET /api/v1/sync/inbox/failures` and `omnihub sync inbox-failures`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import LedgerError
from omnihub.domain.orders import Order

log = structlog.get_logger(__name__)

PARKED = "parked"
TOPIC = "order/refused"


def is_refusal(result: object) -> bool:
    """An ingest result that refuses the order for what it says (worth parking), as
    opposed to a failure worth trying again (a database hiccup, a timeout)."""
    return isinstance(result, LedgerError)


def delivery_id(channel: str, external_id: str) -> str:
    return f"order:{channel}:{external_id}"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass
class ParkedOrders:
    engine: Engine

    def park(self, source: str, order: Order, refusal: Exception) -> bool:
        """Park `order` with why it was refused; True the first time (then logged)."""
        now = datetime.now(UTC)
        ib = t.channel_inbox
        reason = f"{getattr(refusal, 'code', type(refusal).__name__)}: {refusal}"[:4000]
        headers = {"channel": order.channel, "external_id": order.external_id,
                   "version": _aware(order.channel_updated_at).isoformat()}
        key = delivery_id(order.channel, order.external_id)
        try:
            with self.engine.begin() as conn:
                conn.execute(ib.insert().values(
                    source=source, delivery_id=key, topic=TOPIC, headers=headers, state=PARKED, attempts=1,
                    body=json.dumps({"lines": [{"line_id": ln.line_id, "sku": ln.sku, "quantity": ln.quantity}
                                               for ln in order.lines]}),
                    error=reason, received_at=now, processed_at=now))
        except IntegrityError:
            with self.engine.begin() as conn:  # seen again: counted, not logged
                conn.execute(ib.update().where(ib.c.source == source, ib.c.delivery_id == key).values(
                    state=PARKED, headers=headers, error=reason, attempts=ib.c.attempts + 1, processed_at=now))
            return False
        log.warning("order refused and parked", channel=order.channel, order=order.external_id, reason=reason)
        return True

    def versions(self, channel: str, external_ids: list[str]) -> dict[str, datetime]:
        """external id → the channel's version last parked, for the orders of `external_ids` that are parked."""
        if not external_ids:
            return {}
        ib = t.channel_inbox
        keys = [delivery_id(channel, e) for e in external_ids]
        out: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                for headers in conn.execute(sa.select(ib.c.headers).where(
                        ib.c.topic == TOPIC, ib.c.state == PARKED, ib.c.delivery_id.in_(keys[start:start + 500]))).scalars():
                    headers = json.loads(headers) if isinstance(headers, str) else headers
                    out[headers["external_id"]] = _aware(datetime.fromisoformat(headers["version"]))
        return out

    def skip(self, orders: list[Order]) -> tuple[list[Order], int]:
        """`orders` without the versions already parked (and how many were left out)."""
        by_channel: dict[str, list[str]] = {}
        for o in orders:
            by_channel.setdefault(o.channel, []).append(o.external_id)
        parked = {(ch, e): v for ch, ids in by_channel.items() for e, v in self.versions(ch, ids).items()}
        kept = [o for o in orders if not ((o.channel, o.external_id) in parked
                                          and _aware(o.channel_updated_at) <= parked[(o.channel, o.external_id)])]
        return kept, len(orders) - len(kept)

    def settle(self, source: str, orders: list[Order], results: list) -> tuple[int, int]:
        """After an ingest: park the refused, un-park those that went in. Returns
        (refused, other failures)."""
        refused = failed = 0
        went_in: list[str] = []
        for order, res in zip(orders, results):
            if is_refusal(res):
                refused += 1
                self.park(source, order, res)
            elif isinstance(res, Exception):
                failed += 1
            else:
                went_in.append(delivery_id(order.channel, order.external_id))
        if went_in:
            ib = t.channel_inbox
            parked = ib.c.topic == TOPIC, ib.c.state == PARKED, ib.c.delivery_id.in_(went_in)
            with self.engine.connect() as conn:  # a read first: almost always none, and a write waits its turn
                found = conn.execute(sa.select(ib.c.id).where(*parked).limit(1)).first()
            if found:
                with self.engine.begin() as conn:
                    conn.execute(ib.update().where(*parked).values(state="done", processed_at=datetime.now(UTC)))
        return refused, failed
