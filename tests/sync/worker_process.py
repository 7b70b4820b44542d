"""A real `omnihub worker` process on the test's database, and a slow link to a channel.

The worker is started as an operator starts it (the CLI, settings from the environment,
credentials decrypted from the vault), so a SIGKILL kills everything it holds in memory:
buffers, leases, half-sent pushes. The slow link is a loopback HTTP relay in front of a
sandbox that waits before forwarding each call, so a batch is still on the wire when the
test pulls the plug.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from omnihub.adapters.db import tables as t

FAST_SCHEDULES = ("--new-orders-s", "2", "--order-updates-s", "3", "--level-snapshot-s", "4", "--amazon-orders-s", "2",
                  "--new-products-s", "3600", "--product-updates-s", "3600", "--queue-retry-s", "1", "--sweep-s", "1",
                  "--fulfilments-s", "3600")


class WorkerProcess:
    def __init__(self, database_url: str, secret_key: str, log_path: Path, *, lease_s: float = 2.0,
                 log_level: str = "WARNING", log_json: bool = False) -> None:
        env = {**os.environ, "OMNIHUB_DATABASE_URL": database_url, "OMNIHUB_SECRET_KEY": secret_key,
               "OMNIHUB_LOG_LEVEL": log_level, "OMNIHUB_LOG_JSON": "1" if log_json else "0"}
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from omnihub.entrypoints.cli.main import app; app()", "worker", *FAST_SCHEDULES,
             "--lease-s", str(lease_s)], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def terminate(self, timeout: float) -> int:
        """SIGTERM; the exit code (raises if it did not exit within `timeout`)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # every thread's stack into the log (faulthandler, see cli/sync_commands.py)
            time.sleep(1.0)
            self.kill()
            raise AssertionError(f"the worker was still running {timeout} s after SIGTERM; its log ends:\n{self.log()}")
        self._log.close()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def __enter__(self) -> "WorkerProcess":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.kill()


class SlowLink:
    """ASGI relay to `upstream` that waits `delay_s` before each call (0: straight through);
    `calls_started` counts the calls it has been sent. While `down`, the upstream is out:
    every call is answered 503 without reaching it, as a load balancer in front of a
    failed service answers."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.delay_s = 0.0
        self.down = False
        self.calls_started = 0
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            if self._client:
                await self._client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.calls_started += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down:
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"19")]})
            await send({"type": "http.response.body", "body": b"Service Unavailable"})
            return
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60, trust_env=False)
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")]
        query = scope["query_string"].decode()
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        answer = await self._client.request(scope["method"], url, headers=headers, content=body)
        kept = [(k.encode(), v.encode()) for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "content-encoding", "transfer-encoding", "connection")]
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": kept + [(b"content-length", str(len(answer.content)).encode())]})
        await send({"type": "http.response.body", "body": answer.content})


def held_leases(engine) -> dict[str, int]:
    """Pending inbox rows and sync intents claimed under a lease that has not run out."""
    now = datetime.now(UTC)
    out = {}
    with engine.connect() as conn:
        for name, table in (("inbox", t.channel_inbox), ("sync", t.sync_intents)):
            until = conn.execute(sa.select(table.c.lease_until).where(
                table.c.state == "pending", table.c.lease_owner.is_not(None), table.c.lease_until.is_not(None))).scalars()
            out[name] = sum(1 for u in until if (u if u.tzinfo else u.replace(tzinfo=UTC)) > now)
    return out
