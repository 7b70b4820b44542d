"""Listings Items API 2021-08-01: the seller's offers and Amazon's sellable quantity.

The quantity a seller sends in ``/attributes/fulfillment_availability`` (channel
``DEFAULT``, i.e. merchant-fulfilled) is the quantity Amazon will sell: buyers can
order up to it and each order takes units off it. After an optional processing delay
(``quantity_apply_delay_seconds``) a newly sent quantity becomes the sellable one;
until then reads show the previous value, as on Amazon, where listing updates are
applied asynchronously. The patch logic here is shared with JSON_LISTINGS_FEED.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.lwa import operation
from ..spapi.catalog import asin_for
from ..spapi.clock import iso
from .context import SandboxContext
from ..spapi.errors import SpApiError, invalid_input, not_found
from .notifications import MFN_QUANTITY_CHANGE
from ..spapi.query_params import csv_list, single

router = APIRouter()

PATCH_OPS = {"add", "replace", "merge", "delete"}
GET_INCLUDED_DATA = {
    "summaries", "attributes", "issues", "offers", "fulfillmentAvailability",
    "procurement", "relationships", "productTypes",
}
PATCH_INCLUDED_DATA = {"identifiers", "issues"}
#: The Listings Items model's own names for the codes Orders v0 calls InvalidInput and NotFound.
LISTINGS_ERROR_CODES = {"InvalidInput": "BAD_REQUEST", "NotFound": "NOT_FOUND"}


@dataclass
class PatchOutcome:
    issues: list[dict[str, Any]] = field(default_factory=list)
    new_quantity: int | None = None
    attributes: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return not any(i["severity"] == "ERROR" for i in self.issues)


def issue(code: str, message: str, attribute: str | None = None, severity: str = "ERROR") -> dict[str, Any]:
    found: dict[str, Any] = {"code": code, "message": message, "severity": severity,
                             "categories": ["INVALID_ATTRIBUTE"]}
    if attribute:
        found["attributeNames"] = [attribute]
    return found


# -- state ---------------------------------------------------------------------------


def get_listing(db: sqlite3.Connection, sku: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM listings WHERE sku = ?", (sku,)).fetchone()


def upsert_listing(
    sandbox: SandboxContext, db: sqlite3.Connection, sku: str, *, product_type: str, item_name: str,
    price_cents: int, quantity: int, asin: str | None = None, attributes: dict[str, Any] | None = None,
) -> None:
    """Create or overwrite a listing directly (catalog seeding and the control API)."""
    now = sandbox.now()
    old = get_listing(db, sku)
    db.execute(
        "INSERT INTO listings (sku, asin, product_type, item_name, price_cents, quantity, attributes, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sku) DO UPDATE SET "
        "asin = excluded.asin, product_type = excluded.product_type, item_name = excluded.item_name, "
        "price_cents = excluded.price_cents, quantity = excluded.quantity, attributes = excluded.attributes, "
        "pending_quantity = NULL, pending_apply_at = NULL, updated_at = excluded.updated_at",
        (sku, asin or asin_for(sandbox.config.seed, sku), product_type, item_name, price_cents, quantity,
         json.dumps(attributes or {}), now, now),
    )
    if old is None or old["quantity"] != quantity:
        notify_quantity(sandbox, db, sku, quantity, now)


def notify_quantity(sandbox: SandboxContext, db: sqlite3.Connection, sku: str, quantity: int, when: float) -> None:
    """The sellable quantity changed at `when`: the moment is kept on the listing (what a
    harness measures sync lag by) and the MFN quantity notification raised."""
    db.execute("UPDATE listings SET quantity_changed_at = ? WHERE sku = ?", (when, sku))
    sandbox.notifier.emit(
        db, MFN_QUANTITY_CHANGE,
        {"SellerId": sandbox.config.seller_id, "FulfillmentChannelCode": "DEFAULT", "Sku": sku, "Quantity": quantity},
        when,
    )


def set_sellable_quantity(sandbox: SandboxContext, db: sqlite3.Connection, sku: str, quantity: int) -> None:
    """Accept a seller's quantity; it becomes sellable now or after the processing delay."""
    delay = sandbox.config.quantity_apply_delay_seconds
    now = sandbox.now()
    if delay <= 0:
        row = get_listing(db, sku)
        db.execute(
            "UPDATE listings SET quantity = ?, pending_quantity = NULL, pending_apply_at = NULL, updated_at = ? "
            "WHERE sku = ?", (quantity, now, sku),
        )
        if row is not None and row["quantity"] != quantity:
            notify_quantity(sandbox, db, sku, quantity, now)
    else:
        db.execute(
            "UPDATE listings SET pending_quantity = ?, pending_apply_at = ?, updated_at = ? WHERE sku = ?",
            (quantity, now + delay, now, sku),
        )


