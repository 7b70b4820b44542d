"""`omnihub serve` says where the console is, and the console is there: the real command
in a child process, its printed URL opened over HTTP (the sign-in page, and `/` leading
to the console)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.live_server import free_port


def test_serve_prints_the_console_url_and_serves_it(tmp_path):
    port = free_port()
    omnihub = Path(sys.executable).with_name("omnihub")
    env = {**os.environ, "OMNIHUB_PURE_PYTHON": "1", "COLUMNS": "200"}
    env.pop("OMNIHUB_DATABASE_URL", None)
    proc = subprocess.Popen([str(omnihub), "serve", "--port", str(port), "--database-url",
                             f"sqlite:///{tmp_path / 'hub.db'}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=tmp_path)
    try:
        said, url = [], None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            said.append(line)
            found = re.search(r"console\S* on (http://\S+/console/)", line)
            url = found[1] if found else None
        assert url == f"http://127.0.0.1:{port}/console/", "".join(said)
        for _ in range(100):
            try:
                page = httpx.get(url, follow_redirects=True, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert page.status_code == 200 and "<h1>Sign in</h1>" in page.text and str(page.url).startswith(url + "login")
        root = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert root.status_code == 303 and root.headers["location"] == "/console/"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
