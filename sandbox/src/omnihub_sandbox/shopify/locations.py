"""The merchant's locations, changed in the admin: added, edited, deactivated, activated,
deleted (past fulfillment orders still show its name and address as their assigned location,
with no location behind it), each with Shopify's webhook (locations/create, update, deactivate, activate,
delete; bodies: rest_payloads.location).

As in Shopify: a location with unfulfilled orders assigned to it cannot be deactivated (its
fulfillment orders must move first), and only a deactivated location can be deleted; a new
location stocks nothing until an item is activated there (inventoryActivate). An inactive
location takes no online orders and no POS sales and is left out of ``locations`` unless
``includeInactive``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import rest_payloads
from .events import Event

NextId = Callable[[str], int]
EDITABLE = ("name", "address1", "city", "province", "province_code", "zip", "phone", "fulfills_online_orders")


class LocationRefused(Exception):
    """The change is not allowed (the message says why); nothing changed."""


def _row(conn: sqlite3.Connection, location_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM locations WHERE id = ?", (location_id,)).fetchone()
    if row is None:
        raise LookupError(location_id)
    return row


def create_location(conn: sqlite3.Connection, next_id: NextId, fields: dict, now_iso: str) -> tuple[int, list[Event]]:
    location_id = next_id("Location")
    kind = fields.get("kind") or "store"
    conn.execute(
        "INSERT INTO locations(id, name, kind, pos, fulfills_online_orders, address1, city, province, province_code,"
        " country, country_code, zip, phone, latitude, longitude, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (location_id, fields["name"], kind, int(fields.get("pos", kind == "store")),
         int(fields.get("fulfills_online_orders", True)), fields.get("address1"), fields.get("city"),
         fields.get("province"), fields.get("province_code"), fields.get("country") or "United States",
         fields.get("country_code") or "US", fields.get("zip"), fields.get("phone"), fields.get("latitude"),
         fields.get("longitude"), now_iso, now_iso))
    return location_id, [Event("locations/create", rest_payloads.location(_row(conn, location_id)), now_iso)]


def update_location(conn: sqlite3.Connection, location_id: int, changes: dict, now_iso: str) -> list[Event]:
    _row(conn, location_id)
    wanted = {k: (int(v) if isinstance(v, bool) else v) for k, v in changes.items() if k in EDITABLE}
    if wanted:
        assignments = ", ".join(f"{k} = ?" for k in wanted)
        conn.execute(f"UPDATE locations SET {assignments}, updated_at = ? WHERE id = ?",
                     (*wanted.values(), now_iso, location_id))
    return [Event("locations/update", rest_payloads.location(_row(conn, location_id)), now_iso)]


def set_active(conn: sqlite3.Connection, location_id: int, active: bool, now_iso: str) -> list[Event]:
    row = _row(conn, location_id)
    if bool(row["active"]) == active:
        return []
    if not active and conn.execute("SELECT 1 FROM fulfillment_orders WHERE location_id = ? AND status IN"
                                   " ('OPEN','IN_PROGRESS','ON_HOLD') LIMIT 1", (location_id,)).fetchone():
        raise LocationRefused("the location has unfulfilled orders: move their fulfillment orders first")
    conn.execute("UPDATE locations SET active = ?, updated_at = ? WHERE id = ?", (int(active), now_iso, location_id))
    topic = "locations/activate" if active else "locations/deactivate"
    return [Event(topic, rest_payloads.location(_row(conn, location_id)), now_iso)]


def delete_location(conn: sqlite3.Connection, location_id: int, now_iso: str) -> list[Event]:
    if _row(conn, location_id)["active"]:
        raise LocationRefused("only a deactivated location can be deleted")
    conn.execute("DELETE FROM inventory_levels WHERE location_id = ?", (location_id,))
    # what past fulfillment orders show as their assigned location once the location is gone
    conn.execute("INSERT OR REPLACE INTO deleted_locations(id, name, address1, city, province, country_code, zip, phone,"
                 " deleted_at) SELECT id, name, address1, city, province, country_code, zip, phone, ? FROM locations"
                 " WHERE id = ?", (now_iso, location_id))
    conn.execute("DELETE FROM locations WHERE id = ?", (location_id,))
    return [Event("locations/delete", {"id": location_id}, now_iso)]