def apply_due_quantities(sandbox: SandboxContext) -> None:
    """Make quantities whose processing delay has passed sellable."""
    now = sandbox.now()
    with sandbox.store.tx() as db:
        due = db.execute(
            "SELECT sku, quantity, pending_quantity, pending_apply_at FROM listings "
            "WHERE pending_apply_at IS NOT NULL AND pending_apply_at <= ?", (now,),
        ).fetchall()
        for row in due:
            db.execute(
                "UPDATE listings SET quantity = pending_quantity, pending_quantity = NULL, "
                "pending_apply_at = NULL WHERE sku = ?", (row["sku"],),
            )
            if row["quantity"] != row["pending_quantity"]:
                notify_quantity(sandbox, db, row["sku"], row["pending_quantity"], row["pending_apply_at"])


# -- patches (shared with JSON_LISTINGS_FEED) ------------------------------------------


def _fulfillment_quantity(value: Any, outcome: PatchOutcome) -> int | None:
    """Validate a fulfillment_availability value; return the DEFAULT channel's quantity."""
    name = "fulfillment_availability"
    if not isinstance(value, list) or not value:
        outcome.issues.append(issue("90000900", f"'{name}' must be a non-empty array.", name))
        return None
    quantity = None
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("fulfillment_channel_code"), str):
            outcome.issues.append(issue("90000900", f"Each '{name}' needs a fulfillment_channel_code.", name))
            return None
        if entry["fulfillment_channel_code"] != "DEFAULT":
            continue  # Amazon-fulfilled channels (e.g. AMAZON_NA) do not set the MFN quantity
        q = entry.get("quantity")
        if isinstance(q, bool) or not isinstance(q, int) or q < 0:
            outcome.issues.append(
                issue("90000900", f"The value '{q}' for '{name}.quantity' is invalid: a whole number of 0 or more is required.", name)
            )
            return None
        quantity = q
    return quantity


def plan_patches(attributes: dict[str, Any], patches: Any) -> PatchOutcome:
    """Apply JSON Patch-style operations to a copy of a listing's attributes.

    Only top-level attributes (``/attributes/<name>``) can be patched, as on Amazon.
    The result says which issues were found and, when fulfillment_availability was
    touched, the DEFAULT channel's new quantity.
    """
    outcome = PatchOutcome()
    attrs = json.loads(json.dumps(attributes))
    if not isinstance(patches, list) or not patches:
        outcome.issues.append(issue("4000001", "At least one patch operation is required."))
        return outcome
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS or not isinstance(patch.get("path"), str):
            outcome.issues.append(issue("4000001", "Each patch needs an op (add, replace, merge, delete) and a path."))
            continue
        path = patch["path"]
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "" or parts[1] != "attributes" or not parts[2]:
            outcome.issues.append(issue("4000001", f"Only top-level attributes can be patched: '{path}'."))
            continue
        name, op = parts[2], patch["op"]
        if op == "delete":
            attrs.pop(name, None)
            if name == "fulfillment_availability":
                outcome.new_quantity = 0
            continue
        value = patch.get("value")
        if not isinstance(value, list):
            outcome.issues.append(issue("4000001", f"The '{op}' operation on '{path}' needs a value array.", name))
            continue
        if name == "fulfillment_availability":
            quantity = _fulfillment_quantity(value, outcome)
            if quantity is None and not outcome.valid:
                continue
            if op == "merge":
                merged = {e.get("fulfillment_channel_code"): e for e in attrs.get(name, [])}
                merged.update({e["fulfillment_channel_code"]: e for e in value})
                value = list(merged.values())
            if quantity is not None:
                outcome.new_quantity = quantity
        attrs[name] = value
    outcome.attributes = attrs
    return outcome


