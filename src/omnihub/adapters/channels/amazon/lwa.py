"""Login with Amazon: trade the seller's refresh token for a one-hour access token and
reuse it until shortly before it expires (every SP-API call needs one; asking LWA for a
fresh one per call would double the calls and is rate limited too)."""

from __future__ import annotations

import threading
import time

import httpx

from omnihub.log_redaction import remember_secret


class LwaError(RuntimeError):
    pass


class LwaTokenClient:
    def __init__(self, token_url: str, *, client_id: str, client_secret: str, refresh_token: str,
                 http: httpx.Client | None = None, margin_s: float = 60.0, clock=time.monotonic) -> None:
        self.token_url = token_url
        self._form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                      "client_id": client_id, "client_secret": client_secret}
        self.http = http or httpx.Client(timeout=10)
        self.margin_s = margin_s
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.exchanges = 0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires - self.margin_s:
                answer = self.http.post(self.token_url, data=self._form)
                if answer.status_code != 200:
                    raise LwaError(f"LWA refused the refresh token ({answer.status_code}): {answer.text[:200]}")
                body = answer.json()
                self._token = body["access_token"]
                remember_secret(self._token)  # no log line shows it (log_redaction.py)
                self._expires = self._clock() + float(body.get("expires_in", 3600))
                self.exchanges += 1
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
