"""JSON_LISTINGS_FEED: validate a submitted document and apply its messages.

The document is checked against Amazon's official JSON_LISTINGS_FEED schema (v2) when
the shared contracts are on this machine (``contracts_dir`` in the config; the schema
is read from there, never copied into the project), else against the sandbox's own
structural rules below. A document that cannot be read, or whose envelope (header,
message list) is wrong, makes the whole feed FATAL; a message that is wrong on its own
is reported in the processing report and skipped while the others apply, which is how
Amazon treats a feed with a few bad messages.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path
from typing import Any

from ..spapi.catalog import asin_for
from .context import SandboxContext
from .listings import apply_patches, get_listing, render_item, set_sellable_quantity, upsert_listing

OPERATION_TYPES = {"UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"}
MAX_MESSAGES = 25_000


@functools.lru_cache(maxsize=4)
def _official_validator(path: Path) -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def _structural_errors(doc: Any) -> tuple[list[str], dict[int, list[str]]]:
    """The sandbox's own minimal rules, used when the official schema is absent."""
    fatal: list[str] = []
    per_message: dict[int, list[str]] = {}
    if not isinstance(doc, dict):
        return ["The feed document must be a JSON object."], per_message
    header = doc.get("header")
    if not isinstance(header, dict):
        fatal.append("'header' is a required property")
    else:
        if not isinstance(header.get("sellerId"), str):
            fatal.append("'header.sellerId' is a required string")
        if header.get("version") != "2.0":
            fatal.append("'header.version' must be '2.0'")
    messages = doc.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        fatal.append(f"'messages' must be an array of 1 to {MAX_MESSAGES} messages")
        return fatal, per_message
    for index, msg in enumerate(messages):
        problems = []
        if not isinstance(msg, dict):
            per_message[index] = ["A message must be a JSON object."]
            continue
        mid = msg.get("messageId")
        if isinstance(mid, bool) or not isinstance(mid, int) or mid < 1:
            problems.append("'messageId' must be an integer of at least 1")
        if not isinstance(msg.get("sku"), str) or not msg["sku"]:
            problems.append("'sku' is a required non-empty string")
        op = msg.get("operationType")
        if op not in OPERATION_TYPES:
            problems.append(f"'operationType' must be one of {sorted(OPERATION_TYPES)}")
        if op in ("UPDATE", "PARTIAL_UPDATE", "PATCH") and not isinstance(msg.get("productType"), str):
            problems.append("'productType' is required")
        if op in ("UPDATE", "PARTIAL_UPDATE") and not (isinstance(msg.get("attributes"), dict) and msg["attributes"]):
            problems.append("'attributes' is required")
        if op == "PATCH" and not (isinstance(msg.get("patches"), list) and msg["patches"]):
            problems.append("'patches' is required")
        if problems:
            per_message[index] = problems
    return fatal, per_message


def validate_document(sandbox: SandboxContext, doc: Any) -> tuple[list[str], dict[int, list[str]]]:
    """Return (envelope errors that make the feed FATAL, errors per message index)."""
    schema_path = sandbox.config.listings_feed_schema_path
    if schema_path is None:
        return _structural_errors(doc)
    fatal: list[str] = []
    per_message: dict[int, list[str]] = {}
    for error in _official_validator(schema_path).iter_errors(doc):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "messages" and isinstance(path[1], int):
            where = "/".join(str(p) for p in path[2:])
            per_message.setdefault(path[1], []).append(f"{where + ': ' if where else ''}{error.message}")
        else:
            where = "/".join(str(p) for p in path)
            fatal.append(f"{where + ': ' if where else ''}{error.message}")
    return fatal, per_message


def _report_issue(message: str, severity: str = "ERROR", code: str = "4000001", msg: dict | None = None,
                  attribute: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"code": code, "severity": severity, "message": message[:1000]}
    if msg is not None:
        if isinstance(msg.get("messageId"), int) and not isinstance(msg["messageId"], bool) and msg["messageId"] >= 1:
            found["messageId"] = msg["messageId"]
        if isinstance(msg.get("sku"), str) and msg["sku"]:
            found["sku"] = msg["sku"]
    if attribute:
        found["attributeName"] = attribute
    return found