def stored_attributes(row: sqlite3.Row, marketplace_id: str) -> dict[str, Any]:
    """Attributes as Amazon shows them: the stored ones plus those the sandbox keeps in columns."""
    attrs = json.loads(row["attributes"])
    attrs.setdefault("item_name", [{"value": row["item_name"], "language_tag": "en_US", "marketplace_id": marketplace_id}])
    attrs.setdefault("condition_type", [{"value": row["condition_type"], "marketplace_id": marketplace_id}])
    attrs.setdefault("purchasable_offer", [{
        "currency": "USD", "marketplace_id": marketplace_id,
        "our_price": [{"schedule": [{"value_with_tax": row["price_cents"] / 100}]}],
    }])
    attrs["fulfillment_availability"] = [
        e for e in attrs.get("fulfillment_availability", []) if e.get("fulfillment_channel_code") != "DEFAULT"
    ] + [{"fulfillment_channel_code": "DEFAULT", "quantity": row["quantity"]}]
    return attrs


def apply_patches(sandbox: SandboxContext, db: sqlite3.Connection, sku: str, patches: Any, *, dry_run: bool = False) -> PatchOutcome:
    row = get_listing(db, sku)
    if row is None:
        outcome = PatchOutcome()
        outcome.issues.append(issue("4000003", f"The SKU '{sku}' does not exist for this seller; create it before patching."))
        return outcome
    outcome = plan_patches(json.loads(row["attributes"]), patches)
    if not outcome.valid or dry_run:
        return outcome
    attrs = dict(outcome.attributes or {})
    # The DEFAULT (merchant-fulfilled) quantity lives in its own column; keep only other channels here.
    others = [e for e in attrs.pop("fulfillment_availability", []) if e.get("fulfillment_channel_code") != "DEFAULT"]
    if others:
        attrs["fulfillment_availability"] = others
    if "item_name" in attrs and isinstance(attrs["item_name"], list) and attrs["item_name"]:
        item_name = attrs["item_name"][0].get("value") if isinstance(attrs["item_name"][0], dict) else None
        if isinstance(item_name, str) and item_name:
            db.execute("UPDATE listings SET item_name = ? WHERE sku = ?", (item_name, sku))
    db.execute("UPDATE listings SET attributes = ?, updated_at = ? WHERE sku = ?", (json.dumps(attrs), sandbox.now(), sku))
    if outcome.new_quantity is not None:
        set_sellable_quantity(sandbox, db, sku, outcome.new_quantity)
    return outcome


def render_item(sandbox: SandboxContext, row: sqlite3.Row, included: set[str]) -> dict[str, Any]:
    """A listings ``Item`` with the requested ``includedData`` sections."""
    mkt = sandbox.config.marketplace_id
    item: dict[str, Any] = {"sku": row["sku"]}
    if "summaries" in included:
        item["summaries"] = [{
            "marketplaceId": mkt, "asin": row["asin"], "productType": row["product_type"],
            "conditionType": row["condition_type"],
            "status": ["BUYABLE", "DISCOVERABLE"] if row["quantity"] > 0 else ["DISCOVERABLE"],
            "itemName": row["item_name"], "createdDate": iso(row["created_at"]),
            "lastUpdatedDate": iso(row["updated_at"]),
        }]
    if "attributes" in included:
        item["attributes"] = stored_attributes(row, mkt)
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        item["offers"] = [{
            "marketplaceId": mkt, "offerType": "B2C",
            "price": {"currencyCode": "USD", "amount": f"{row['price_cents'] / 100:.2f}"},
        }]
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [{"fulfillmentChannelCode": "DEFAULT", "quantity": row["quantity"]}]
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = []
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": mkt, "productType": row["product_type"]}]
    return item


# -- HTTP ----------------------------------------------------------------------------


def _check_scope(sandbox: SandboxContext, request: Request, seller_id: str) -> list[str]:
    if seller_id != sandbox.config.seller_id:
        raise SpApiError(403, "Unauthorized", "Access to requested resource is denied.",
                         "The sellerId does not match the selling partner that authorized this application.")
    marketplaces = csv_list(request, "marketplaceIds", required=True, max_items=1)
    if sandbox.config.marketplace_id not in marketplaces:
        raise invalid_input(f"The seller is not registered in marketplace {marketplaces[0]}.")
    return marketplaces


