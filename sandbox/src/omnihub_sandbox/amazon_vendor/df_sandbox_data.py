"""Direct Fulfillment Sandbox Test Data 2021-10-28: generateOrderScenarios, getOrderScenarios.

A vendor asks for test purchase orders for (sellingParty, shipFromParty) pairs; the
request answers 202 with a transaction, and once it is processed getOrderScenarios
names the orders made, by scenario. They are ordinary NEW purchase orders (getOrders
finds them) but test orders: they take no stock and are never counted as oversold.
The model publishes no usage plan for these operations, so they are not throttled.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.errors import invalid_input
from ..spapi.lwa import operation
from .bodies import AmazonDocument, PartyIdentification, read_body
from .context import VendorContext
from .df_orders import create_order
from .transactions import FAILURE, PROCESSING, SUCCESS, Outcome, find, submit

router = APIRouter()

BASE = "/vendor/directFulfillment/sandbox/2021-10-28"


@dataclass(frozen=True)
class Scenario:
    """What a scenario's test order is like."""

    lines: int
    priority: bool = False
    gift_message: str | None = None
    packing_slip: bool | None = None


SCENARIOS = {
    "SINGLE_ITEM": Scenario(1),
    "MULTIPLE_ITEMS": Scenario(3),
    "PRIORITY_SHIPMENT": Scenario(1, priority=True),
    "GIFT_WITH_PACKING_SLIP": Scenario(2, gift_message="Happy birthday!", packing_slip=True),
}
STATUS_NAMES = {PROCESSING: "PROCESSING", SUCCESS: "SUCCESS", FAILURE: "FAILURE"}


class OrderScenarioRequest(AmazonDocument):
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification


class GenerateOrderScenarioRequest(AmazonDocument):
    orders: list[OrderScenarioRequest] | None = None


@router.post(f"{BASE}/orders", status_code=202)
async def generate_order_scenarios(request: Request, vendor: VendorContext = operation(
        "vendorDirectFulfillmentSandboxData:generateOrderScenarios", rate_limited=False)) -> JSONResponse:
    body = await read_body(request, GenerateOrderScenarioRequest)
    if not body.orders:
        raise invalid_input("orders must list at least one (sellingParty, shipFromParty).")
    for n, wanted in enumerate(body.orders):
        if wanted.sellingParty.partyId != vendor.config.vendor_code:
            raise invalid_input(f"sellingParty {wanted.sellingParty.partyId} is not this vendor.",
                                f"orders[{n}].sellingParty.partyId")
        if wanted.shipFromParty.partyId not in vendor.config.warehouses:
            raise invalid_input(f"shipFromParty {wanted.shipFromParty.partyId} is not a warehouse of this vendor.",
                                f"orders[{n}].shipFromParty.partyId")
    with vendor.store.tx() as db:
        transaction_id = submit(vendor, db, "scenarios", "order_scenarios", body.model_dump(mode="json"))
    return JSONResponse({"transactionId": transaction_id}, status_code=202)


def process_order_scenarios(vendor: VendorContext, db: sqlite3.Connection, request: Any, submitted_at: float,
                            at: float) -> Outcome:
    body = GenerateOrderScenarioRequest.model_validate(request)
    items = db.execute("SELECT * FROM items ORDER BY sku").fetchall()
    rng = random.Random(f"amazon-vendor-scenarios:{vendor.config.seed}:{submitted_at}")
    scenarios = []
    for scenario_id, shape in SCENARIOS.items():
        made = []
        for wanted in body.orders or []:
            chosen = rng.sample(items, min(shape.lines, len(items)))
            po_number = create_order(vendor, db, warehouse=wanted.shipFromParty.partyId, source="scenario",
                                     lines=[(item, rng.randint(1, 3)) for item in chosen], priority=shape.priority,
                                     gift_message=shape.gift_message, packing_slip=shape.packing_slip,
                                     released_at=at, at=at)
            made.append({"orderId": po_number})
        scenarios.append({"scenarioId": scenario_id, "orders": made})
    return Outcome(result={"scenarios": scenarios})


@router.get(f"{BASE}/transactions/{{transaction_id}}")
def get_order_scenarios(transaction_id: str, vendor: VendorContext = operation(
        "vendorDirectFulfillmentSandboxData:getOrderScenarios", rate_limited=False)) -> JSONResponse:
    with vendor.store.tx() as db:
        row = find(db, "scenarios", transaction_id)
    status: dict[str, Any] = {"transactionId": row["transaction_id"], "status": STATUS_NAMES[row["status"]]}
    if row["status"] == SUCCESS and row["result"]:
        status["testCaseData"] = json.loads(row["result"])
    return JSONResponse({"transactionStatus": status})
