"""inventorySetQuantities and inventoryAdjustQuantities, with 2026 semantics.

- Every quantity input must carry ``changeFromQuantity`` (an explicit null opts out). Left
  out, Shopify refuses the document itself, before any user error: a top-level error
  ``INVALID_FIELD_ARGUMENTS`` ("InventoryChangeInput must include the following argument:
  changeFromQuantity.") and ``data: {inventoryAdjustQuantities: null}`` (see
  ``missing_change_from``; the resolver raises it). A value that differs from the current
  quantity fails the whole call with ``CHANGE_FROM_QUANTITY_STALE`` and changes nothing
  (compare-and-swap): a retry with a fresh read can succeed, which a missing argument never can.
- Ledger documents (adjust): every quantity name other than ``available`` needs a
  ``ledgerDocumentUri`` (``INVALID_QUANTITY_DOCUMENT``), ``available`` takes none
  (``INVALID_AVAILABLE_DOCUMENT``), and Shopify's own ``gid://shopify/...`` documents are
  refused (``INTERNAL_LEDGER_DOCUMENT``).
- Calls are all-or-nothing: any user error means no quantity moved.
- The result is an adjustment group recording each change and the quantity after it, so
  an idempotent retry can answer exactly what the first call answered.
"""

from __future__ import annotations

import re
import sqlite3

from .events import Event
from .gid import number_of
from .stock import (
    ADJUSTABLE_NAMES,
    MAX_QUANTITY,
    REASONS,
    SETTABLE_NAMES,
    Change,
    apply_delta,
    inventory_level_event,
    level_row,
    quantity_of,
    record_group,
    stocked_level,
)

DOCUMENT_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


def _error(field: list, message: str, code: str) -> dict:
    return {"field": field, "message": message, "code": code}


