"""`bench orders|ledger --with-token`: every order and movement passes the API's token
resolver first (benchmarks/auth.py), and the run reports the resolver's own cost;
`--compare-token` runs without and with side by side (benchmarks/token_compared.py).
The figures themselves are never asserted here: they are measured (docs/benchmarks.md)."""

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


def test_bench_orders_compares_without_and_with_a_token_side_by_side(tmp_path):
    out = tmp_path / "compared.json"
    result = CliRunner().invoke(app, [
        "bench", "orders", "--backend", BACKEND, "--json", str(out), "--orders", "200", "--skus", "100",
        "--locations", "8", "--per-sku", "3", "--callers", "2", "--window", "4", "--compare-token", "--rounds", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["sequence"] == ["without", "with", "with", "without"]
    assert [r["with_token"] for r in data["runs"]] == [False, True, True, False]
    assert [r["auth_checks"] > 0 for r in data["runs"]] == [False, True, True, False]
    without, with_ = data["without_token"]["orders_per_s"], data["with_token"]["orders_per_s"]
    assert data["ratio_with_to_without"]["per_round"] == [round(with_[0] / without[0], 3), round(with_[1] / without[1], 3)]
    assert data["ratio_with_to_without"]["of_means"] == round(
        data["with_token"]["orders_per_s_mean"] / data["without_token"]["orders_per_s_mean"], 3)
    assert all(r["failed"] == 0 and r["oversells"] == 0 for r in data["runs"])
    _resolver_reported(data)


def test_bench_ledger_compares_without_and_with_a_token_side_by_side(tmp_path):
    out = tmp_path / "compared.json"
    result = CliRunner().invoke(app, [
        "bench", "ledger", "--backend", BACKEND, "--json", str(out), "--skus", "40", "--locations", "5",
        "--movements", "1000", "--callers", "4", "--writers", "2", "--hot-attempts", "100",
        "--callers-per-writer", "4", "--channels", "0", "--compare-token", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["figure"] == "movements_per_s" and data["sequence"] == ["without", "with"]
    assert [r["spread"]["auth_checks"] for r in data["runs"]][0] == 0 < data["runs"][1]["spread"]["auth_checks"]
    assert data["ratio_with_to_without"]["per_round"] == [
        round(data["with_token"]["movements_per_s"][0] / data["without_token"]["movements_per_s"][0], 3)]
