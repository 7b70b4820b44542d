"""inventoryMoveQuantities: units move from one named quantity to another at one location
(``available`` to ``damaged`` after an inspection, ``incoming`` to ``available`` on receipt,
``available`` to ``reserved`` for a hold), as Shopify documents the mutation.

Each change names its ``from`` and ``to`` ends, and each end follows the rules of
inventoryAdjustQuantities: a ``changeFromQuantity`` (null opts out; left out, the document
is refused before anything runs), a ``ledgerDocumentUri`` for every name but ``available``
and none for it. Both ends at the same location (``DIFFERENT_LOCATIONS``), two different
names (``SAME_QUANTITY_NAME``), a positive quantity the source holds (a named quantity never
goes below zero; ``available`` may, as Shopify lets it). All or nothing: any user error and
nothing moved. The adjustment group records both ends, and ``on_hand`` when the move crosses
it (``incoming`` is not on hand: receiving raises on_hand, the others leave it).
"""

from __future__ import annotations

import sqlite3

from .events import Event
from .gid import number_of
from .inventory_mutations import DOCUMENT_URI, ledger_document_errors
from .stock import (
    ADJUSTABLE_NAMES,
    MAX_QUANTITY,
    REASONS,
    Change,
    apply_delta,
    inventory_level_event,
    level_row,
    quantity_of,
    record_group,
    stocked_level,
)

MOVABLE_NAMES = ADJUSTABLE_NAMES


def _error(field: list, message: str, code: str) -> dict:
    return {"field": field, "message": message, "code": code}


def _end_errors(end: dict, path: list) -> list[dict]:
    if end["name"] not in MOVABLE_NAMES:
        return [_error(path + ["name"], f"The quantity name must be one of: {', '.join(MOVABLE_NAMES)}.",
                       "INVALID_QUANTITY_NAME")]
    return ledger_document_errors(end["name"], end.get("ledgerDocumentUri"), path)


def _stale(end: dict, current: int, path: list) -> list[dict]:
    expected = end.get("changeFromQuantity")
    if expected is not None and expected != current:
        return [_error(path + ["changeFromQuantity"],
                       f"The quantity couldn't be moved because it changed: expected {expected}, it is {current}.",
                       "CHANGE_FROM_QUANTITY_STALE")]
    return []


def _header_errors(data: dict) -> list[dict]:
    errors = []
    if data["reason"] not in REASONS:
        errors.append(_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    if not DOCUMENT_URI.match(data["referenceDocumentUri"]):
        errors.append(_error(["input", "referenceDocumentUri"], "The specified reference document is invalid.",
                             "INVALID_REFERENCE_DOCUMENT"))
    return errors


def _change_errors(conn, change: dict, path: list, pending: dict) -> tuple[sqlite3.Row | None, list[dict]]:
    item_id = number_of(change["inventoryItemId"], "InventoryItem")
    if item_id is None or conn.execute("SELECT 1 FROM inventory_items WHERE id = ?", (item_id,)).fetchone() is None:
        return None, [_error(path + ["inventoryItemId"], "The specified inventory item could not be found.",
                             "INVALID_INVENTORY_ITEM")]
    source, target = change["from"], change["to"]
    errors = _end_errors(source, path + ["from"]) + _end_errors(target, path + ["to"])
    if source["locationId"] != target["locationId"]:
        errors.append(_error(path + ["to", "locationId"], "The quantities can't be moved between different locations.",
                             "DIFFERENT_LOCATIONS"))
    if source["name"] == target["name"]:
        errors.append(_error(path + ["to", "name"], "The quantity names for each change can't be the same.",
                             "SAME_QUANTITY_NAME"))
    if change["quantity"] <= 0:
        errors.append(_error(path + ["quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
    elif change["quantity"] > MAX_QUANTITY:
        errors.append(_error(path + ["quantity"], "The quantity is too high.", "INVALID_QUANTITY_TOO_HIGH"))
    if errors:
        return None, errors
    location_id = number_of(source["locationId"], "Location")
    if location_id is None or conn.execute("SELECT 1 FROM locations WHERE id = ?", (location_id,)).fetchone() is None:
        return None, [_error(path + ["from", "locationId"], "The specified location could not be found.",
                             "INVALID_LOCATION")]
    level = level_row(conn, item_id, location_id)
    if level is None:
        return None, [_error(path + ["from", "locationId"], "The inventory item is not stocked at the location.",
                             "ITEM_NOT_STOCKED_AT_LOCATION")]
    units = change["quantity"]
    before = {name: quantity_of(level, name) + pending.get((item_id, location_id, name), 0)
              for name in (source["name"], target["name"])}
    errors = _stale(source, before[source["name"]], path + ["from"]) + _stale(target, before[target["name"]], path + ["to"])
    if source["name"] != "available" and before[source["name"]] - units < 0:
        errors.append(_error(path + ["quantity"], f"The {source['name']} quantity can't go below zero.",
                             "INVALID_QUANTITY_NEGATIVE"))
    pending[(item_id, location_id, source["name"])] = pending.get((item_id, location_id, source["name"]), 0) - units
    pending[(item_id, location_id, target["name"])] = pending.get((item_id, location_id, target["name"]), 0) + units
    return level, errors


def move_quantities(conn: sqlite3.Connection, data: dict, group_id_factory, now_iso: str
                    ) -> tuple[int | None, list[dict], list[Event]]:
    errors = _header_errors(data)
    plan: list[tuple[sqlite3.Row, dict]] = []
    pending: dict[tuple[int, int, str], int] = {}
    for index, change in enumerate(data["changes"]):
        level, problems = _change_errors(conn, change, ["input", "changes", str(index)], pending)
        errors.extend(problems)
        if level is not None and not problems:
            plan.append((level, change))
    if errors:
        return None, errors, []
    changes: list[Change] = []
    touched: list[tuple[int, int]] = []
    for level, change in plan:
        item_id, location_id = level["inventory_item_id"], level["location_id"]
        source, target, units = change["from"], change["to"], change["quantity"]
        apply_delta(conn, item_id, location_id, source["name"], -units, now_iso)
        apply_delta(conn, item_id, location_id, target["name"], units, now_iso)
        after = stocked_level(conn, item_id, location_id)
        changes.append(Change(source["name"], -units, quantity_of(after, source["name"]), item_id, location_id,
                              source.get("ledgerDocumentUri")))
        changes.append(Change(target["name"], units, quantity_of(after, target["name"]), item_id, location_id,
                              target.get("ledgerDocumentUri")))
        on_hand_delta = (units if source["name"] == "incoming" else 0) - (units if target["name"] == "incoming" else 0)
        if on_hand_delta:
            changes.append(Change("on_hand", on_hand_delta, quantity_of(after, "on_hand"), item_id, location_id))
        if "available" in (source["name"], target["name"]) and (item_id, location_id) not in touched:
            touched.append((item_id, location_id))
    group_id = group_id_factory()
    record_group(conn, group_id, data["reason"], data["referenceDocumentUri"], changes, now_iso)
    return group_id, [], [inventory_level_event(conn, item, location, now_iso) for item, location in touched]
