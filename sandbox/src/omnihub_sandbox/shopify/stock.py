"""Inventory levels, named quantities, the physical shelf and the oversell count.

Shopify keeps per (inventory item, location) the states ``available``, ``committed``
(sold, not yet shipped), ``reserved``, ``damaged``, ``quality_control``, ``safety_stock``
and ``incoming``; ``on_hand`` is the sum of all but incoming, ``unavailable`` the sum of
reserved, damaged, quality_control and safety_stock.

The sandbox also keeps what Shopify cannot know: the **physical shelf**, the units really
at the location. Whenever units leave a location (a POS sale, a fulfillment) beyond what
is on its shelf, the excess is counted as oversold. That count is the sandbox's own truth
about the hub's work; the hub never computes it about itself.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .clock import iso_rest
from .events import Event
from .gid import to_gid

STORED_STATES = ("available", "committed", "reserved", "incoming", "damaged", "quality_control", "safety_stock")
QUANTITY_NAMES = STORED_STATES + ("on_hand", "unavailable")
SETTABLE_NAMES = ("available", "on_hand")
ADJUSTABLE_NAMES = ("available", "damaged", "incoming", "quality_control", "reserved", "safety_stock")
MAX_QUANTITY = 1_000_000_000

# Shopify's documented inventory change reasons.
REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated", "movement_received",
    "movement_canceled", "other", "promotion", "quality_control", "received", "reservation_created",
    "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage",
})


def quantity_of(level: sqlite3.Row | dict, name: str) -> int:
    if name == "on_hand":
        return sum(level[s] for s in ("available", "committed", "reserved", "damaged", "quality_control", "safety_stock"))
    if name == "unavailable":
        return sum(level[s] for s in ("reserved", "damaged", "quality_control", "safety_stock"))
    return level[name]


def level_row(conn: sqlite3.Connection, item_id: int, location_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM inventory_levels WHERE inventory_item_id = ? AND location_id = ?", (item_id, location_id)
    ).fetchone()


def stocked_level(conn: sqlite3.Connection, item_id: int, location_id: int) -> sqlite3.Row:
    """The level of an item the caller knows is stocked at the location (it just wrote it)."""
    level = level_row(conn, item_id, location_id)
    if level is None:
        raise LookupError(f"inventory item {item_id} is not stocked at location {location_id}")
    return level


def inventory_level_event(conn: sqlite3.Connection, item_id: int, location_id: int, now_iso: str,
                          topic: str = "inventory_levels/update") -> Event:
    """A level's REST body under ``topic`` (update, or connect when the level just appeared)."""
    level = level_row(conn, item_id, location_id)
    body = {
        "inventory_item_id": item_id,
        "location_id": location_id,
        "available": level["available"] if level else 0,
        "updated_at": iso_rest(level["updated_at"] if level else now_iso),
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
    }
    return Event(topic, body, now_iso)


@dataclass
class Change:
    """One named-quantity change for an adjustment group."""

    name: str
    delta: int
    quantity_after: int | None
    item_id: int
    location_id: int
    ledger_document_uri: str | None = None


def apply_delta(conn: sqlite3.Connection, item_id: int, location_id: int, state: str, delta: int, now_iso: str) -> None:
    if state not in STORED_STATES:
        raise ValueError(f"not a stored state: {state}")
    conn.execute(
        f"UPDATE inventory_levels SET {state} = {state} + ?, updated_at = ? WHERE inventory_item_id = ? AND location_id = ?",
        (delta, now_iso, item_id, location_id),
    )
    conn.execute("UPDATE inventory_items SET updated_at = ? WHERE id = ?", (now_iso, item_id))


def record_group(conn, group_id: int, reason: str, reference: str | None, changes: list[Change], now_iso: str) -> None:
    conn.execute(
        "INSERT INTO adjustment_groups(id, reason, reference_document_uri, created_at) VALUES (?,?,?,?)",
        (group_id, reason, reference, now_iso),
    )
    conn.executemany(
        "INSERT INTO adjustment_changes(group_id, seq, name, delta, quantity_after, inventory_item_id, location_id,"
        " ledger_document_uri) VALUES (?,?,?,?,?,?,?,?)",
        [(group_id, i, c.name, c.delta, c.quantity_after, c.item_id, c.location_id, c.ledger_document_uri)
         for i, c in enumerate(changes)],
    )


# -- the physical shelf --------------------------------------------------------------------

def shelf_quantity(conn: sqlite3.Connection, item_id: int, location_id: int) -> int:
    row = conn.execute(
        "SELECT quantity FROM physical_shelf WHERE inventory_item_id = ? AND location_id = ?", (item_id, location_id)
    ).fetchone()
    return row["quantity"] if row else 0


def take_from_shelf(conn, item_id: int, location_id: int, units: int, *, order_id: int | None, channel: str,
                    now_iso: str) -> int:
    """Units leave the location physically; returns how many of them were not there (oversold)."""
    on_shelf = shelf_quantity(conn, item_id, location_id)
    oversold = max(0, units - max(on_shelf, 0))
    conn.execute(
        "INSERT INTO physical_shelf(inventory_item_id, location_id, quantity, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT(inventory_item_id, location_id) DO UPDATE SET quantity = max(quantity - ?, 0), updated_at = ?",
        (item_id, location_id, 0, now_iso, units, now_iso),
    )
    if oversold:
        conn.execute(
            "INSERT INTO oversells(inventory_item_id, location_id, order_id, channel, units, at) VALUES (?,?,?,?,?,?)",
            (item_id, location_id, order_id, channel, oversold, now_iso),
        )
    return oversold


def put_on_shelf(conn, item_id: int, location_id: int, units: int, now_iso: str) -> int:
    conn.execute(
        "INSERT INTO physical_shelf(inventory_item_id, location_id, quantity, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT(inventory_item_id, location_id) DO UPDATE SET quantity = max(quantity + ?, 0), updated_at = ?",
        (item_id, location_id, max(units, 0), now_iso, units, now_iso),
    )
    return shelf_quantity(conn, item_id, location_id)


def oversell_report(conn: sqlite3.Connection) -> dict:
    total = conn.execute("SELECT coalesce(sum(units), 0) AS units, count(*) AS events FROM oversells").fetchone()
    by_channel = {r["channel"]: r["units"] for r in conn.execute(
        "SELECT channel, sum(units) AS units FROM oversells GROUP BY channel")}
    by_location = {str(r["location_id"]): r["units"] for r in conn.execute(
        "SELECT location_id, sum(units) AS units FROM oversells GROUP BY location_id")}
    by_sku = {r["sku"] or str(r["inventory_item_id"]): r["units"] for r in conn.execute(
        "SELECT o.inventory_item_id, i.sku, sum(o.units) AS units FROM oversells o"
        " LEFT JOIN inventory_items i ON i.id = o.inventory_item_id GROUP BY o.inventory_item_id")}
    return {"units": total["units"], "events": total["events"], "by_channel": by_channel,
            "by_location": by_location, "by_sku": by_sku}


def level_snapshot(conn: sqlite3.Connection, item_id: int, location_id: int) -> dict | None:
    level = level_row(conn, item_id, location_id)
    if level is None:
        return None
    out: dict[str, int | str] = {name: quantity_of(level, name) for name in QUANTITY_NAMES}
    out["physical_shelf"] = shelf_quantity(conn, item_id, location_id)
    out["inventory_item_id"] = item_id
    out["location_id"] = location_id
    out["admin_graphql_api_id"] = to_gid("InventoryItem", item_id)
    return out


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
