"""inventoryActivate and inventoryDeactivate: an inventory item starts or stops being
stocked at a location (its inventory level appears or goes).

- Activate creates the level, with ``available`` (or ``onHand``: a new level holds nothing
  committed or unavailable, so both name the same units; given both, they must agree) or 0,
  and fires ``inventory_levels/connect``. The physical shelf starts empty: the app says what
  may be sold, not what is on the shelf (a receipt or an admin count says that). An item
  already active there answers its level as it is; quantities for it are refused (they would
  be a silent overwrite: ``inventorySetQuantities`` is the way).
- Deactivate removes the level and fires ``inventory_levels/disconnect``; refused while
  units there are committed to orders or incoming (Shopify's ``canDeactivate``). The shelf
  is left alone: goods do not vanish because Shopify stops counting them.
"""

from __future__ import annotations

import sqlite3

from .events import Event
from .gid import InvalidGlobalId, number_of, parse_gid
from .rest_payloads import inventory_level_disconnected
from .stock import MAX_QUANTITY, inventory_level_event, level_row


def _error(field: list[str], message: str) -> dict:
    return {"field": field, "message": message}


def can_deactivate(level: sqlite3.Row) -> bool:
    return level["committed"] == 0 and level["incoming"] == 0


def activate(conn: sqlite3.Connection, item_gid: str, location_gid: str, available: int | None, on_hand: int | None,
             now_iso: str) -> tuple[tuple[int, int] | None, list[dict], list[Event]]:
    """Returns ((item id, location id) of the level, user errors, events)."""
    item_id = number_of(item_gid, "InventoryItem")
    if item_id is None or conn.execute("SELECT 1 FROM inventory_items WHERE id = ?", (item_id,)).fetchone() is None:
        return None, [_error(["inventoryItemId"], "Inventory item does not exist.")], []
    location_id = number_of(location_gid, "Location")
    location = conn.execute("SELECT * FROM locations WHERE id = ?", (location_id,)).fetchone() if location_id else None
    if location is None or location_id is None:
        return None, [_error(["locationId"], "Location does not exist.")], []
    if not location["active"]:
        return None, [_error(["locationId"], "Inventory can't be activated at an inactive location.")], []
    errors = [_error([name], f"The {name} quantity must be between 0 and {MAX_QUANTITY}.")
              for name, value in (("available", available), ("onHand", on_hand))
              if value is not None and not 0 <= value <= MAX_QUANTITY]
    if available is not None and on_hand is not None and available != on_hand:
        errors.append(_error(["onHand"], "A new level holds nothing committed or unavailable: onHand must equal "
                                         "available."))
    if errors:
        return None, errors, []
    if level_row(conn, item_id, location_id) is not None:
        if available is not None or on_hand is not None:
            return None, [_error(["available" if available is not None else "onHand"],
                                 "The inventory item is already active at the location; use inventorySetQuantities "
                                 "to change its quantities.")], []
        return (item_id, location_id), [], []
    units = available if available is not None else (on_hand or 0)
    conn.execute("INSERT INTO inventory_levels(inventory_item_id, location_id, available, created_at, updated_at)"
                 " VALUES (?,?,?,?,?)", (item_id, location_id, units, now_iso, now_iso))
    conn.execute("INSERT OR IGNORE INTO physical_shelf(inventory_item_id, location_id, quantity, updated_at)"
                 " VALUES (?,?,0,?)", (item_id, location_id, now_iso))
    conn.execute("UPDATE inventory_items SET updated_at = ? WHERE id = ?", (now_iso, item_id))
    return (item_id, location_id), [], [inventory_level_event(conn, item_id, location_id, now_iso,
                                                              topic="inventory_levels/connect")]


def deactivate(conn: sqlite3.Connection, level_gid: str, now_iso: str) -> tuple[list[dict], list[Event]]:
    try:
        _, location_id, params = parse_gid(level_gid, "InventoryLevel")
        item_id = int(params.get("inventory_item_id", ""))
    except (InvalidGlobalId, ValueError):
        return [_error(["inventoryLevelId"], "Inventory level does not exist.")], []
    level = level_row(conn, item_id, location_id)
    if level is None:
        return [_error(["inventoryLevelId"], "Inventory level does not exist.")], []
    if not can_deactivate(level):
        return [_error(["inventoryLevelId"], "The inventory item can't be deactivated at this location: units there "
                                             "are committed to orders or incoming.")], []
    conn.execute("DELETE FROM inventory_levels WHERE inventory_item_id = ? AND location_id = ?", (item_id, location_id))
    conn.execute("UPDATE inventory_items SET updated_at = ? WHERE id = ?", (now_iso, item_id))
    return [], [Event("inventory_levels/disconnect", inventory_level_disconnected(item_id, location_id), now_iso)]