def _included(request: Request, allowed: set[str], default: list[str]) -> set[str]:
    values = csv_list(request, "includedData") or default
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise invalid_input(f"Invalid includedData value(s): {', '.join(unknown)}.")
    return set(values)


@router.get("/listings/2021-08-01/items/{seller_id}")
def search_listings_items(seller_id: str, request: Request,
                          sandbox: SandboxContext = operation("searchListingsItems", error_codes=LISTINGS_ERROR_CODES)) -> JSONResponse:
    """searchListingsItems: the seller's listings by SKU, `pageSize` (1-20, default 10) at
    a time with an opaque `pageToken`; as on Amazon, at most 1,000 can be paged through.
    Reconciliation reads every listing's quantity this way."""
    _check_scope(sandbox, request, seller_id)
    included = _included(request, GET_INCLUDED_DATA, ["summaries"])
    raw_size = single(request, "pageSize") or "10"
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= 20:
        raise invalid_input("pageSize must be between 1 and 20.")
    size = int(raw_size)
    token = single(request, "pageToken")
    offset = 0
    if token:
        try:
            offset = int(bytes.fromhex(token).decode())
        except ValueError:
            raise invalid_input("Invalid pageToken.") from None
    with sandbox.store.tx() as db:
        total = db.execute("SELECT count(*) FROM listings").fetchone()[0]
        rows = db.execute("SELECT * FROM listings ORDER BY sku LIMIT ? OFFSET ?", (size, offset)).fetchall()
    body: dict[str, Any] = {"numberOfResults": total, "items": [render_item(sandbox, r, included) for r in rows]}
    pagination: dict[str, str] = {}
    if offset + size < min(total, 1000):
        pagination["nextToken"] = str(offset + size).encode().hex()
    if offset:
        pagination["previousToken"] = str(max(offset - size, 0)).encode().hex()
    if pagination:
        body["pagination"] = pagination
    return JSONResponse(body)


@router.get("/listings/2021-08-01/items/{seller_id}/{sku:path}")
def get_listings_item(seller_id: str, sku: str, request: Request, sandbox: SandboxContext = operation("getListingsItem", error_codes=LISTINGS_ERROR_CODES)) -> JSONResponse:
    _check_scope(sandbox, request, seller_id)
    included = _included(request, GET_INCLUDED_DATA, ["summaries"])
    with sandbox.store.tx() as db:
        row = get_listing(db, sku)
    if row is None:
        raise not_found(f"SKU '{sku}' not found in marketplace {sandbox.config.marketplace_id}.")
    return JSONResponse(render_item(sandbox, row, included))


@router.patch("/listings/2021-08-01/items/{seller_id}/{sku:path}")
async def patch_listings_item(seller_id: str, sku: str, request: Request, sandbox: SandboxContext = operation("patchListingsItem", error_codes=LISTINGS_ERROR_CODES)) -> JSONResponse:
    _check_scope(sandbox, request, seller_id)
    included = _included(request, PATCH_INCLUDED_DATA, ["issues"])
    mode = request.query_params.get("mode")
    if mode not in (None, "VALIDATION_PREVIEW"):
        raise invalid_input(f"Invalid mode '{mode}'; the only mode is VALIDATION_PREVIEW.")
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_input("A ListingsItemPatchRequest body is required.")
    if not isinstance(body.get("productType"), str) or not body["productType"]:
        raise invalid_input("productType is required.")
    patches = body.get("patches")
    if not isinstance(patches, list) or not patches:
        raise invalid_input("patches must be a non-empty array.")
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS or not isinstance(patch.get("path"), str):
            raise invalid_input("Each patch needs op (add, replace, merge, delete) and path.")
        if "value" in patch and not isinstance(patch["value"], list):
            raise invalid_input("A patch value must be an array.")
    dry_run = mode == "VALIDATION_PREVIEW"
    with sandbox.store.tx() as db:
        outcome = apply_patches(sandbox, db, sku, patches, dry_run=dry_run)
        row = get_listing(db, sku)
    status = ("VALID" if outcome.valid else "INVALID") if dry_run else ("ACCEPTED" if outcome.valid else "INVALID")
    answer: dict[str, Any] = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
    if "issues" in included:
        answer["issues"] = outcome.issues
    if "identifiers" in included:
        answer["identifiers"] = [{"marketplaceId": sandbox.config.marketplace_id, "asin": row["asin"]}] if row else []
    return JSONResponse(answer)
