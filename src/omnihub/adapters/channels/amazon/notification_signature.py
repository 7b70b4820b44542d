"""Authenticity of Amazon SP-API notifications that reach the hub over HTTP.

Why a shared-secret HMAC set by a forwarder, and not Amazon's own signature:

- SP-API delivers notifications only to an SQS queue or an EventBridge bus, never to an
  HTTP endpoint, and the SQS message body (the notification JSON) carries no signature:
  SQS trusts whoever holds the IAM credentials to read the queue. Something must move
  messages from the queue to the hub (a small Lambda on the queue, or a poller beside the
  hub); that forwarder is the only party the hub can authenticate.
- Putting SNS in between (EventBridge → SNS → HTTPS subscription) would give an
  RSA-SHA256 envelope signature, but verifying it needs the certificate at
  SigningCertURL. The hub runs offline, so the certificate would have to be configured by
  hand and re-configured every time AWS rotates it, and the subscription must be
  confirmed by fetching SubscribeURL: two outbound calls the hub cannot make. One missed
  rotation would 401 every notification, silently, until reconciliation noticed.
- EventBridge API destinations can only add a static header (an API key): it proves who
  sent a request but not that the body is the one sent.

So the forwarder POSTs the SQS message body unchanged with
`X-Omnihub-Hmac-Sha256: base64(HMAC-SHA256(notification_secret, raw body))`, the same
construction as Shopify's webhooks. The secret is per channel, stored encrypted with the
channel's other credentials (`notification_secret` in the vault). The digest covers the
raw bytes (never re-serialised JSON) and is compared in constant time. There is no
timestamp: a replayed notification carries its NotificationId and is de-duplicated by the
inbox, and messages legitimately wait in SQS for days, so a freshness window would drop
real ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER = "X-Omnihub-Hmac-Sha256"
SECRET_KEY = "notification_secret"  # the key of the secret in the channel's vault entry


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_authentic(body: bytes, secret: str | None, header: str | None) -> bool:
    """True only when a secret is configured and the header is its digest of these bytes."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())
