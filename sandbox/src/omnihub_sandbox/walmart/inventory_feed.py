"""The bulk inventory feed's file: parsing it, judging each item, applying the good ones.

Two feed types, as Walmart has them:

- ``inventory`` (spec 1.4): ``{InventoryHeader: {version}, Inventory: [{sku, quantity:
  {unit, amount}, shipNode?}]}``, one node per item, the default node when omitted.
- ``MP_INVENTORY`` (spec 1.5, multi-node): ``{..., Inventory: [{sku, shipNodes:
  [{shipNode, quantity}]}]}``, ship nodes required.

The header and list names are taken in either capitalisation (Walmart's own samples use
both). A file that is not JSON, or not an inventory feed at all, fails the feed as a
whole (feedStatus ERROR with an ingestion error); otherwise each item succeeds or fails
on its own (DATA_ERROR with the field), and one bad item never stops the others.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .contract import problems

FEED_TYPES = {"inventory": "InventoryFeedItem14", "MP_INVENTORY": "InventoryFeedItem15"}


@dataclass
class ParsedFeed:
    items: list[Any] = field(default_factory=list)
    fatal: dict[str, str] | None = None  # an ingestion error that fails the whole feed


def parse_feed(raw: bytes) -> ParsedFeed:
    try:
        document = json.loads(raw)
    except ValueError as exc:
        return ParsedFeed(fatal={"type": "DATA_ERROR", "code": "ERR_INVALID_FEED_FILE",
                                 "description": f"The feed file is not valid JSON: {exc}"})
    found = problems("InventoryFeed", document)
    if found or not isinstance(document, dict):
        where, message = found[0] if found else ("", "not an object")
        return ParsedFeed(fatal={"type": "DATA_ERROR", "code": "ERR_INVALID_FEED_FILE", "field": where or "feed",
                                 "description": f"The file is not an inventory feed: {message}"})
    items = document.get("Inventory", document.get("inventory"))
    if not isinstance(items, list):
        return ParsedFeed(fatal={"type": "DATA_ERROR", "code": "ERR_INVALID_FEED_FILE", "field": "Inventory",
                                 "description": "The file's Inventory is not a list."})
    return ParsedFeed(items=items)


def _error(code: str, description: str, field_name: str | None = None) -> dict[str, str]:
    error = {"type": "DATA_ERROR", "code": code, "description": description}
    if field_name:
        error["field"] = field_name
    return error


def judge_item(db: sqlite3.Connection, feed_type: str, item: Any, nodes: set[str],
               default_node: str) -> tuple[list[tuple[str, int]], list[dict[str, str]]]:
    """The (ship node, amount) updates one item asks for, or its errors."""
    found = problems(FEED_TYPES[feed_type], item)
    if found:
        where, message = found[0]
        return [], [_error("ERR_EXT_DATA_0101001", f"{where or 'item'}: {message}", where or None)]
    sku = item["sku"]
    if db.execute("SELECT 1 FROM items WHERE sku = ?", (sku,)).fetchone() is None:
        return [], [_error("ERR_PDI_0001", f"SKU {sku} is not set up for this seller.", "sku")]
    if feed_type == "inventory":
        wanted = [(item.get("shipNode") or default_node, int(item["quantity"]["amount"]))]
    else:
        wanted = [(n["shipNode"], int(n["quantity"]["amount"])) for n in item["shipNodes"]]
    unknown = [node for node, _ in wanted if node not in nodes]
    if unknown:
        return [], [_error("ERR_EXT_DATA_0101002", f"Ship node {unknown[0]} is not one of this seller's.", "shipNode")]
    return wanted, []
