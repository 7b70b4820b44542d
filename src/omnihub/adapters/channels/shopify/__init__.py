"""Shopify (online store and POS): Admin GraphQL client, payload mapping, webhook
verification and the inventory push. Talks to Shopify (or the sandbox) over HTTP only."""

API_VERSION = "2026-10"
