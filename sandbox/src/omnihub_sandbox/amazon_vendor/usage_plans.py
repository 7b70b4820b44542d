"""The Vendor simulator's usage plans, as published in each operation's description.

Every direct-fulfilment operation is 10 requests/s with a burst of 10; so is retail
procurement, except getTransaction (10/20). Two models name an operation alike
(``submitAcknowledgement`` is both a direct-fulfilment and a retail operation), and a
bucket is per operation, so each plan is keyed by ``model:operationId``. The Sandbox
Data API publishes no plan and is not throttled here.
"""

from __future__ import annotations

from ..spapi.usage_plans import UsagePlan

DF_ORDERS = "vendorDirectFulfillmentOrders_2021-12-28"
DF_INVENTORY = "vendorDirectFulfillmentInventoryV1"
DF_SHIPPING = "vendorDirectFulfillmentShipping_2021-12-28"
DF_TRANSACTIONS = "vendorDirectFulfillmentTransactions_2021-12-28"
DF_SANDBOX_DATA = "vendorDirectFulfillmentSandboxData_2021-10-28"
RETAIL_ORDERS = "vendorOrders"
RETAIL_SHIPMENTS = "vendorShipments"
RETAIL_TRANSACTIONS = "vendorTransactionStatus"

_TEN = UsagePlan(10, 10)

#: ``model:operationId`` -> the published default plan.
USAGE_PLANS: dict[str, UsagePlan] = {
    f"{DF_ORDERS}:getOrders": _TEN,
    f"{DF_ORDERS}:getOrder": _TEN,
    f"{DF_ORDERS}:submitAcknowledgement": _TEN,
    f"{DF_INVENTORY}:submitInventoryUpdate": _TEN,
    f"{DF_SHIPPING}:submitShipmentConfirmations": _TEN,
    f"{DF_SHIPPING}:submitShipmentStatusUpdates": _TEN,
    f"{DF_SHIPPING}:submitShippingLabelRequest": _TEN,
    f"{DF_SHIPPING}:getShippingLabels": _TEN,
    f"{DF_SHIPPING}:getShippingLabel": _TEN,
    f"{DF_SHIPPING}:createShippingLabels": _TEN,
    f"{DF_SHIPPING}:getPackingSlips": _TEN,
    f"{DF_SHIPPING}:getPackingSlip": _TEN,
    f"{DF_TRANSACTIONS}:getTransactionStatus": _TEN,
    f"{RETAIL_ORDERS}:getPurchaseOrders": _TEN,
    f"{RETAIL_ORDERS}:getPurchaseOrder": _TEN,
    f"{RETAIL_ORDERS}:submitAcknowledgement": _TEN,
    f"{RETAIL_ORDERS}:getPurchaseOrdersStatus": _TEN,
    f"{RETAIL_SHIPMENTS}:SubmitShipmentConfirmations": _TEN,
    f"{RETAIL_TRANSACTIONS}:getTransaction": UsagePlan(10, 20),
}
