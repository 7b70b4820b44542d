"""Shopify sandbox: a simulator of the Shopify Admin GraphQL API (2026-10, online store + POS).

It is another world: it imports nothing from the hub and meets it only over HTTP. Build it
with :func:`omnihub_sandbox.shopify.app.create_app`.
"""