def _validate_header(data: dict, names: tuple[str, ...], name_code: str) -> list[dict]:
    errors = []
    if data["name"] not in names:
        errors.append(_error(["input", "name"], f"The quantity name must be one of: {', '.join(names)}.", name_code))
    if data["reason"] not in REASONS:
        errors.append(_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    uri = data.get("referenceDocumentUri")
    if uri is not None and not DOCUMENT_URI.match(uri):
        errors.append(_error(["input", "referenceDocumentUri"], "The reference document URI is invalid.",
                             "INVALID_REFERENCE_DOCUMENT"))
    return errors


def _resolve_level(conn, entry: dict, path: list) -> tuple[sqlite3.Row | None, list[dict]]:
    item_id = number_of(entry["inventoryItemId"], "InventoryItem")
    location_id = number_of(entry["locationId"], "Location")
    if item_id is None or conn.execute("SELECT 1 FROM inventory_items WHERE id = ?", (item_id,)).fetchone() is None:
        return None, [_error(path + ["inventoryItemId"], "The specified inventory item could not be found.",
                             "INVALID_INVENTORY_ITEM")]
    if location_id is None or conn.execute("SELECT 1 FROM locations WHERE id = ?", (location_id,)).fetchone() is None:
        return None, [_error(path + ["locationId"], "The specified location could not be found.", "INVALID_LOCATION")]
    level = level_row(conn, item_id, location_id)
    if level is None:
        return None, [_error(path + ["locationId"], "The specified inventory item is not stocked at the location.",
                             "ITEM_NOT_STOCKED_AT_LOCATION")]
    return level, []


def missing_change_from(entries: list[dict]) -> bool:
    """Whether an entry leaves ``changeFromQuantity`` out (null is given, not left out)."""
    return any("changeFromQuantity" not in entry for entry in entries)


def missing_argument_message(input_type: str) -> str:
    return f"{input_type} must include the following argument: changeFromQuantity."


def ledger_document_errors(name: str, uri: str | None, path: list) -> list[dict]:
    """Shopify's ledger-document rules for one change of the quantity ``name``."""
    where = path + ["ledgerDocumentUri"]
    if uri is not None and uri.startswith("gid://shopify/"):
        return [_error(where, "Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API.",
                       "INTERNAL_LEDGER_DOCUMENT")]
    if uri is not None and not DOCUMENT_URI.match(uri):
        return [_error(where, "The specified ledger document is invalid.", "INVALID_LEDGER_DOCUMENT")]
    if name == "available" and uri is not None:
        return [_error(where, "A ledger document URI is not allowed when adjusting available.",
                       "INVALID_AVAILABLE_DOCUMENT")]
    if name != "available" and uri is None:
        return [_error(where, "A ledger document URI is required except when adjusting available.",
                       "INVALID_QUANTITY_DOCUMENT")]
    return []


def _stale(entry: dict, current: int, path: list) -> list[dict]:
    expected = entry.get("changeFromQuantity")
    if expected is not None and expected != current:
        return [_error(path + ["changeFromQuantity"],
                       f"The quantity couldn't be updated because it changed: expected {expected}, it is {current}.",
                       "CHANGE_FROM_QUANTITY_STALE")]
    return []


def set_quantities(conn: sqlite3.Connection, data: dict, group_id_factory, now_iso: str
                   ) -> tuple[int | None, list[dict], list[Event]]:
    errors = _validate_header(data, SETTABLE_NAMES, "INVALID_NAME")
    name = data["name"]
    plan: list[tuple[sqlite3.Row, int]] = []
    seen: set[tuple[int, int]] = set()
    for index, entry in enumerate(data["quantities"]):
        path = ["input", "quantities", str(index)]
        if entry["quantity"] < 0:
            errors.append(_error(path + ["quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
            continue
        if entry["quantity"] > MAX_QUANTITY:
            errors.append(_error(path + ["quantity"], "The quantity is too high.", "INVALID_QUANTITY_TOO_HIGH"))
            continue
        level, problems = _resolve_level(conn, entry, path)
        if level is None:
            errors.extend(problems)
            continue
        pair = (level["inventory_item_id"], level["location_id"])
        if pair in seen:
            errors.append(_error(path, "The combination of inventoryItemId and locationId must be unique.",
                                 "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
            continue
        seen.add(pair)
        if name in SETTABLE_NAMES:
            errors.extend(_stale(entry, quantity_of(level, name), path))
        plan.append((level, entry["quantity"]))
    if errors:
        return None, errors, []
    changes: list[Change] = []
    events: list[Event] = []
    for level, target in plan:
        item_id, location_id = level["inventory_item_id"], level["location_id"]
        delta = target - quantity_of(level, name)
        if delta == 0:
            continue
        # Setting on_hand moves available by the same delta (the other states stay put).
        apply_delta(conn, item_id, location_id, "available", delta, now_iso)
        after = stocked_level(conn, item_id, location_id)
        changes.append(Change("available", delta, quantity_of(after, "available"), item_id, location_id))
        changes.append(Change("on_hand", delta, quantity_of(after, "on_hand"), item_id, location_id))
        events.append(inventory_level_event(conn, item_id, location_id, now_iso))
    group_id = group_id_factory()
    record_group(conn, group_id, data["reason"], data.get("referenceDocumentUri"), changes, now_iso)
    return group_id, [], events


def adjust_quantities(conn: sqlite3.Connection, data: dict, group_id_factory, now_iso: str
                      ) -> tuple[int | None, list[dict], list[Event]]:
    errors = _validate_header(data, ADJUSTABLE_NAMES, "INVALID_QUANTITY_NAME")
    name = data["name"]
    plan: list[tuple[sqlite3.Row, dict]] = []
    pending: dict[tuple[int, int], int] = {}
    for index, entry in enumerate(data["changes"]):
        path = ["input", "changes", str(index)]
        if abs(entry["delta"]) > MAX_QUANTITY:
            errors.append(_error(path + ["delta"], "The delta is too large.", "INVALID_QUANTITY_TOO_HIGH"))
            continue
        documents = ledger_document_errors(name, entry.get("ledgerDocumentUri"), path) if name in ADJUSTABLE_NAMES else []
        if documents:
            errors.extend(documents)
            continue
        level, problems = _resolve_level(conn, entry, path)
        if level is None:
            errors.extend(problems)
            continue
        if name in ADJUSTABLE_NAMES:
            pair = (level["inventory_item_id"], level["location_id"])
            current = quantity_of(level, name) + pending.get(pair, 0)
            errors.extend(_stale(entry, current, path))
            pending[pair] = pending.get(pair, 0) + entry["delta"]
            if name != "available" and current + entry["delta"] < 0:
                errors.append(_error(path + ["delta"], f"The {name} quantity can't go below zero.",
                                     "INVALID_QUANTITY_TOO_LOW"))
        plan.append((level, entry))
    if errors:
        return None, errors, []
    changes: list[Change] = []
    events: list[Event] = []
    for level, entry in plan:
        item_id, location_id = level["inventory_item_id"], level["location_id"]
        apply_delta(conn, item_id, location_id, name, entry["delta"], now_iso)
        after = stocked_level(conn, item_id, location_id)
        changes.append(Change(name, entry["delta"], quantity_of(after, name), item_id, location_id,
                              entry.get("ledgerDocumentUri")))
        if name != "incoming":
            changes.append(Change("on_hand", entry["delta"], quantity_of(after, "on_hand"), item_id, location_id))
        if name == "available":
            events.append(inventory_level_event(conn, item_id, location_id, now_iso))
    group_id = group_id_factory()
    record_group(conn, group_id, data["reason"], data.get("referenceDocumentUri"), changes, now_iso)
    return group_id, [], events
