"""Amazon Vendor Central sandbox: a simulator of the Selling Partner API for vendors.

A first-party vendor does two things with Amazon, and the simulator serves both:

- **Direct fulfilment**: Amazon's shoppers buy from the stock the vendor declared per
  warehouse; the vendor polls the purchase orders, acknowledges each one whole within
  24 hours, prints labels and packing slips, confirms shipments and keeps Amazon told of
  each warehouse's stock (Orders, Inventory, Shipping, Transactions and Sandbox Data APIs).
- **Retail procurement**: Amazon buys cartons for its fulfilment centres; the vendor
  acknowledges each line (accepted, backordered, rejected) and ships with an ASN
  (Vendor Orders, Vendor Shipments and Vendor Transaction Status APIs).

Every change the vendor submits answers 202 with a transaction that settles later,
Processing then Success or Failure. LWA, usage plans, the error shape and headers are
those of the Seller simulator (``omnihub_sandbox.spapi``). It imports nothing of omnihub
and nothing of the Seller simulator; it meets the hub only over HTTP. Start it with
:func:`omnihub_sandbox.amazon_vendor.app.create_app`.
"""
