"""Till sales recorded before their order: one sale, counted once.

A store's POS sale whose webhook is lost shows only as a level drop at that store.
Reconciliation records it then as a sale of those units (`missed_pos_sale`), without the
order. When the order itself arrives later (the webhook was only late, or the next
reconciliation reads it), its units must not leave the shelf a second time: the units
reconciliation recorded at that store, for that SKU, are the order's, as far as they go.

A recorded sale can be the order's only if the drop was seen after the order was placed
(`observed_at`): a POS order rung up later is another sale. Of those that can, the
earliest seen is taken first: it is the observation that saw this sale. A recorded drop
that was no sale at all (a merchant's edit in the admin) may absorb a later order's
units; the next reconciliation then finds the store short again and records it, so the
error heals instead of staying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RecordedTillSale:
    """Units reconciliation recorded as sold at a till, not yet matched to an order."""

    row_id: int
    units_left: int
    observed_at: datetime



def units_already_sold(wanted: int, recorded: Sequence[RecordedTillSale],
                       placed_at: datetime | None) -> list[tuple[int, int]]:
    """(row id, units) of `recorded` that are this order's `wanted` units, earliest
    observation first; their sum is at most `wanted`. An order without a placing time
    may match any."""
    taken: list[tuple[int, int]] = []
    left = wanted
    for sale in sorted(recorded, key=lambda s: (s.observed_at, s.row_id)):
        if left <= 0:
            break
        if sale.units_left <= 0 or (placed_at is not None and sale.observed_at < placed_at):
            continue
        n = min(left, sale.units_left)
        taken.append((sale.row_id, n))
        left -= n
    return taken
