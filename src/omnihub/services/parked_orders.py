"""Orders that did not go in, kept where an operator looks: refused for what they say,
deliveries and polled orders that could not be read, and those that keep failing.

Three kinds of failure, told apart by `failure_kind`, because each wants its own answer:

- refused (the pipeline's LedgerError: an unknown SKU, a quantity or price beyond the
  hub's limits, an order of no lines): about the order's content, not the moment.
  Polling it again, or hearing of it in another notification, would only refuse it
  again, and every poll would say so in the logs. So the first refusal parks the order
  (one row per channel and order, whatever the number of versions and deliveries) and
  logs it; later sightings only count on that row. Pollers skip a version they have
  parked already (for Amazon that also saves getOrderItems, 0.5/s); a newer version is
  tried again, silently, since the channel may have changed the lines. An order that
  later goes in is no longer parked.
- permanent (a payload that cannot be an order, a channel answering 404 for the order it
  notified): parked at once with its reason; trying again would fail the same way.
- transient (the database busy, a channel call timing out or throttled, a connector not
  configured yet): tried again with back-off, the next attempt's time stored, attempts
  counted; after `MAX_ATTEMPTS` it is parked too, with the last error.

Everything lives in the inbox table (`channel_inbox`): refused orders as rows of topic
`order/refused` (state `parked`); webhook deliveries and notifications under their own
topic; polled orders that failed as rows of topic `order/polled` (their payload as the
channel answered it), handed over by the pollers so that a cursor moves past an order
only once the order is in the hub or here. One list for an operator, paged by id
(`page`), each row readable with its stored body (`get`), any row sent through again
(`retry`): `GET /api/v1/sync/inbox/failures[/{id}]`, `POST .../{id}/retry`,
`omnihub sync inbox-failures [--after ID] [--limit N]`, `... inbox-failures show ID`,
`... inbox-failures retry ID`. The stored bodies are the payloads as the channel sent
them (the privacy service erases them there like any other inbox body); nothing here
copies a customer's data anywhere else: a refused order's row holds its lines only.

A pending row's next attempt is its `lease_until` with no `lease_owner`: the claim
query's "free once the lease has passed" is also "not before its back-off".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters.channels.amazon.sp_api_client import SpApiError
from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.channels.shopify.admin_client import ShopifyError
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.ledger import LedgerError
from omnihub.domain.orders import Order

log = structlog.get_logger(__name__)

PARKED = "parked"
PENDING, DONE, FAILED = "pending", "done", "failed"  # FAILED: rows of before parking (listed, retried alike)
TOPIC = "order/refused"
POLLED = "order/polled"
#: attempts of a transient failure before its row is parked
MAX_ATTEMPTS = 8

REFUSED, PERMANENT, TRANSIENT = "refused", "permanent", "transient"
#: channel answers that say the request itself is wrong, or the thing asked for is not there
_PERMANENT_STATUSES = frozenset({400, 404, 410, 422})


class TransientError(RuntimeError):
    """Worth another try later (the channel was unreachable, a connector not configured...)."""


def failure_kind(exc: BaseException) -> str:
    """REFUSED, PERMANENT or TRANSIENT (module docstring). What nothing recognises is
    TRANSIENT: tried again a few times, then parked, so it neither vanishes nor loops."""
    if isinstance(exc, LedgerError):
        return REFUSED
    if isinstance(exc, SpApiError):
        return PERMANENT if not exc.retryable and exc.status in _PERMANENT_STATUSES else TRANSIENT
    if isinstance(exc, ShopifyError):
        return TRANSIENT  # its own retries are spent: throttled, unreachable, or a token to renew
    if isinstance(exc, (TransientError, TimeoutError, ConnectionError, sa_exc.OperationalError,
                        sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.IntegrityError)):
        return TRANSIENT  # busy, locked, gone away, or a race another attempt does not meet
    if isinstance(exc, sa_exc.DBAPIError):
        return PERMANENT  # a value the database refuses (DataError...): the same again next time
    if isinstance(exc, (ValueError, TypeError, LookupError, AttributeError)):
        return PERMANENT  # a payload that cannot be an order
    return TRANSIENT


def is_refusal(result: object) -> bool:
    """An ingest result that refuses the order for what it says (worth parking), as
    opposed to a failure worth trying again (a database hiccup, a timeout)."""
    return isinstance(result, LedgerError)


def reason_of(exc: BaseException) -> str:
    """'<code>: <message>': the pipeline's code for a refusal (unknown_sku, out_of_range,
    no_lines...), the exception's type for the rest."""
    code = exc.code if isinstance(exc, LedgerError) else None  # (SQLAlchemy's `code` is a docs link's)
    return f"{code or type(exc).__name__}: {exc}"[:4000]


