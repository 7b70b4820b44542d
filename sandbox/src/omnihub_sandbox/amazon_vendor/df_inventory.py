"""Direct Fulfillment Inventory v1: submitInventoryUpdate, per warehouse.

``POST /vendor/directFulfillment/inventory/v1/warehouses/{warehouseId}/items`` answers
202 with a transaction. A partial update (``isFullUpdate: false``) sets the items it
names; a full update sets them and makes every item it leaves out unavailable (0), so a
partial list must never be sent as a full one. ``isObsolete: true`` makes an item
unavailable whatever its quantity.

Whether an update will succeed depends only on the update (is the warehouse the
vendor's, is every item the vendor's, is each quantity a count of eaches), so it is
decided when it arrives: the vendor's declaration counts from then (:mod:`.stock`), and
Amazon sells from it only once the transaction has been processed. An update that
fails changes nothing, and its transaction says why, item by item.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import StrictBool

from ..spapi.errors import invalid_input
from ..spapi.lwa import operation
from .bodies import AmazonDocument, JsonInt, NonBlank, PartyIdentification, read_body
from .context import VendorContext
from .items import find_item
from .stock import apply_update, declare
from .transactions import Outcome, error, submit
from .usage_plans import DF_INVENTORY

router = APIRouter()


class AvailableQuantity(AmazonDocument):
    amount: JsonInt | None = None
    unitOfMeasure: NonBlank


class ItemDetails(AmazonDocument):
    buyerProductIdentifier: str | None = None
    vendorProductIdentifier: str | None = None
    availableQuantity: AvailableQuantity
    isObsolete: StrictBool | None = None


class InventoryUpdate(AmazonDocument):
    sellingParty: PartyIdentification
    isFullUpdate: StrictBool
    items: list[ItemDetails]


class SubmitInventoryUpdateRequest(AmazonDocument):
    inventory: InventoryUpdate | None = None


def _decide(vendor: VendorContext, db: sqlite3.Connection, warehouse: str,
            update: InventoryUpdate) -> tuple[list[dict[str, str]], dict[str, int]]:
    problems = []
    if warehouse not in vendor.config.warehouses:
        problems.append(error("InvalidInput", f"Warehouse {warehouse} is not a warehouse of vendor "
                                              f"{vendor.config.vendor_code}.", "warehouseId"))
    if update.sellingParty.partyId != vendor.config.vendor_code:
        problems.append(error("InvalidInput", f"sellingParty {update.sellingParty.partyId} is not this vendor.",
                              "inventory.sellingParty.partyId"))
    quantities: dict[str, int] = {}
    for n, given in enumerate(update.items):
        where = f"inventory.items[{n}]"
        found = find_item(db, given.vendorProductIdentifier, given.buyerProductIdentifier)
        if isinstance(found, str):
            problems.append(error("InvalidInput", found[0].upper() + found[1:] + ".", where))
            continue
        amount = given.availableQuantity.amount
        if given.availableQuantity.unitOfMeasure.lower() != "each":
            problems.append(error("InvalidInput", f"unitOfMeasure {given.availableQuantity.unitOfMeasure} is not "
                                                  "supported: inventory is counted in Each.", where))
        elif amount is None or amount < 0:
            problems.append(error("InvalidInput", "availableQuantity.amount must be a count of 0 or more.", where))
        elif found["sku"] in quantities:
            problems.append(error("InvalidInput", f"Item {found['sku']} appears more than once.", where))
        else:
            quantities[found["sku"]] = 0 if given.isObsolete else amount
    return problems, quantities


@router.post("/vendor/directFulfillment/inventory/v1/warehouses/{warehouse_id}/items", status_code=202)
async def submit_inventory_update(warehouse_id: str, request: Request, vendor: VendorContext = operation(
        f"{DF_INVENTORY}:submitInventoryUpdate")) -> JSONResponse:
    body = await read_body(request, SubmitInventoryUpdateRequest)
    if body.inventory is None:
        raise invalid_input("inventory is required.", "inventory")
    update = body.inventory
    with vendor.store.tx() as db:
        problems, quantities = _decide(vendor, db, warehouse_id, update)
        if not problems:
            declare(db, warehouse_id, quantities, update.isFullUpdate, vendor.now())
        recorded = {"warehouseId": warehouse_id, "body": body.model_dump(mode="json"),
                    "quantities": quantities, "isFullUpdate": update.isFullUpdate}
        transaction_id = submit(vendor, db, "df", "inventory", recorded, decided=Outcome(problems))
        vendor.store.bump("inventory_updates_full" if update.isFullUpdate else "inventory_updates_partial")
    return JSONResponse({"payload": {"transactionId": transaction_id}}, status_code=202)


def process_inventory_update(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                             at: float) -> Outcome:
    """The update succeeded: Amazon now sells from it (:func:`.stock.apply_update`)."""
    changed = apply_update(db, request["warehouseId"], request["quantities"], request["isFullUpdate"], submitted_at)
    return Outcome(result={"items_set": changed})
