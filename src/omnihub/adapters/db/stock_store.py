"""Applies a batch of stock commands in one transaction with set-based SQL.

This is the group-commit half of the hot path: one transaction, a handful of statements
whatever the batch size (lock positions, insert movements, update positions, write the
outbox, update the channel projection), and each command still gets its own result or its
own error. Positions are locked in a fixed order (SKU, then location) with
`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises writers. Each
position update also checks the version it read, so a lost update cannot pass silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import (
    db_json,
    db_time,
    fetch_by_keys,
    insert_many,
    next_ids,
    update_many,
    upsert_many,
)
from omnihub.adapters.db.channel_config import ConfigCache, policies_for, rules_for_sku
from omnihub.domain.channel_projection import TOTAL, PositionChange, project
from omnihub.domain.events import DomainEvent, OversellDetected, StockChanged
from omnihub.domain.ledger import LedgerError, Position, apply_movement
from omnihub.domain.stock_commands import (
    IdempotencyConflict,
    PositionKey,
    StockCommand,
    UnknownReference,
    VersionConflict,
)


MOVEMENT_COLUMNS = (
    "sku", "location", "quantity", "from_state", "to_state", "reason", "reference", "channel", "actor",
    "idempotency_key", "position_version", "oversold", "occurred_at",
)
POSITION_COLUMNS = ("on_hand", "reserved", "damaged", "quality_control", "incoming", "in_transit", "version")


def write_outbox(conn: Connection, events: Sequence[DomainEvent], now: datetime) -> None:
    """Append events to the outbox, in the caller's transaction."""
    ts = db_time(conn, now)
    insert_many(conn, "outbox", ("topic", "key", "payload", "created_at"),
                [(e.topic, e.key(), db_json(e.payload()), ts) for e in events])


class LostUpdate(RuntimeError):
    """A position changed under us despite the lock: the batch is retried, never kept."""


@dataclass(slots=True)
class StockResult:
    movements: list[dict] = field(default_factory=list)
    positions: dict[str, dict] = field(default_factory=dict)  # "sku@location" → balances
    oversold: int = 0
    replayed: bool = False

    def as_dict(self) -> dict:
        return {"movements": self.movements, "positions": self.positions, "oversold": self.oversold}


