"""Shopify webhook authenticity: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the
raw body keyed with the app's client secret. Compared in constant time on the raw bytes
(never on re-serialised JSON, which would not be the bytes Shopify signed)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_authentic(body: bytes, secret: str, header: str | None) -> bool:
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())


def shop_domains(secrets: dict) -> set[str]:
    """The names under which a connected shop's deliveries say who they are from
    (`X-Shopify-Shop-Domain`, e.g. `acme.myshopify.com`): the host of its stored `shop_url`
    (the Admin API is reached at https://<shop>.myshopify.com), and its `shop_domain` when
    one is stored because the Admin API is reached under another address (a sandbox on
    loopback, a proxy). Empty for an entry that is not a Shopify shop's."""
    from urllib.parse import urlsplit

    if not secrets.get("shop_url") or not secrets.get("client_secret"):
        return set()
    names = {normal_domain(urlsplit(str(secrets["shop_url"])).hostname or "")}
    if secrets.get("shop_domain"):
        names.add(normal_domain(str(secrets["shop_domain"])))
    return names - {""}


def normal_domain(value: str | None) -> str:
    return (value or "").strip().rstrip(".").lower()
