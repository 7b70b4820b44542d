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
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t

log = structlog.get_logger(__name__)

Handler = Callable[[str, dict], None]


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
    def __init__(self, engine: Engine, bus: InProcessBus, *, batch: int = 500) -> None:
        self.engine = engine
        self.bus = bus
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def relay_once(self) -> int:
        """Publish one page of unpublished outbox rows; returns how many events (a row
        of a topic nobody listens to counts as one, and is marked published undecoded)."""
        o = t.outbox
        with self.engine.begin() as conn:  # SQLite: queued with the stock writers (see write_turn)
            q = sa.select(o.c.id, o.c.topic, o.c.payload).where(o.c.published_at.is_(None)).order_by(o.c.id).limit(self.batch)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            if not rows:
                return 0
            published = 0
            for r in rows:
                if not self.bus.wants(r.topic):
                    published += 1
                    continue
                payload = json.loads(r.payload) if isinstance(r.payload, str) else r.payload
                for event in _events_of(payload):
                    self.bus.publish(r.topic, event)
                    published += 1
            self.bus.settle(conn)
            conn.execute(o.update().where(o.c.id.in_([r.id for r in rows])).values(published_at=datetime.now(UTC)))
        return published

    def drain(self) -> int:
        total = 0
        while n := self.relay_once():
            total += n
        return total

    def wake(self) -> None:
        self._wake.set()

    def start(self, interval: float = 0.5) -> None:
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
