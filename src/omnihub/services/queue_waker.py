"""Queued orders are routed as soon as stock of their SKUs rises.

An order waits in the brokering queue because no location could take it. The queue is
retried on a timer (`RETRY_AFTER`), but a receipt, a count that finds units or a quality
check passed can make a queued order routable at once, and a customer should not wait
five minutes for stock that is on the shelf. The inventory use cases tell the waker which
SKUs rose; a thread of its own (never the caller's request) looks whether any order waits
for them (`sku_demand`, one indexed read) and only then hands those orders to the writer
to route again, as the timer would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t

log = structlog.get_logger(__name__)


class BrokeringQueueWaker:
    def __init__(self, engine: Engine, pipeline) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self._skus: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def stock_rose(self, skus: Iterable[str]) -> None:
        """Called after a command that put units on hand has committed."""
        with self._lock:
            self._skus.update(skus)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="brokering-queue-waker", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                skus, self._skus = self._skus, set()
                stopped = self._stopped
            if stopped:
                return
            if skus:
                try:
                    self.route_waiting(skus)
                except Exception:  # the timer retries them anyway; nothing is lost
                    log.exception("routing queued orders after a stock rise failed", skus=len(skus))

    def waiting_for(self, skus: Iterable[str]) -> list[int]:
        """Queued orders with a line of one of `skus`, oldest first."""
        wanted = sorted(set(skus))
        if not wanted:
            return []
        d, q, o = t.sku_demand, t.brokering_queue, t.orders
        with self.engine.connect() as conn:
            if not conn.execute(sa.select(d.c.sku).where(d.c.sku.in_(wanted), d.c.queued > 0).limit(1)).first():
                return []
            rows = conn.execute(sa.select(q.c.order_id, o.c.document).join(o, o.c.id == q.c.order_id)
                                .order_by(q.c.enqueued_at, q.c.order_id)).all()
        want = set(wanted)
        return [order_id for order_id, doc in rows if any(line["sku"] in want for line in doc.get("lines", ()))]

    def route_waiting(self, skus: Iterable[str]) -> list:
        """Route again every queued order waiting for `skus`; the writer's results."""
        tickets = [self.pipeline.retry_order(order_id) for order_id in self.waiting_for(skus)]
        return [ticket.result(300) for ticket in tickets]

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=timeout)
