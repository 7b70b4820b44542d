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
