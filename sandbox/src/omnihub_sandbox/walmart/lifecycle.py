"""Bringing the simulated world up to the current time.

Walmart's asynchronous processes (orders released, feeds processed, shipped lines
delivered, late lines cancelled) are facts about time, not timers: whatever should have
happened by now is made to have happened, at the moment it was due. This runs before
every Marketplace call and on the background tick, so answers do not depend on who
polls when, and ``/_sandbox/clock/advance`` just works. Deliveries of notifications are
network I/O and run on the tick (or ``/_sandbox/webhooks/deliver``), not here.
"""

from __future__ import annotations

from .context import SandboxContext
from .feeds import advance_feeds
from .order_life import autocancel_late_lines, deliver_shipped, release_due_orders


def catch_up(sandbox: SandboxContext) -> None:
    release_due_orders(sandbox)
    advance_feeds(sandbox)
    deliver_shipped(sandbox)
    autocancel_late_lines(sandbox)
