"""The request bodies of Direct Fulfillment Shipping 2021-12-28, as its model draws them.

Shared by shipment confirmations, status updates and label requests. Note the model's
own differences from the Orders model: an item's ``itemSequenceNumber`` is an integer
here (``1``), where the order numbers its lines as strings (``"00001"``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StrictBool, StringConstraints

from .bodies import AmazonDocument, DateTimeText, JsonInt, NonBlank, PartyIdentification

PoNumber = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9]+$")]
Decimal = str


class ShippingQuantity(AmazonDocument):
    amount: JsonInt
    unitOfMeasure: NonBlank


class Item(AmazonDocument):
    itemSequenceNumber: JsonInt
    buyerProductIdentifier: str | None = None
    vendorProductIdentifier: str | None = None
    shippedQuantity: ShippingQuantity


class PackedItem(AmazonDocument):
    itemSequenceNumber: JsonInt
    buyerProductIdentifier: str | None = None
    pieceNumber: JsonInt | None = None
    vendorProductIdentifier: str | None = None
    packedQuantity: ShippingQuantity


class Weight(AmazonDocument):
    unitOfMeasure: Literal["KG", "LB"]
    value: Decimal


class Dimensions(AmazonDocument):
    length: Decimal
    width: Decimal
    height: Decimal
    unitOfMeasure: Literal["IN", "CM"]


class Container(AmazonDocument):
    containerType: Literal["Carton", "Pallet"]
    containerIdentifier: NonBlank
    trackingNumber: str | None = None
    manifestId: str | None = None
    manifestDate: str | None = None
    shipMethod: str | None = None
    scacCode: str | None = None
    carrier: str | None = None
    containerSequenceNumber: JsonInt | None = None
    dimensions: Dimensions | None = None
    weight: Weight
    packedItems: list[PackedItem]


class ShipmentDetails(AmazonDocument):
    shippedDate: DateTimeText
    shipmentStatus: Literal["SHIPPED", "FLOOR_DENIAL"]
    isPriorityShipment: StrictBool | None = None
    vendorOrderNumber: str | None = None
    estimatedDeliveryDate: DateTimeText | None = None


class ShipmentConfirmation(AmazonDocument):
    purchaseOrderNumber: PoNumber
    shipmentDetails: ShipmentDetails
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    items: list[Item]
    containers: list[Container] | None = None


class SubmitShipmentConfirmationsRequest(AmazonDocument):
    shipmentConfirmations: list[ShipmentConfirmation] | None = None


class Address(AmazonDocument):
    name: NonBlank
    addressLine1: NonBlank
    countryCode: NonBlank


class StatusUpdateDetails(AmazonDocument):
    trackingNumber: NonBlank
    statusCode: NonBlank
    reasonCode: NonBlank
    statusDateTime: DateTimeText
    statusLocationAddress: Address


class ShipmentStatusUpdate(AmazonDocument):
    purchaseOrderNumber: PoNumber
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    statusUpdateDetails: StatusUpdateDetails


class SubmitShipmentStatusUpdatesRequest(AmazonDocument):
    shipmentStatusUpdates: list[ShipmentStatusUpdate] | None = None


class ShippingLabelRequest(AmazonDocument):
    purchaseOrderNumber: PoNumber
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    containers: list[Container] | None = None


class SubmitShippingLabelsRequest(AmazonDocument):
    shippingLabelRequests: list[ShippingLabelRequest] | None = None


class CreateShippingLabelsRequest(AmazonDocument):
    sellingParty: PartyIdentification
    shipFromParty: PartyIdentification
    containers: list[Container] | None = None