def _insert(conn: Connection, table: sa.Table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _chunks(items: Sequence, n: int = 900):
    for i in range(0, len(items), n):
        yield items[i : i + n]


class StockStore:
    """Stateless but for the per-process config cache; safe to share between threads
    as long as each call has its own connection."""

    def __init__(self) -> None:
        self.config = ConfigCache()

    # -- reading ---------------------------------------------------------------------------
    def _lock_positions(self, conn: Connection, keys: list[PositionKey]) -> dict[PositionKey, Position]:
        cols = ("sku", "location", *POSITION_COLUMNS)
        found = {
            (r[0], r[1]): Position(*r[2:])
            for r in fetch_by_keys(conn, "positions", cols, ("sku", "location"), sorted(keys), for_update=True)
        }
        missing = sorted(set(keys) - found.keys())
        if missing:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "INSERT INTO positions (sku, location) VALUES (%s, %s) ON CONFLICT DO NOTHING", missing
                )
            else:
                conn.exec_driver_sql("INSERT OR IGNORE INTO positions (sku, location) VALUES (?, ?)", missing)
            # Another writer may have created (and moved) a row in between: read it locked.
            for r in fetch_by_keys(conn, "positions", cols, ("sku", "location"), missing, for_update=True):
                found[(r[0], r[1])] = Position(*r[2:])
        return found

    def _known_skus(self, conn: Connection, skus: set[str]) -> set[str]:
        return {r[0] for r in fetch_by_keys(conn, "variants", ("sku",), ("sku",), [(x,) for x in sorted(skus)])}

    # -- the batch -------------------------------------------------------------------------
    def apply_batch(self, conn: Connection, commands: Sequence[StockCommand]) -> list[StockResult | Exception]:
        now = datetime.now(UTC)
        results: list[StockResult | Exception | None] = [None] * len(commands)
        cfg = self.config.get(conn)

        # 1. Idempotency: answer replays from the stored result.
        keyed = {c.idempotency_key for c in commands if c.idempotency_key}
        stored: dict[str, tuple[str, dict]] = {}
        for chunk in _chunks(sorted(keyed)):
            cr = t.command_results
            for r in conn.execute(
                sa.select(cr.c.idempotency_key, cr.c.request_hash, cr.c.result).where(cr.c.idempotency_key.in_(chunk))
            ):
                stored[r.idempotency_key] = (r.request_hash, r.result)

        # 2. References: every SKU must be in the catalog, every location known.
        all_keys = {k for c in commands for k in c.keys}
        all_skus = {k[0] for k in all_keys} | {s for c in commands for s in c.skus_only}
        known = self._known_skus(conn, all_skus)
        positions = self._lock_positions(conn, sorted(k for k in all_keys if k[0] in known and k[1] in cfg.online))
        original = dict(positions)

        movement_rows: list[dict] = []
        movement_positions: list[Position] = []  # the balance right after each movement
        movement_owner: list[tuple[int, int]] = []  # (command index, index within command)
        oversells: list[tuple[int, str, str, int, str | None]] = []  # (row idx, sku, loc, units, channel)
        demand_delta: dict[str, int] = {}
        new_keys_by_cmd: dict[int, dict[PositionKey, Position]] = {}
        fingerprints: dict[int, str] = {}
        in_batch_keys: dict[str, int] = {}

        for i, cmd in enumerate(commands):
            try:
                fp = cmd.fingerprint() if cmd.idempotency_key else ""
                if cmd.idempotency_key:
                    prior = stored.get(cmd.idempotency_key)
                    if prior is not None:
                        if prior[0] != fp:
                            raise IdempotencyConflict(cmd.idempotency_key)
                        res = StockResult(**prior[1], replayed=True)
                        results[i] = res
                        continue
                    if cmd.idempotency_key in in_batch_keys:
                        results[i] = ("same-as", in_batch_keys[cmd.idempotency_key], fp)  # type: ignore[assignment]
                        continue
                for sku, loc in cmd.keys:
                    if sku not in known:
                        raise UnknownReference(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")
                    if loc not in cfg.online:
                        raise UnknownReference(f"unknown location {loc!r}", field="location", code="unknown_location")
                for s in cmd.skus_only:
                    if s not in known:
                        raise UnknownReference(f"unknown SKU {s!r}", field="sku", code="unknown_sku")
                if cmd.expected_versions:
                    for key, expected in cmd.expected_versions.items():
                        actual = positions[key].version
                        if actual != expected:
                            raise VersionConflict(key, expected, actual)
                plan = cmd.plan({k: positions[k] for k in cmd.keys})
                local: dict[PositionKey, Position] = {}
                local_rows: list[dict] = []
                local_after: list[Position] = []
                local_oversells: list[tuple[int, str, str, int, str | None]] = []
                for m in plan.movements:
                    key = (m.sku, m.location)
                    if key not in positions:
                        raise LedgerError(f"movement for {key} outside the command's positions", field="sku")
                    before = local.get(key, positions[key])
                    applied = apply_movement(before, m, allow_oversell=cmd.allow_oversell)
                    local[key] = applied.position
                    local_after.append(applied.position)
                    if applied.oversold:
                        local_oversells.append((len(local_rows), m.sku, m.location, applied.oversold, m.channel))
                    local_rows.append(
                        {
                            "sku": m.sku,
                            "location": m.location,
                            "quantity": m.quantity,
                            "from_state": m.from_state.value,
                            "to_state": m.to_state.value,
                            "reason": m.reason.value,
                            "reference": m.reference,
                            "channel": m.channel,
                            "actor": m.actor,
                            "idempotency_key": cmd.idempotency_key,
                            "position_version": applied.position.version,
                            "oversold": applied.oversold,
                            "occurred_at": m.occurred_at or now,
                        }
                    )
                for sku, d in plan.demand.items():
                    if sku not in known:
                        raise UnknownReference(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")
                    demand_delta[sku] = demand_delta.get(sku, 0) + d
            except LedgerError as exc:
                results[i] = exc
                continue
            base = len(movement_rows)
            for j, row in enumerate(local_rows):
                movement_rows.append(row)
                movement_owner.append((i, j))
            movement_positions.extend(local_after)
            for row_idx, sku, loc, units, ch in local_oversells:
                oversells.append((base + row_idx, sku, loc, units, ch))
            positions.update(local)
            new_keys_by_cmd[i] = local
            fingerprints[i] = fp
            if cmd.idempotency_key:
                in_batch_keys[cmd.idempotency_key] = i

        # 3. Write movements, then positions with a version check (plain executemany).
        ids = next_ids(conn, "movements", len(movement_rows))
        if movement_rows:
            insert_many(
                conn, "movements", (*MOVEMENT_COLUMNS, "id"),
                [(*(r[c] if c != "occurred_at" else db_time(conn, r[c]) for c in MOVEMENT_COLUMNS), mid)
                 for r, mid in zip(movement_rows, ids)],
            )
        changed = {k: v for k, v in positions.items() if v is not original.get(k)}
        if changed:
            params = [
                (v.on_hand, v.reserved, v.damaged, v.quality_control, v.incoming, v.in_transit, v.version,
                 k[0], k[1], original[k].version)
                for k, v in changed.items()
            ]
            n = update_many(conn, "positions", POSITION_COLUMNS, ("sku", "location", "version"), params)
            if n != len(params) and n >= 0:
                raise LostUpdate(f"{len(params) - n} position(s) changed under the lock")

        # 4. Events: one StockChanged per movement, OversellDetected per shortfall.
        events: list[DomainEvent] = []
        for row, mid in zip(movement_rows, ids):
            row["id"] = mid
        for row, pos in zip(movement_rows, movement_positions):
            events.append(
                StockChanged(
                    sku=row["sku"], location=row["location"], movement_id=row["id"], reason=row["reason"],
                    from_state=row["from_state"], to_state=row["to_state"], quantity=row["quantity"],
                    on_hand=pos.on_hand, reserved=pos.reserved, damaged=pos.damaged,
                    quality_control=pos.quality_control, incoming=pos.incoming, in_transit=pos.in_transit,
                    version=pos.version,
                )
            )
        if oversells:
            incident_rows = []
            for row_idx, sku, loc, units, ch in oversells:
                mid = movement_rows[row_idx]["id"]
                incident_rows.append({"sku": sku, "location": loc, "units": units, "movement_id": mid, "channel": ch, "occurred_at": now})
                events.append(OversellDetected(sku=sku, location=loc, units=units, movement_id=mid, channel=ch))
            conn.execute(t.oversell_incidents.insert(), incident_rows)

        # 5. The brokering queue and the channel projection.
        touched_skus = {k[0] for k in changed} | set(demand_delta)
        if touched_skus:
            events.extend(self._project(conn, cfg, changed, original, demand_delta, touched_skus, now))

        write_outbox(conn, events, now)

        # 6. Results, stored for idempotent replays.
        by_cmd: dict[int, StockResult] = {}
        for row, (ci, _) in zip(movement_rows, movement_owner):
            res = by_cmd.setdefault(ci, StockResult())
            res.movements.append(
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
            )
            res.oversold += row["oversold"]
        store_rows = []
        for ci, local in new_keys_by_cmd.items():
            res = by_cmd.setdefault(ci, StockResult())
            for key, pos in local.items():
                res.positions[f"{key[0]}@{key[1]}"] = pos.as_dict()
            results[ci] = res
            cmd = commands[ci]
            if cmd.idempotency_key:
                store_rows.append(
                    {"idempotency_key": cmd.idempotency_key, "request_hash": fingerprints[ci], "result": res.as_dict(), "created_at": now}
                )
        if store_rows:
            conn.execute(t.command_results.insert(), store_rows)
        final: list[StockResult | Exception] = []
        for i, r in enumerate(results):
            if isinstance(r, tuple):  # a duplicate key inside this batch
                first = results[r[1]]
                if isinstance(first, StockResult) and fingerprints.get(r[1]) == r[2]:
                    r = StockResult(first.movements, first.positions, first.oversold, replayed=True)
                elif isinstance(first, StockResult):
                    r = IdempotencyConflict(commands[i].idempotency_key or "")
                else:
                    r = first
            final.append(r)  # type: ignore[arg-type]
        return final

    def _project(self, conn, cfg, changed, original, demand_delta, touched_skus, now) -> list[DomainEvent]:
        skus = sorted(touched_skus)
        queued = dict(fetch_by_keys(conn, "sku_demand", ("sku", "queued"), ("sku",), [(x,) for x in skus]))
        if demand_delta:
            rows = []
            for sku, delta in demand_delta.items():
                queued[sku] = max(0, queued.get(sku, 0) + delta)
                rows.append((sku, queued[sku]))
            upsert_many(conn, "sku_demand", ("sku", "queued"), ("sku",), rows)
        if not cfg.channels:
            return []
        policies = policies_for(conn, skus)
        rules_by_sku = {s: rules_for_sku(policies, s) for s in skus}
        pools: dict[tuple[str, str], int] = {}
        shown: dict[tuple[str, str, str], int] = {}
        pools = {
            (r[1], r[0]): r[2]
            for r in fetch_by_keys(conn, "channel_pools", ("sku", "channel", "pool"), ("sku",), [(x,) for x in skus])
        }
        # Only the rows this batch can change: each SKU's totals and the touched locations.
        wanted_rows = sorted({(x, TOTAL) for x in skus} | set(changed))
        shown = {
            (r[2], r[0], r[1]): r[3]
            for r in fetch_by_keys(conn, "channel_availability", ("sku", "location", "channel", "quantity"),
                                   ("sku", "location"), wanted_rows)
        }
        changes = [PositionChange(k[0], k[1], original[k], v) for k, v in changed.items()]
        changed_pools, rows, events = project(
            cfg.channels, cfg.online, rules_by_sku, changes, pools, queued, shown, skus
        )
        upsert_many(conn, "channel_pools", ("channel", "sku", "pool"), ("channel", "sku"),
                    [(k[0], k[1], v) for k, v in changed_pools.items()])
        ts = db_time(conn, now)
        upsert_many(conn, "channel_availability", ("channel", "sku", "location", "quantity", "updated_at"),
                    ("channel", "sku", "location"), [(*k, v, ts) for k, v in rows.items()])
        return list(events)
