"""`omnihub serve` and `omnihub worker` stop gracefully on SIGTERM and SIGINT: exit code 0,
the hub closed, SQLite's write-ahead log checkpointed and removed (no -wal file left).
(`omnihub demo`: test_demo_command.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

OMNIHUB = str(Path(sys.executable).parent / "omnihub")


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "COLUMNS": "200", "OMNIHUB_DATABASE_URL": ""}


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stdout.read() if proc.stdout else ''}")
        if predicate():
            return
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("did not get ready in time")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_gracefully(tmp_path, sig):
    db, port = tmp_path / "hub.db", free_port()
    proc = subprocess.Popen([OMNIHUB, "serve", "--port", str(port), "--sample", "--database-url", f"sqlite:///{db}"],
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), proc)
        made = subprocess.run([OMNIHUB, "tokens", "create", "--name", "probe", "--role", "read_only",
                               "--database-url", f"sqlite:///{db}"], env=_env(tmp_path), capture_output=True, text=True)
        assert made.returncode == 0, made.stdout + made.stderr
        token = made.stdout.strip().splitlines()[-1]  # alone on the last line
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/locations", timeout=10).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/locations", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert db.exists() and not Path(str(db) + "-wal").exists(), sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_worker_stops_gracefully(tmp_path, sig):
    db = tmp_path / "hub.db"
    proc = subprocess.Popen([OMNIHUB, "worker", "--database-url", f"sqlite:///{db}"], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: db.exists() and Path(str(db) + "-wal").exists(), proc)  # open, writing its log
        time.sleep(1.0)  # past start-up: the schedules and senders run
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert not Path(str(db) + "-wal").exists(), sorted(p.name for p in tmp_path.iterdir())
