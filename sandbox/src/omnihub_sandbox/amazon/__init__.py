"""Amazon Seller Central sandbox: a simulator of the Selling Partner API.

It is another world from the hub: it imports nothing of omnihub outside
``omnihub_sandbox.amazon`` and meets the hub only over HTTP. Start it with
:func:`omnihub_sandbox.amazon.app.create_app`.
"""
