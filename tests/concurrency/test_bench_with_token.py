"""`bench orders|ledger --with-token`: every order and movement passes the API's token
resolver first (benchmarks/auth.py), and the run reports the resolver's own cost. The
figures are measured by hand, side by side with runs without (never asserted here)."""

from __future__ import annotations

import json

import pytest

from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from tests.conftest import BACKEND


def _resolver_reported(data: dict) -> None:
    for part in ("bearer_principal_and_decide", "authorize_dependency"):
        figures = data["resolver"][part]
        assert figures["calls"] > 0 and 0 < figures["p50_us"] <= figures["p99_us"], figures


def test_bench_ledger_with_a_token_checks_every_movement(tmp_path):
    out = tmp_path / "ledger.json"
    result = CliRunner().invoke(app, [
        "bench", "ledger", "--backend", BACKEND, "--json", str(out), "--skus", "40", "--locations", "5",
        "--movements", "2000", "--callers", "4", "--writers", "2", "--hot-attempts", "200",
        "--callers-per-writer", "4", "--channels", "0", "--with-token"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["with_token"] is True and data["spread"]["auth_checks"] == data["spread"]["attempts"] > 0
    _resolver_reported(data)


def test_bench_orders_with_a_token_checks_every_order(tmp_path):
    out = tmp_path / "orders.json"
    result = CliRunner().invoke(app, [
        "bench", "orders", "--backend", BACKEND, "--json", str(out), "--orders", "300", "--skus", "200",
        "--locations", "12", "--per-sku", "4", "--callers", "4", "--window", "8", "--with-token"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["with_token"] is True and data["failed"] == 0
    assert data["auth_checks"] >= 300  # each order (and each process's warm-up order)
    per_order = data["cpu_s"] / data["orders"] * 1e6  # cpu_s is rounded to 0.01 s
    assert data["cpu_s"] > 0 and data["cpu_us_per_order"] == pytest.approx(per_order, abs=0.005 / data["orders"] * 1e6 + 0.1)
    _resolver_reported(data)
