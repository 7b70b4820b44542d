"""Walmart Marketplace sandbox: a simulator of the v3 Marketplace APIs a seller's hub uses.

OAuth client-credentials tokens, inventory per SKU and ship node, the bulk inventory
feed, orders from release to delivery, webhook subscriptions and their signed
deliveries, per-API rate limits, all in Walmart's error shape. Another world from the
hub: it imports nothing of omnihub and meets it only over HTTP. Start it with
:func:`omnihub_sandbox.walmart.app.create_app`; README.md beside this file says what it
answers and where it departs from Walmart.
"""
