"""What the stock routes answer: a write's movements and positions, positions, ATP and
its explanation, the ledger, oversells, an ERP snapshot's report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.answers import Answer, row_answer

if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    MovementOut = Answer
    OversellOut = Answer
else:
    MovementOut = row_answer("MovementOut", t.movements, doc="One ledger entry as stored.")
    OversellOut = row_answer("OversellOut", t.oversell_incidents, doc="Units sold that were not there.")


class PositionOut(Answer):
    on_hand: int
    reserved: int
    damaged: int
    quality_control: int
    incoming: int
    in_transit: int
    version: int


class StockWritten(Answer):
    """What one stock write recorded, and the positions it left (by `SKU@location`)."""

    movements: list[MovementOut]
    positions: dict[str, PositionOut] = Field(description="`SKU@location` → the position after the write")
    oversold: int


class PositionsOut(Answer):
    sku: str
    locations: dict[str, PositionOut]


class AtpOut(Answer):
    sku: str
    channel: str | None
    atp: int
    brokering_queue: int
    locations: dict[str, int] = Field(description="location code → its ATP")


class LocationTermOut(Answer):
    location: str
    on_hand: int
    reserved: int
    damaged: int
    quality_control: int
    safety_stock: int
    safety_stock_from: str
    threshold: int
    threshold_from: str
    online_selling: bool
    feed: str | None
    atp: int
    counted: int
    note: str
    shown: int | None


class AtpExplanationOut(Answer):
    """Why ATP is N (domain/atp.py's AtpExplanation)."""

    sku: str
    channel: str | None
    locations: list[LocationTermOut]
    pool: int
    brokering_queue: int
    allocation: str
    buffer: int
    atp: int


class ChannelQuantityOut(Answer):
    sku: str
    channel: str
    quantity: int
    locations: dict[str, int]


class LedgerPage(Answer):
    sku: str
    items: list[MovementOut]
    next_after_id: int | None


class SnapshotRowError(Answer):
    line: int
    column: int
    field: str
    message: str


class SnapshotReportOut(Answer):
    rows: int
    applied: int
    unchanged: int
    movements: int
    failed: int
    errors: list[SnapshotRowError]
    import_id: int | None
    resumed_at: int | None
    already_imported: bool
    last_line: int
    stopped: str | None
