"""The chaos day's processes: each started, killed with SIGKILL and restarted like a real
host's supervisor would, its wall seconds and peak RSS kept (children included: the API's
`--workers 2` are processes of their own under uvicorn's manager, which restarts a
worker that died)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from omnihub.benchmarks.scratch_db import rss_mb


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


@dataclass
class Supervised:
    """One program of the system (`omnihub serve`, `omnihub worker`, a simulator)."""

    name: str
    argv: list[str]
    env: dict
    log: Path
    health_url: str | None = None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    starts: int = 0
    kills: int = 0
    exited_by_itself: int | None = None  # the exit code, had the program died unasked (seen at stop)
    _log_file: object = field(default=None, repr=False)

    def start(self, wait_s: float = 120) -> None:
        self._log_file = self.log.open("a")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started_at = time.monotonic()
        self.starts += 1
        if self.health_url:
            self.wait_healthy(wait_s)

    def wait_healthy(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                if httpx.get(self.health_url or "", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {self.health_url} within {wait_s:.0f} s: {self.tail()}")

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> list[int]:
        if not self.alive() or self.proc is None:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def sample(self) -> None:
        self.peak_rss_mb = max(self.peak_rss_mb, sum(rss_mb(p) for p in self.pids()))

    def kill9(self) -> int:
        """SIGKILL, no goodbye: what a crashed host or an OOM killer does. Returns the pid killed."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} is not running")
        pid = self.proc.pid
        os.kill(pid, signal.SIGKILL)
        self.proc.wait(30)
        self._ended()
        self.kills += 1
        return pid

    def kill9_child(self) -> int | None:
        """SIGKILL one child process (one of the API's workers); its manager starts another."""
        kids = children(self.proc.pid) if self.proc else []
        if not kids:
            return None
        os.kill(kids[0], signal.SIGKILL)
        self.kills += 1
        return kids[0]

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:  # every kill -9 is followed by a start: this one died unasked
                self.exited_by_itself = self.proc.returncode
            self._ended()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._ended()

    def _ended(self) -> None:
        if self.started_at:
            self.seconds += time.monotonic() - self.started_at
            self.started_at = 0.0
        if self._log_file is not None:
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None

    def figures(self) -> dict:
        running = time.monotonic() - self.started_at if self.started_at else 0.0
        return {"seconds": round(self.seconds + running, 1), "peak_rss_mb": round(self.peak_rss_mb, 1),
                "starts": self.starts, "kills": self.kills, "exited_by_itself": self.exited_by_itself}


class RssWatch:
    """Samples every supervised program's RSS (with its children) every `interval` s."""

    def __init__(self, programs: list[Supervised], interval: float = 0.5) -> None:
        self.programs = programs
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-rss", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in list(self.programs):
                p.sample()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
