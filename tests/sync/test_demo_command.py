"""`omnihub demo` starts the sandboxes, the API and the worker, connects both channels
(the shop's catalog and the seller's Amazon listings) and says where to look; with
--traffic and --run-for it drives shoppers on every channel, lets sync settle, stops and
reports what the sandboxes counted beside the hub's figures. Its state is kept between
starts (--fresh forgets it) and SIGTERM stops every part cleanly.

The demo runs as a real process on free ports with a temporary state directory and
user state folder. No timing is asserted: waits are bounded, generously."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from tests.live_server import free_port

OMNIHUB = str(Path(sys.executable).parent / "omnihub")


def _ports() -> list[str]:
    return [str(free_port()) for _ in range(3)]


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "XDG_STATE_HOME": str(tmp_path / "user-state"), "COLUMNS": "200", "OMNIHUB_DATABASE_URL": ""}


def _demo(tmp_path: Path, state: Path, ports: list[str], *args: str) -> list[str]:
    return [OMNIHUB, "demo", "--state-dir", str(state), "--api-port", ports[0], "--shopify-port", ports[1],
            "--amazon-port", ports[2], "--products", "4", *args]


def _wal_files(state: Path) -> list[str]:
    return sorted(p.name for p in state.iterdir() if p.name.endswith("-wal"))


def _rows(db: Path, sql: str) -> list:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def _count(db: Path, table: str) -> int:
    return _rows(db, f"SELECT count(*) FROM {table}")[0][0]


def test_demo_starts_connects_and_stops(tmp_path):
    ports = [free_port() for _ in range(3)]
    result = CliRunner().invoke(app, ["demo", "--state-dir", str(tmp_path / "demo"), "--api-port", str(ports[0]),
                                      "--shopify-port", str(ports[1]), "--amazon-port", str(ports[2]),
                                      "--products", "3", "--run-for", "1"],
                                env={"COLUMNS": "200", "XDG_STATE_HOME": str(tmp_path / "user-state")})
    assert result.exit_code == 0, result.output
    assert "Shopify (online + POS) and Amazon connected" in result.output
    assert f"http://127.0.0.1:{ports[0]}/api/v1/docs" in result.output
    assert (tmp_path / "demo" / "omnihub.db").exists()
    # its first start made an admin and a token, printed them with the URLs, and kept them for the user only
    creds = json.loads((tmp_path / "demo" / "credentials.json").read_text())
    assert creds["email"] in result.output and creds["password"] in result.output and creds["token"] in result.output
    assert (tmp_path / "demo" / "credentials.json").stat().st_mode & 0o077 == 0
    with closing(sqlite3.connect(tmp_path / "demo" / "omnihub.db")) as conn:
        assert conn.execute("SELECT role FROM users").fetchall() == [("admin",)]
        assert creds["token"] not in str(conn.execute("SELECT * FROM api_tokens").fetchall())


def test_demo_drives_every_channel_and_reports_no_refusal_and_no_oversell(tmp_path):
    state, out = tmp_path / "demo", tmp_path / "report.json"
    done = subprocess.run(_demo(tmp_path, state, _ports(), "--fresh", "--run-for", "15", "--traffic", "3",
                                "--report", str(out)),
                          env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    report = json.loads(out.read_text())
    placed = report["orders_by_channel"]  # as the sandboxes counted them
    assert set(placed) == {"shopify_online", "shopify_pos", "amazon"} and all(placed.values()), report
    assert report["orders_in_hub_by_channel"] == placed and report["orders_missing_in_hub"] == 0, report
    assert report["refused_orders"] == 0 and report["inbox_failures"] == 0, report  # Amazon's own SKUs were imported
    assert report["oversold_units"] == 0, report  # the sandboxes' shelves
    assert report["settled"] is True, report
    for key in ("sync_lag_p50_ms", "sync_lag_p99_ms"):
        assert isinstance(report[key], (int, float)) and report[key] >= 0, report
    # The CLI finds the demo's hub from anywhere: the demo said where it is.
    record = json.loads((tmp_path / "user-state" / "omnihub" / "demo.json").read_text())
    assert record["database_url"].endswith(str(state / "omnihub.db")) and record["state_dir"] == str(state.resolve())
    assert not _wal_files(state)


def test_sigterm_stops_the_demo_cleanly_and_a_restart_keeps_its_orders(tmp_path):
    state, first_ports = tmp_path / "demo", _ports()
    proc = subprocess.Popen(_demo(tmp_path, state, first_ports, "--fresh", "--traffic", "3"), env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api = f"http://127.0.0.1:{first_ports[0]}/api/v1"
    try:
        deadline, orders = time.monotonic() + 300, []
        while time.monotonic() < deadline and proc.poll() is None:
            try:  # the demo's admin token, from the file its first start wrote
                token = json.loads((state / "credentials.json").read_text())["token"]
                orders = httpx.get(api + "/orders", params={"limit": 500}, timeout=5,
                                   headers={"Authorization": f"Bearer {token}"}).json()["items"]
            except (httpx.HTTPError, OSError, ValueError, KeyError):
                orders = []
            if len({o["channel"] for o in orders}) == 3:
                break
            time.sleep(0.5)
        assert len({o["channel"] for o in orders}) == 3, (proc.poll(), orders)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output[-5000:]
    assert not _wal_files(state), sorted(p.name for p in state.iterdir())  # every SQLite file closed cleanly
    db = state / "omnihub.db"
    kept = {(o["channel"], o["external_id"]) for o in orders}
    variants, orders_before = _count(db, "variants"), _count(db, "orders")
    assert orders_before >= len(kept)

    # Again, without --fresh, and on other ports: it reconnects, imports nothing twice, keeps its orders.
    out = tmp_path / "again.json"
    again = subprocess.run(_demo(tmp_path, state, _ports(), "--run-for", "3", "--report", str(out)), env=_env(tmp_path),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-5000:] + again.stderr[-5000:]
    assert "restarted from" in again.stdout
    assert not _wal_files(state)
    report = json.loads(out.read_text())
    assert report["restarted"] is True and report["orders_missing_in_hub"] == 0, report
    assert sum(report["orders_in_hub_by_channel"].values()) >= orders_before, report
    assert _count(db, "variants") == variants  # nothing imported twice
    assert kept <= set(_rows(db, "SELECT channel, external_id FROM orders"))
