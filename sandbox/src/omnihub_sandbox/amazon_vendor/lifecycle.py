"""Bringing the vendor's world up to the current time.

Amazon's processing is modelled as facts about time, not timers: every transaction due
by now is settled at the moment it was due, orders left unacknowledged past their window
are cancelled, and shipments that reached a fulfilment centre are received. This runs
before every SP-API call and on a background tick while served, so results do not
depend on who polls when, and time travel (``/_sandbox/clock/advance``) just works.
"""

from __future__ import annotations

from . import df_inventory, df_labels, df_orders, df_sandbox_data, df_shipments, retail_orders, retail_shipments
from .context import VendorContext
from .transactions import Processor, complete_due

#: transaction kind -> the work its processing does (the kinds of config.DEFAULT_TRANSACTION_SECONDS)
PROCESSORS: dict[str, Processor] = {
    "inventory": df_inventory.process_inventory_update,
    "df_acknowledgement": df_orders.process_acknowledgement,
    "df_shipment_confirmation": df_shipments.process_shipment_confirmations,
    "df_shipment_status": df_shipments.process_shipment_status_updates,
    "df_shipping_label": df_labels.process_shipping_label_requests,
    "order_scenarios": df_sandbox_data.process_order_scenarios,
    "retail_acknowledgement": retail_orders.process_acknowledgement,
    "retail_shipment_confirmation": retail_shipments.process_shipment_confirmations,
}


def catch_up(vendor: VendorContext) -> None:
    complete_due(vendor, PROCESSORS)
    df_orders.cancel_unacknowledged(vendor)
    retail_shipments.receive_due(vendor)
