"""The in-process bus and the outbox relay that feeds it.

Events reach subscribers only from the outbox, i.e. only after the transaction that
raised them committed ("nothing published that was not committed"). A row is marked
published after its handlers ran; if the process dies first, the row is still there and
is delivered on restart ("nothing committed is lost"). Delivery is therefore
at-least-once, in outbox order; handlers must be idempotent.

A handler that only buffers (the sync intake coalesces in memory) would lose what it
buffered if the process died after the row was marked published. Such a subscriber also
registers a `before_published` hook: the relay calls it with its own connection before it
marks the page published, so the subscriber's rows and the "published" mark commit
together, or neither does and the page is delivered again.

The relay's transaction holds the write lock while those rows are written, so a page is
bounded by the bytes of payload it hands out (`page_bytes`), not only by its rows: one
row of the stock writer carries a whole batch's events, and 500 such rows were tens of
thousands of intents in one transaction, the API's writes waiting behind it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t

log = structlog.get_logger(__name__)

Handler = Callable[[str, dict], None]

#: Payload bytes one relay transaction hands out at most (a few thousand events); a
#: single row larger than that is still relayed whole, alone.
PAGE_BYTES = 256 * 1024


class InProcessBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[Handler]] = defaultdict(list)
        self._before_published: list[Callable[[sa.Connection], None]] = []

    def before_published(self, hook: Callable[[sa.Connection], None]) -> None:
        """`hook(conn)` runs in the relay's transaction after each page is handed out; an
        exception rolls the page back, to be delivered again."""
        self._before_published.append(hook)

    def settle(self, conn: sa.Connection) -> None:
        for hook in self._before_published:
            hook(conn)

    def subscribe(self, topic: str, handler: Handler) -> None:
        """`topic` '*' receives everything."""
        self._subs[topic].append(handler)

    def wants(self, topic: str) -> bool:
        """Whether anyone listens to `topic` (the relay skips decoding what nobody reads)."""
        return bool(self._subs.get(topic) or self._subs.get("*"))

    def publish(self, topic: str, payload: dict) -> None:
        """Call every subscriber; one that fails is logged and does not starve the rest."""
        for h in (*self._subs.get(topic, ()), *self._subs.get("*", ())):
            try:
                h(topic, payload)
            except Exception:
                log.exception("event handler failed", topic=topic, handler=getattr(h, "__qualname__", repr(h)))


def _events_of(payload):
    """A row holds one event, a run of events of one topic (a list), or a columnar run
    ({"$fields": [...], "$rows": [[...], ...]}, what the stock writer writes)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "$rows" in payload:
        names = payload["$fields"]
        return (dict(zip(names, row)) for row in payload["$rows"])
    return (payload,)


class OutboxRelay:
    def __init__(self, engine: Engine, bus: InProcessBus, *, batch: int = 500, page_bytes: int = PAGE_BYTES) -> None:
        self.engine = engine
        self.bus = bus
        self.batch = batch  # rows looked at per page
        self.page_bytes = page_bytes
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def relay_once(self) -> int:
        """Publish one page of unpublished outbox rows; returns how many events (a row
        of a topic nobody listens to counts as one, and is marked published undecoded).
        The page is the oldest rows up to `page_bytes` of payload (at least one row);
        only the rows someone listens to are read whole."""
        o = t.outbox
        with self.engine.begin() as conn:  # SQLite: queued with the stock writers (see write_turn)
            q = (sa.select(o.c.id, o.c.topic, sa.func.length(sa.cast(o.c.payload, sa.Text)).label("size"))
                 .where(o.c.published_at.is_(None)).order_by(o.c.id).limit(self.batch))
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            page: list[sa.Row] = []
            size = 0
            for r in conn.execute(q).all():
                if page and size + (r.size or 0) > self.page_bytes:
                    break
                page.append(r)
                size += r.size or 0
            if not page:
                return 0
            wanted = [r.id for r in page if self.bus.wants(r.topic)]
            payloads = dict(conn.execute(sa.select(o.c.id, o.c.payload).where(o.c.id.in_(wanted))).all()) if wanted else {}
            published = 0
            for r in page:
                if r.id not in payloads:
                    published += 1
                    continue
                payload = payloads.pop(r.id)
                payload = json.loads(payload) if isinstance(payload, str) else payload
                for event in _events_of(payload):
                    self.bus.publish(r.topic, event)
                    published += 1
            self.bus.settle(conn)
            conn.execute(o.update().where(o.c.id.in_([r.id for r in page])).values(published_at=datetime.now(UTC)))
        return published

    def drain(self, deadline: float | None = None) -> int:
        """Relay page after page, each its own transaction, until the outbox is empty, a
        stop is requested or `deadline` (time.monotonic()) has passed."""
        total = 0
        while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
            n = self.relay_once()
            if not n:
                break
            total += n
        return total

    def wake(self) -> None:
        self._wake.set()

    def start(self, interval: float = 0.5) -> None:
        self._stop.clear()

        def loop():
            while not self._stop.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                try:
                    self.drain()
                except Exception:
                    log.exception("outbox relay failed; retrying")
        self._thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop relaying; a page in hand commits or rolls back whole, and what is not
        relayed stays in the outbox for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=timeout)
