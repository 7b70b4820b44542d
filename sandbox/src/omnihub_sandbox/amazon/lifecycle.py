"""Bringing the simulated world up to the current time.

Amazon's asynchronous processes (payments clearing, listing updates applying, feeds
running, reports being made) are modelled as facts about time, not as timers: whatever should have
happened by now is made to have happened, at the moment it was due. This runs before
every SP-API call and on a background tick while the app is served, so results do not
depend on who polls when, and time travel (``/_sandbox/clock/advance``) just works.
"""

from __future__ import annotations

from .context import SandboxContext
from .feeds import advance_feeds
from .listings import apply_due_quantities
from .orders import clear_pending_payments
from .reports import advance_reports


def catch_up(sandbox: SandboxContext) -> None:
    apply_due_quantities(sandbox)
    clear_pending_payments(sandbox)
    advance_feeds(sandbox)
    advance_reports(sandbox)
