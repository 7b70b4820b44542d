"""A short chaos day, for real: `omnihub chaos` as a process, which starts the API
(`serve --workers 2`), the worker and both simulators as processes of their own, injects
every fault of the day at its seeded time (on PostgreSQL a restart of the database too)
and counts from the simulators' records."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import BACKEND

KEYS = ("orders_by_channel", "orders_lost", "orders_duplicated", "oversold_units", "discrepancies_found",
        "discrepancies_fixed", "discrepancies_open_at_end", "sync_lag_p50_ms", "sync_lag_p99_ms", "reconcile_runs",
        "faults_injected", "processes", "seconds")


def test_a_short_chaos_day_ends_with_nothing_lost_doubled_oversold_or_open(tmp_path):
    backend = BACKEND  # PostgreSQL: a server of the day's own (entrypoints/chaos/private_postgres.py), restarted mid-day
    out, page = tmp_path / "day.json", tmp_path / "day.html"
    done = subprocess.run([sys.executable, "-c", "from omnihub.entrypoints.cli.main import app; app()", "chaos",
                           "--hours", "1", "--speed", "60", "--seed", "3", "--skus", "200", "--peak-orders-per-s", "3",
                           "--settle-s", "180", "--backend", backend, "--json", str(out), "--html", str(page)],
                          capture_output=True, text=True, timeout=880)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    day = json.loads(out.read_text())
    assert all(k in day for k in KEYS)
    assert sum(day["orders_by_channel"].values()) > 50 and all(day["orders_by_channel"].values())
    assert day["orders_lost"] == 0
    assert day["orders_duplicated"] == 0
    assert day["oversold_units"] == 0
    assert day["discrepancies_open_at_end"] == 0, day["discrepancies_open_sample"]
    faults = day["faults_injected"]
    for kind in ("webhook_chaos", "worker_kill", "admin_edit", "erp_snapshot", "shopify_outage", "amazon_429_storm",
                 "api_kill"):
        assert faults.get(kind, 0) >= 1, kind
    assert faults["webhook_lost"] > 0 and faults["webhook_duplicated"] > 0
    assert "amazon_notification_lost" in faults and "amazon_notification_duplicated" in faults
    assert day["processes"]["worker"]["starts"] == 2 and day["processes"]["worker"]["kills"] == 1
    assert day["processes"]["api"]["kills"] == 1
    # Nothing died unasked (a worker that gave up on its database would have)
    assert all(p["exited_by_itself"] is None for p in day["processes"].values()), day["processes"]
    if backend == "postgresql":  # the day's own server, stopped and started again mid-day
        assert faults.get("database_restart") == 1, faults
        assert [f["down_s"] for f in day["fault_log"] if f["kind"] == "database_down"][0] >= 3
    else:
        assert "database_restart" not in faults
    assert day["sync_lag_probes"] > 0
    for channel in ("shopify", "amazon_seller"):  # each measured from its own simulator's record
        lag = day["sync_lag_by_channel"][channel]
        assert lag["probes"] > 0 and lag["sync_lag_p50_ms"] is not None and lag["sync_lag_p99_ms"] >= lag["sync_lag_p50_ms"]
    assert day["reconcile_runs"] >= 2
    html = page.read_text()
    assert html.count("<svg") >= 4 and "<script" not in html