def next_attempt(now: datetime, attempts: int) -> datetime:
    """When a row that failed `attempts` times is tried again: 1-2 s after the first
    failure, doubling, at most 10 minutes."""
    return now + timedelta(seconds=backoff_delay(attempts, base=2, cap=600))


def delivery_id(channel: str, external_id: str) -> str:
    return f"order:{channel}:{external_id}"


def polled_id(channel: str, external_id: str, version: str) -> str:
    """A polled order's row: one per version the channel served."""
    return f"poll:{channel}:{external_id}:{version}"[:200]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _headers(value) -> dict:
    return (json.loads(value) if isinstance(value, str) else value) or {}


@dataclass
class ParkedOrders:
    engine: Engine
    clock: Callable[[], datetime] = field(default=_wall_clock)

    # -- refused orders ------------------------------------------------------------------------
    def park(self, source: str, order: Order, refusal: Exception, *, delivery: int | None = None) -> bool:
        """Park `order` with why it was refused; True the first time (then logged).
        `delivery`: the inbox row that brought it, which a retry sends through again."""
        now = self.clock()
        ib = t.channel_inbox
        reason = reason_of(refusal)
        headers: dict[str, str | int] = {"channel": order.channel, "external_id": order.external_id,
                                         "version": as_utc(order.channel_updated_at).isoformat()}
        if delivery is not None:
            headers["delivery"] = delivery
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
                where = (ib.c.source == source, ib.c.delivery_id == key)
                if delivery is None:  # the delivery that last brought it stays the one a retry sends
                    old = _headers(conn.execute(sa.select(ib.c.headers).where(*where)).scalar())
                    if "delivery" in old:
                        headers["delivery"] = old["delivery"]
                conn.execute(ib.update().where(*where).values(
                    state=PARKED, headers=headers, error=reason, attempts=ib.c.attempts + 1, processed_at=now,
                    lease_owner=None, lease_until=None))
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
                    headers = _headers(headers)
                    out[headers["external_id"]] = as_utc(datetime.fromisoformat(headers["version"]))
        return out

    def reasons(self, channel: str, external_ids: list[str]) -> dict[str, str]:
        """external id → why it is parked, for those of `external_ids` parked as refused."""
        ib = t.channel_inbox
        keys = {delivery_id(channel, e): e for e in external_ids}
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            ids = list(keys)
            for start in range(0, len(ids), 500):
                for key, error in conn.execute(sa.select(ib.c.delivery_id, ib.c.error).where(
                        ib.c.topic == TOPIC, ib.c.state == PARKED, ib.c.delivery_id.in_(ids[start:start + 500]))):
                    out[keys[key]] = error or ""
        return out

    def skip(self, orders: list[Order]) -> tuple[list[Order], int]:
        """`orders` without the versions already parked (and how many were left out)."""
        by_channel: dict[str, list[str]] = {}
        for o in orders:
            by_channel.setdefault(o.channel, []).append(o.external_id)
        parked = {(ch, e): v for ch, ids in by_channel.items() for e, v in self.versions(ch, ids).items()}
        kept = [o for o in orders if not ((o.channel, o.external_id) in parked
                                          and as_utc(o.channel_updated_at) <= parked[(o.channel, o.external_id)])]
        return kept, len(orders) - len(kept)

    def settle(self, source: str, orders: list[Order], results: list,
               deliveries: list[int | None] | None = None) -> tuple[int, int]:
        """After an ingest: park the refused, un-park those that went in. Returns
        (refused, other failures). `deliveries`: the inbox row each order came in."""
        refused = failed = 0
        went_in: list[str] = []
        for i, (order, res) in enumerate(zip(orders, results)):
            if is_refusal(res):
                refused += 1
                self.park(source, order, res, delivery=deliveries[i] if deliveries else None)
            elif isinstance(res, Exception):
                failed += 1
            else:
                went_in.append(delivery_id(order.channel, order.external_id))
        if went_in:
            ib = t.channel_inbox
            parked = ib.c.topic == TOPIC, ib.c.state.in_((PARKED, PENDING)), ib.c.delivery_id.in_(went_in)
            with self.engine.connect() as conn:  # a read first: almost always none, and a write waits its turn
                found = conn.execute(sa.select(ib.c.id).where(*parked).limit(1)).first()
            if found:
                with self.engine.begin() as conn:
                    conn.execute(ib.update().where(*parked).values(state=DONE, processed_at=self.clock(),
                                                                   lease_owner=None, lease_until=None))
        return refused, failed

    # -- polled orders that failed ------------------------------------------------------------
    def keep_polled(self, source: str, channel: str, external_id: str, version: str, payload: dict,
                    failure: BaseException) -> str:
        """Hand a polled order that failed to the inbox, its payload as the channel served
        it: parked with its reason (permanent), or pending with back-off (transient), where
        the inbox processor tries it again. 'parked', 'retrying', or 'kept' when this
        version is in the inbox already (then nothing is logged again)."""
        now = self.clock()
        ib = t.channel_inbox
        kind = failure_kind(failure)
        reason = reason_of(failure)
        key = polled_id(channel, external_id, version)
        headers = {"channel": channel, "external_id": external_id, "version": version}
        values = dict(source=source, delivery_id=key, topic=POLLED, headers=headers, body=json.dumps(payload),
                      received_at=now, attempts=1, error=reason)
        if kind == TRANSIENT:
            values.update(state=PENDING, lease_until=next_attempt(now, 1))
        else:
            values.update(state=PARKED, processed_at=now)
        try:
            with self.engine.begin() as conn:
                conn.execute(ib.insert().values(**values))
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(ib.update().where(ib.c.source == source, ib.c.delivery_id == key, ib.c.state == PARKED)
                             .values(attempts=ib.c.attempts + 1, processed_at=now))
            return "kept"
        if kind == TRANSIENT:
            log.info("polled order failed: the inbox tries it again", channel=channel, order=external_id, error=reason)
            return "retrying"
        log.warning("polled order parked", channel=channel, order=external_id, reason=reason)
        return PARKED

    def kept_versions(self, channel: str, versions: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (external id, version) pairs of `versions` handed to the inbox already."""
        if not versions:
            return set()
        ib = t.channel_inbox
        keys = {polled_id(channel, e, v): (e, v) for e, v in versions}
        ids = list(keys)
        out: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                out.update(keys[k] for k in conn.execute(sa.select(ib.c.delivery_id).where(
                    ib.c.topic == POLLED, ib.c.delivery_id.in_(ids[start:start + 500]))).scalars())
        return out

    def failing_polled(self, channel: str) -> dict[str, tuple[datetime | None, str]]:
        """external id → (the channel's version, the last error), for the polled orders of
        `channel` parked or retrying in the inbox (few: only those that failed)."""
        ib = t.channel_inbox
        out: dict[str, tuple[datetime | None, str]] = {}
        with self.engine.connect() as conn:
            for headers, error in conn.execute(sa.select(ib.c.headers, ib.c.error).where(
                    ib.c.topic == POLLED, ib.c.state.in_((PARKED, PENDING, FAILED)),
                    ib.c.delivery_id.startswith(f"poll:{channel}:", autoescape=True)).order_by(ib.c.id)):
                headers = _headers(headers)
                if headers.get("external_id"):
                    try:
                        version = as_utc(datetime.fromisoformat(str(headers.get("version")).replace("Z", "+00:00")))
                    except ValueError:
                        version = None  # a version that is not a time: whatever the channel shows now
                    out[headers["external_id"]] = (version, error or "")
        return out

    # -- for an operator -----------------------------------------------------------------------
    def _failing(self):
        ib = t.channel_inbox
        return sa.or_(ib.c.state.in_((PARKED, FAILED)), sa.and_(ib.c.state == PENDING, ib.c.attempts > 0))

    @staticmethod
    def _row(r, *, full: bool = False) -> dict:
        retrying = r.state == PENDING and r.lease_owner is None
        def when(dt: datetime | None) -> datetime | None:
            return as_utc(dt) if dt is not None else None  # SQLite hands them back without their UTC

        row = {"id": r.id, "source": r.source, "delivery_id": r.delivery_id, "topic": r.topic, "state": r.state,
               "error": r.error, "attempts": r.attempts, "received_at": when(r.received_at),
               "processed_at": when(r.processed_at), "next_attempt_at": when(r.lease_until) if retrying else None}
        if full:
            headers = _headers(r.headers)
            try:
                body = json.loads(r.body)
            except ValueError:
                body = r.body  # kept as it came: what could not be read is what an operator needs to see
            row.update(headers=headers, body=body)
        return row

    def page(self, *, after: int | None = None, limit: int = 100, source: str | None = None) -> list[dict]:
        """Rows that did not go in, parked or retrying, in id order from after `after`
        (keyset: pass the last id of a page to get the next); of one source (shopify,
        amazon) or of all."""
        ib = t.channel_inbox
        q = (sa.select(ib.c.id, ib.c.source, ib.c.delivery_id, ib.c.topic, ib.c.state, ib.c.error, ib.c.attempts,
                       ib.c.received_at, ib.c.processed_at, ib.c.lease_owner, ib.c.lease_until)
             .where(self._failing()).order_by(ib.c.id).limit(limit))
        if after is not None:
            q = q.where(ib.c.id > after)
        if source is not None:
            q = q.where(ib.c.source == source)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(q)]

    def failing_by_source(self) -> dict[str, int]:
        """How many rows did not go in, parked or retrying, per source."""
        ib = t.channel_inbox
        with self.engine.connect() as conn:
            return {src: int(n) for src, n in conn.execute(
                sa.select(ib.c.source, sa.func.count()).where(self._failing()).group_by(ib.c.source)).all()}

    def get(self, row_id: int) -> dict | None:
        """One inbox row with its headers and stored body (whatever its state: after a
        retry an operator reads how it went)."""
        ib = t.channel_inbox
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(ib).where(ib.c.id == row_id)).first()
        return self._row(r, full=True) if r is not None else None

    def retry(self, row_id: int) -> int | None:
        """Send a parked (or retrying) row through again, now, with its attempts reset;
        the id of the row queued, None when `row_id` is not a row that failed. A refused
        order is sent again by the delivery that last brought it, or, polled, fetched
        again from its channel by the inbox processor."""
        ib = t.channel_inbox
        with self.engine.begin() as conn:
            r = conn.execute(sa.select(ib.c.id, ib.c.topic, ib.c.headers).where(ib.c.id == row_id, self._failing())).first()
            if r is None:
                return None
            target = r.id
            if r.topic == TOPIC:
                brought_by = _headers(r.headers).get("delivery")
                if brought_by is not None and conn.execute(sa.select(ib.c.id).where(ib.c.id == brought_by)).first():
                    target = int(brought_by)
            conn.execute(ib.update().where(ib.c.id == target).values(state=PENDING, attempts=0, lease_owner=None,
                                                                     lease_until=None))
        log.info("inbox row sent through again", row=row_id, queued=target)
        return target