def _apply_message(sandbox: SandboxContext, db: sqlite3.Connection, msg: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply one valid message; return its issues (ERRORs mean it was not applied)."""
    sku, op = msg["sku"], msg["operationType"]
    existing = get_listing(db, sku)
    if op == "DELETE":
        if existing is None:
            return [_report_issue(f"SKU '{sku}' does not exist.", code="4000003", msg=msg)]
        if existing["quantity"]:
            set_sellable_quantity(sandbox, db, sku, 0)
        db.execute("DELETE FROM listings WHERE sku = ?", (sku,))
        return []
    if op == "PATCH":
        outcome = apply_patches(sandbox, db, sku, msg["patches"])
        return [_report_issue(i["message"], code=i["code"], msg=msg, attribute=(i.get("attributeNames") or [None])[0])
                for i in outcome.issues]
    attributes = msg["attributes"]
    if op == "PARTIAL_UPDATE":
        if existing is None:
            return [_report_issue(f"SKU '{sku}' does not exist; use UPDATE to create it.", code="4000003", msg=msg)]
        patches = [{"op": "replace", "path": f"/attributes/{name}", "value": value} for name, value in attributes.items()]
        outcome = apply_patches(sandbox, db, sku, patches)
        return [_report_issue(i["message"], code=i["code"], msg=msg, attribute=(i.get("attributeNames") or [None])[0])
                for i in outcome.issues]
    # UPDATE: the full set of attributes replaces the listing (creating it if new).
    item_name = sku
    names = attributes.get("item_name")
    if isinstance(names, list) and names and isinstance(names[0], dict) and isinstance(names[0].get("value"), str):
        item_name = names[0]["value"]
    if existing is None:
        upsert_listing(sandbox, db, sku, product_type=msg["productType"], item_name=item_name, price_cents=1000,
                       quantity=0, asin=asin_for(sandbox.config.seed, sku))
    else:
        db.execute("UPDATE listings SET product_type = ?, item_name = ?, attributes = '{}' WHERE sku = ?",
                   (msg["productType"], item_name, sku))
    patches = [{"op": "replace", "path": f"/attributes/{name}", "value": value} for name, value in attributes.items()]
    if "fulfillment_availability" not in attributes:
        patches.append({"op": "delete", "path": "/attributes/fulfillment_availability"})
    outcome = apply_patches(sandbox, db, sku, patches)
    return [_report_issue(i["message"], code=i["code"], msg=msg, attribute=(i.get("attributeNames") or [None])[0])
            for i in outcome.issues]


def process_listings_feed(sandbox: SandboxContext, db: sqlite3.Connection, feed_id: str, content: bytes | None) -> tuple[str, dict[str, Any]]:
    """Process a JSON_LISTINGS_FEED; return (DONE or FATAL, processing report)."""
    header = {"sellerId": sandbox.config.seller_id, "version": "2.0", "feedId": feed_id}
    empty = {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0, "messagesInvalid": 0}

    def fatal(reason: str) -> tuple[str, dict[str, Any]]:
        return "FATAL", {"header": header, "issues": [_report_issue(reason, code="4000000")], "summary": empty}

    try:
        doc = json.loads((content or b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return fatal(f"The feed document is not valid JSON: {exc}")
    envelope, per_message = validate_document(sandbox, doc)
    if envelope:
        return fatal("The feed document does not match the JSON_LISTINGS_FEED schema: " + "; ".join(envelope[:5]))
    if doc["header"]["sellerId"] != sandbox.config.seller_id:
        return fatal(f"The header sellerId '{doc['header']['sellerId']}' does not match the seller that submitted the feed.")

    issues: list[dict[str, Any]] = []
    accepted = invalid = 0
    touched: list[str] = []
    for index, msg in enumerate(doc["messages"]):
        if index in per_message:
            invalid += 1
            for problem in per_message[index]:
                issues.append(_report_issue(problem, code="4000001", msg=msg if isinstance(msg, dict) else None))
            continue
        found = _apply_message(sandbox, db, msg)
        issues.extend(found)
        if any(i["severity"] == "ERROR" for i in found):
            invalid += 1
        else:
            accepted += 1
            touched.append(msg["sku"])
    report: dict[str, Any] = {
        "header": header,
        "issues": issues,
        "summary": {
            "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
            "messagesProcessed": accepted + invalid,
            "messagesAccepted": accepted,
            "messagesInvalid": invalid,
        },
    }
    wanted = (doc["header"].get("report") or {}).get("includedData")
    if wanted:
        report["header"]["report"] = {"includedData": wanted, "apiVersion": "2021-08-01"}
        items = []
        for sku in dict.fromkeys(touched):
            row = get_listing(db, sku)
            if row is not None:
                items.append(render_item(sandbox, row, set(wanted)))
        report["items"] = items
        report["summary"]["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
    return "DONE", report
