"""Delivering queued notifications to subscribers' URLs, authenticated and signed.

Each POST carries the subscription's custom ``headers`` and the authentication its
``authDetails`` chose, as Walmart documents them:

- ``BASIC_AUTH``: header ``authHeaderName`` (default ``Authorization``) =
  ``Basic base64(userName:password)``.
- ``HMAC``: header ``authHeaderName`` = base64 HMAC-SHA256 of the exact body bytes keyed
  with the subscription's ``clientSecret``.
- ``OAUTH``: first a POST to ``authUrl`` with ``grant_type=client_credentials``, header
  ``authHeaderName`` = ``Basic base64(clientId:clientSecret)``, Accept JSON and a form
  Content-Type; its ``access_token`` (kept until ``expires_in`` runs out, dropped on a
  401) then goes in ``authHeaderName`` as ``Bearer <token>``.

Every delivery is also signed: ``WM_SEC.TIMESTAMP`` (Unix seconds) and
``WM_SEC.SIGNATURE`` = base64 HMAC-SHA256, keyed with the sandbox's
``webhook_signing_secret``, over ``METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nhex(sha256(body))``.
A subscriber that does not answer 2xx is tried again later (the wait doubles), up to
``webhook_max_attempts``; network I/O happens outside the store's lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .clock import SandboxClock
from .config import WalmartSandboxConfig
from .store import Store

log = logging.getLogger(__name__)


def canonical_string(method: str, path_and_query: str, timestamp: str, body: bytes) -> str:
    return "\n".join([method.upper(), path_and_query, timestamp, hashlib.sha256(body).hexdigest()])


def signature(secret: str, method: str, path_and_query: str, timestamp: str, body: bytes) -> str:
    """WM_SEC.SIGNATURE of one delivery."""
    digest = hmac.new(secret.encode(), canonical_string(method, path_and_query, timestamp, body).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def body_hmac(client_secret: str, body: bytes) -> str:
    """The HMAC auth method's header value: base64 HMAC-SHA256 of the body."""
    return base64.b64encode(hmac.new(client_secret.encode(), body, hashlib.sha256).digest()).decode()


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass
class _OAuthToken:
    value: str
    expires_at: float


class Deliverer:
    def __init__(self, config: WalmartSandboxConfig, store: Store, clock: SandboxClock) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._oauth: dict[str, _OAuthToken] = {}

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self._config.webhook_timeout_seconds, trust_env=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _oauth_token(self, subscription_id: str, auth: dict[str, Any], headers: dict[str, str]) -> str | None:
        cached = self._oauth.get(subscription_id)
        if cached and cached.expires_at > self._clock.now():
            return cached.value
        credentials = base64.b64encode(f"{auth['clientId']}:{auth['clientSecret']}".encode()).decode()
        try:
            answer = self._http().post(auth["authUrl"], content=b"grant_type=client_credentials", headers={
                **headers, auth.get("authHeaderName") or "Authorization": f"Basic {credentials}",
                "Accept": "application/json; charset=UTF-8",
                "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"})
            if answer.status_code != 200:
                log.info("OAuth token refused by %s: %s", auth["authUrl"], answer.status_code)
                return None
            body = answer.json()
            token = str(body["access_token"])
            lifetime = float(body["expires_in"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.info("OAuth token request to %s failed: %s", auth["authUrl"], exc)
            return None
        self._oauth[subscription_id] = _OAuthToken(token, self._clock.now() + lifetime)
        return token

    def request_headers(self, subscription: dict[str, Any], url: str, body: bytes) -> dict[str, str] | None:
        """The headers of one POST, or None when an OAuth token could not be had."""
        custom = {str(k): str(v) for k, v in json.loads(subscription["headers"]).items()}
        auth = json.loads(subscription["auth"])
        timestamp = str(int(self._clock.now()))
        headers = {"Content-Type": "application/json", **custom, "WM_SEC.TIMESTAMP": timestamp,
                   "WM_SEC.SIGNATURE": signature(self._config.webhook_signing_secret, "POST", path_and_query(url),
                                                 timestamp, body)}
        method = auth.get("authMethod")
        header_name = auth.get("authHeaderName") or "Authorization"
        if method == "BASIC_AUTH":
            pair = base64.b64encode(f"{auth['userName']}:{auth['password']}".encode()).decode()
            headers[header_name] = f"Basic {pair}"
        elif method == "HMAC":
            headers[header_name] = body_hmac(auth["clientSecret"], body)
        elif method == "OAUTH":
            token = self._oauth_token(subscription["subscription_id"], auth, custom)
            if token is None:
                return None
            headers[header_name] = f"Bearer {token}"
        return headers

    def deliver_pending(self, limit: int = 500) -> int:
        """POST every due delivery once; returns how many were delivered."""
        delivered = 0
        with self._lock:
            now = self._clock.now()
            with self._store.tx() as db:
                rows = [dict(r) for r in db.execute(
                    "SELECT d.seq, d.body, d.attempts, s.subscription_id, s.event_url, s.auth, s.headers, s.status "
                    "FROM deliveries d JOIN subscriptions s ON s.subscription_id = d.subscription_id "
                    "WHERE d.delivered_at IS NULL AND d.gave_up = 0 AND d.next_attempt_at <= ? ORDER BY d.seq LIMIT ?",
                    (now, limit))]
            for row in rows:
                status = self._post(row) if row["status"] == "ACTIVE" else None
                delivered += self._settle(row, status)
        return delivered

    def _post(self, row: dict[str, Any]) -> int | None:
        return self.post_once(row, row["event_url"], row["body"].encode())

    def post_once(self, subscription: dict[str, Any], url: str, body: bytes) -> int | None:
        """One authenticated, signed POST; the subscriber's status, or None when it could
        not be reached (or no OAuth token could be had)."""
        headers = self.request_headers(subscription, url, body)
        if headers is None:
            return None
        try:
            answer = self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("delivery to %s failed: %s", url, exc)
            return None
        if answer.status_code == 401:
            self._oauth.pop(subscription["subscription_id"], None)  # a stale token: fetch a new one next time
        return answer.status_code

    def _settle(self, row: dict[str, Any], status: int | None) -> int:
        cfg = self._config
        now = self._clock.now()
        attempts = row["attempts"] + 1
        with self._store.tx() as db:
            if status is not None and 200 <= status < 300:
                db.execute("UPDATE deliveries SET attempts = ?, delivered_at = ?, last_status = ? WHERE seq = ?",
                           (attempts, now, status, row["seq"]))
                self._store.bump("deliveries_delivered")
                return 1
            gave_up = attempts >= cfg.webhook_max_attempts
            wait = cfg.webhook_retry_seconds * 2 ** (attempts - 1)
            db.execute("UPDATE deliveries SET attempts = ?, last_status = ?, gave_up = ?, next_attempt_at = ? "
                       "WHERE seq = ?", (attempts, status, int(gave_up), now + wait, row["seq"]))
            self._store.bump("deliveries_gave_up" if gave_up else "deliveries_failed_attempts")
        return 0
